package io.stateversions.testing;

import io.stateversions.machine.MachineConfig;
import java.time.Duration;

/** A {@link MachineConfig} with every knob given: the service's defaults, changed with the {@code with} methods. */
public record MachineSettings(int maxBatchSize, int maxQueuedCommands, int indeterminateRetries,
        long indeterminateBackoffMaxMs, Duration requestTimeout, int maxCachedShards, Duration evictIdleAfter)
        implements MachineConfig {

    /** The defaults of {@link MachineConfig}, with the backoff between indeterminate retries shortened to 10 ms. */
    public static final MachineSettings DEFAULTS = new MachineSettings(256, 10_000, 5, 10, Duration.ofSeconds(10),
            20_000, Duration.ofMinutes(10));

    public MachineSettings withMaxBatchSize(int max) {
        return new MachineSettings(max, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, evictIdleAfter);
    }

    public MachineSettings withMaxQueuedCommands(int max) {
        return new MachineSettings(maxBatchSize, max, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, evictIdleAfter);
    }

    public MachineSettings withIndeterminateRetries(int retries, long backoffMaxMs) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, retries, backoffMaxMs, requestTimeout,
                maxCachedShards, evictIdleAfter);
    }

    public MachineSettings withRequestTimeout(Duration timeout) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                timeout, maxCachedShards, evictIdleAfter);
    }

    public MachineSettings withCache(int maxShards, Duration idleAfter) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxShards, idleAfter);
    }
}
