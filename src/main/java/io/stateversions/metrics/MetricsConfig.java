package io.stateversions.metrics;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The metrics of the service (README "Metrics"). */
@ConfigMapping(prefix = "stateversions.metrics")
public interface MetricsConfig {

    /**
     * Most shards that get per-shard series ({@code stateversions_shard_*{shard=…}}, 25 per shard), the first to
     * commit on this replica; 0 (the default) turns them off. The replica-wide aggregates
     * ({@code stateversions_shards_max}, {@code stateversions_shards_summed}) cover every shard either way.
     */
    @WithDefault("0")
    int maxShards();
}
