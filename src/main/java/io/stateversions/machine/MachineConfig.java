package io.stateversions.machine;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** The knobs of the per-shard machines and of the API calls they serve. */
@ConfigMapping(prefix = "stateversions.machine")
public interface MachineConfig {

    /** The most commands applied in one transition (one compare-and-set). */
    @WithDefault("256")
    int maxBatchSize();

    /**
     * The most commands queued for one shard, and apart from them the most waiting for its machine to load (which
     * retries storage failures for as long as they last); beyond it calls fail at once with storage_unavailable.
     */
    @WithDefault("10000")
    int maxQueuedCommands();

    /** How often a batch whose compare-and-set failed indeterminately is refreshed and retried. */
    @WithDefault("5")
    int indeterminateRetries();

    /** The longest backoff between those retries, in milliseconds. */
    @WithDefault("1000")
    long indeterminateBackoffMaxMs();

    /**
     * How long an API call waits for its shard's machine. A mutation not done by then answers
     * {@code outcome_unknown} (it may still commit); a read answers {@code storage_unavailable}.
     */
    @WithDefault("10s")
    Duration requestTimeout();

    /**
     * The most shards whose machine (cached state) this replica keeps; beyond it the least recently used idle ones
     * are evicted, and reload from storage on their next use.
     */
    @WithDefault("20000")
    int maxCachedShards();

    /**
     * The most heap the machines of this replica may hold, by an estimate of each one's state ({@link RetainedSize});
     * beyond it the least recently used idle ones are evicted. A machine in use is kept, and a shard larger than the
     * whole budget is still served. Unset: a quarter of the maximum heap.
     */
    Optional<MemorySize> maxCachedBytes();

    /** A shard's machine with no command for this long is evicted (it reloads on its next use). */
    @WithDefault("10m")
    Duration evictIdleAfter();

    /**
     * The most bytes of appends and merges queued across this replica's shards (their batches' estimated encoded
     * size), counting those waiting for their shard's machine to load; beyond it calls fail at once with
     * storage_unavailable. Unset: a tenth of the maximum heap.
     */
    Optional<MemorySize> maxQueuedBytes();
}
