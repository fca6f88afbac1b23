package io.stateversions.machine;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.OptionalInt;

/**
 * The scheduled sweep over quiet shards ({@link IdleSweeper}), the leaked-blob sweep ({@link LeakedBlobSweeper}) and
 * the threads that do the CPU-heavy part of maintenance. Commit-triggered maintenance ({@link Maintenance}) needs no
 * other configuration.
 */
@ConfigMapping(prefix = "stateversions.maintenance")
public interface MaintenanceConfig {

    /**
     * How often each replica sweeps shards ({@link #sweepMaxShards} of them): expire lapsed handles, then roll up and
     * garbage-collect shards with no commit for {@link #idleAfter}. {@code off} disables the sweep. Read by the
     * scheduler as a string.
     */
    @WithDefault("5m")
    String sweepInterval();

    /** A shard with no commit for this long is swept; busier shards maintain themselves through their commits. */
    @WithDefault("5m")
    Duration idleAfter();

    /** Shards swept at once by one replica. */
    @WithDefault("4")
    int sweepConcurrency();

    /**
     * The most shards one replica visits in one sweep, continuing from where its previous sweep stopped: every shard
     * is visited by every replica once in {@code shards / sweepMaxShards} sweeps.
     */
    @WithDefault("1000")
    int sweepMaxShards();

    /**
     * How old an unreferenced blob must be before a leaked-blob sweep deletes it, when the call names no grace:
     * longer than any writer takes from writing a blob to linking it into state, plus the clock skew to the blob
     * store. Not negative.
     */
    @WithDefault("1h")
    Duration leakedBlobGrace();

    /**
     * The least grace a leaked-blob sweep may be asked for; a call asking for less is refused. It bounds how long a
     * client may take from writing a blob (a part, a compaction output) to linking it into state. At most
     * {@link #leakedBlobGrace}.
     */
    @WithDefault("15m")
    Duration leakedBlobMinGrace();

    /**
     * Threads that encode and decode rollups and replay diffs (rollups, GC, reading an old version, loading a shard)
     * off the event loops that serve requests. Unset: half the available processors, at least 2.
     */
    OptionalInt cpuThreads();
}
