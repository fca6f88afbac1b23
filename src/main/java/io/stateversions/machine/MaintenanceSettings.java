package io.stateversions.machine;

import java.time.Duration;
import java.util.OptionalInt;

/**
 * A {@link MaintenanceConfig} given in code rather than read from configuration: the command-line tool's offline
 * mode, which never sweeps, and tests.
 */
public record MaintenanceSettings(String sweepInterval, Duration idleAfter, int sweepConcurrency, int sweepMaxShards,
        Duration leakedBlobGrace, Duration leakedBlobMinGrace, OptionalInt cpuThreads) implements MaintenanceConfig {

    /** The defaults of {@link MaintenanceConfig} with the scheduled sweep off. */
    public static final MaintenanceSettings SWEEP_OFF = new MaintenanceSettings("off", Duration.ofMinutes(5), 4, 1000,
            Duration.ofHours(1), Duration.ofMinutes(15), OptionalInt.empty());

    public MaintenanceSettings withLeakedBlobMinGrace(Duration minGrace) {
        return new MaintenanceSettings(sweepInterval, idleAfter, sweepConcurrency, sweepMaxShards, leakedBlobGrace,
                minGrace, cpuThreads);
    }
}
