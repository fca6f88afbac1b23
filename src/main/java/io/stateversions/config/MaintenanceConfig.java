package io.stateversions.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The scheduled maintenance sweep over quiet shards (commit-triggered maintenance needs no configuration). */
@ConfigMapping(prefix = "stateversions.maintenance")
public interface MaintenanceConfig {

    /**
     * How often each replica sweeps the shards: expire lapsed handles, then roll up and garbage-collect shards with
     * no commit for {@link #idleAfter}. {@code off} disables the sweep. Read by the scheduler as a string.
     */
    @WithDefault("5m")
    String sweepInterval();

    /** A shard with no commit for this long is swept; busier shards maintain themselves through their commits. */
    @WithDefault("5m")
    Duration idleAfter();

    /** Shards swept at once by one replica. */
    @WithDefault("4")
    int sweepConcurrency();
}
