package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A rollup: the last segment of its blob key. Printed {@code r<uuid>} (spec §2). */
public record RollupId(UUID uuid) implements Comparable<RollupId> {

    public RollupId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static RollupId random() {
        return new RollupId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code r} is required. */
    public static RollupId parse(String printed) {
        return new RollupId(Ids.parse("rollup id", "r", printed));
    }

    @Override
    public int compareTo(RollupId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("r", uuid);
    }
}
