package io.stateversions.metrics;

import io.micrometer.core.instrument.config.MeterFilter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** What Quarkus' own binders register that the scrape is better without (README "Metrics"). */
public class MeterFilters {

    /**
     * The Vert.x SQL client's request meters. Quarkus names their families after each client's metrics name, so the
     * consensus pool's show as {@code state_versions_consensus_*} and an unnamed connection's as {@code m__*}: two
     * families per meter, and one of them nameless. They count what {@code stateversions_consensus_operation_seconds}
     * times by operation and outcome; the pool's own meters ({@code sql_pool_*}) stay.
     */
    @Produces
    @Singleton
    MeterFilter noSqlClientRequests() {
        return MeterFilter.deny(id -> "sql".equals(id.getTag("clientType")));
    }
}
