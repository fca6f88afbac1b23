package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A batch part: the last segment of its blob key. Printed {@code p<uuid>} (spec §2). */
public record PartId(UUID uuid) implements Comparable<PartId> {

    public PartId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static PartId random() {
        return new PartId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code p} is required. */
    public static PartId parse(String printed) {
        return new PartId(Ids.parse("part id", "p", printed));
    }

    @Override
    public int compareTo(PartId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("p", uuid);
    }
}
