package io.stateversions.machine;

import io.stateversions.core.ShardId;

/** A shard has more commands queued than allowed (its storage is slow or down); the command was not queued. */
public final class MachineOverloadedException extends RuntimeException {

    public MachineOverloadedException(ShardId shard, int limit) {
        super("shard " + shard + " has " + limit + " commands queued already; not queued", null, false, false);
    }
}
