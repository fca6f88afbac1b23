package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A leased reader handle. Printed {@code r<uuid>} (spec §2). */
public record LeasedReaderId(UUID uuid) implements Comparable<LeasedReaderId> {

    public LeasedReaderId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static LeasedReaderId random() {
        return new LeasedReaderId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code r} is required. */
    public static LeasedReaderId parse(String printed) {
        return new LeasedReaderId(Ids.parse("leased reader id", "r", printed));
    }

    @Override
    public int compareTo(LeasedReaderId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("r", uuid);
    }
}
