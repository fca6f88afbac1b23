package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A shard: also its Consensus key (the printed form) and the first segment of its blob keys. Printed {@code s<uuid>} (spec §2). */
public record ShardId(UUID uuid) implements Comparable<ShardId> {

    public ShardId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static ShardId random() {
        return new ShardId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code s} is required. */
    public static ShardId parse(String printed) {
        return new ShardId(Ids.parse("shard id", "s", printed));
    }

    @Override
    public int compareTo(ShardId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("s", uuid);
    }
}
