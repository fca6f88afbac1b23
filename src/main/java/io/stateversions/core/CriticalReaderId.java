package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A critical reader handle. Printed {@code c<uuid>} (spec §2). */
public record CriticalReaderId(UUID uuid) implements Comparable<CriticalReaderId> {

    public CriticalReaderId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static CriticalReaderId random() {
        return new CriticalReaderId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code c} is required. */
    public static CriticalReaderId parse(String printed) {
        return new CriticalReaderId(Ids.parse("critical reader id", "c", printed));
    }

    @Override
    public int compareTo(CriticalReaderId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("c", uuid);
    }
}
