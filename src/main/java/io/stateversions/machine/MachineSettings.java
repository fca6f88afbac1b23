package io.stateversions.machine;

import io.quarkus.runtime.configuration.MemorySize;
import java.math.BigInteger;
import java.time.Duration;
import java.util.Optional;

/**
 * A {@link MachineConfig} given in code rather than read from configuration (the command-line tool's offline mode,
 * tests): the service's defaults, changed with the {@code with} methods.
 */
public record MachineSettings(int maxBatchSize, int maxQueuedCommands, int indeterminateRetries,
        long indeterminateBackoffMaxMs, Duration requestTimeout, int maxCachedShards,
        Optional<MemorySize> maxCachedBytes, Duration evictIdleAfter, Optional<MemorySize> maxQueuedBytes)
        implements MachineConfig {

    /** The defaults of {@link MachineConfig}. */
    public static final MachineSettings DEFAULTS = new MachineSettings(256, 10_000, 5, 1000, Duration.ofSeconds(10),
            20_000, Optional.empty(), Duration.ofMinutes(10), Optional.empty());

    public MachineSettings withMaxBatchSize(int max) {
        return new MachineSettings(max, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, maxCachedBytes, evictIdleAfter, maxQueuedBytes);
    }

    public MachineSettings withMaxQueuedCommands(int max) {
        return new MachineSettings(maxBatchSize, max, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, maxCachedBytes, evictIdleAfter, maxQueuedBytes);
    }

    public MachineSettings withIndeterminateRetries(int retries, long backoffMaxMs) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, retries, backoffMaxMs, requestTimeout,
                maxCachedShards, maxCachedBytes, evictIdleAfter, maxQueuedBytes);
    }

    public MachineSettings withRequestTimeout(Duration timeout) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                timeout, maxCachedShards, maxCachedBytes, evictIdleAfter, maxQueuedBytes);
    }

    public MachineSettings withCache(int maxShards, Duration idleAfter) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxShards, maxCachedBytes, idleAfter, maxQueuedBytes);
    }

    public MachineSettings withMaxQueuedBytes(long bytes) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, maxCachedBytes, evictIdleAfter, size(bytes));
    }

    public MachineSettings withMaxCachedBytes(long bytes) {
        return new MachineSettings(maxBatchSize, maxQueuedCommands, indeterminateRetries, indeterminateBackoffMaxMs,
                requestTimeout, maxCachedShards, size(bytes), evictIdleAfter, maxQueuedBytes);
    }

    private static Optional<MemorySize> size(long bytes) {
        return Optional.of(new MemorySize(BigInteger.valueOf(bytes)));
    }
}
