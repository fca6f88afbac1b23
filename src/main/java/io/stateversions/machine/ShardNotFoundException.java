package io.stateversions.machine;

import io.stateversions.core.ShardId;

/** The shard has no versions: it was never initialized (only opening a shard initializes it). */
public final class ShardNotFoundException extends RuntimeException {

    private final ShardId shard;

    public ShardNotFoundException(ShardId shard) {
        super("shard " + shard + " is not initialized", null, false, false);
        this.shard = shard;
    }

    public ShardId shard() {
        return shard;
    }
}
