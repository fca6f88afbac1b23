package io.stateversions.machine;

import io.stateversions.core.ShardId;

/**
 * A command was refused at once, certainly not done, because too much is queued: its shard has
 * {@link MachineConfig#maxQueuedCommands} commands queued, or waiting for its machine to load (its storage is slow or
 * down), or the replica has {@link MachineConfig#maxQueuedBytes} of appends and merges queued or waiting across its
 * shards. See {@link Machines}, "Commands waiting for a load".
 */
public final class MachineOverloadedException extends RuntimeException {

    public MachineOverloadedException(ShardId shard, int limit) {
        super("shard " + shard + " has " + limit + " commands queued already; not queued", null, false, false);
    }

    public MachineOverloadedException(long commandBytes, long queuedBytes, long maxBytes) {
        super("this replica has " + queuedBytes + " bytes of appends and merges queued (its cap is " + maxBytes
                + "); this command's " + commandBytes + " bytes were not queued", null, false, false);
    }
}
