package io.stateversions.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.testing.TestStates;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The shard meters of {@link StateMetrics}: the replica-wide aggregates always, per-shard series only for the first
 * {@code max-shards} shards (none by default), and a forgotten shard leaving both.
 */
class StateMetricsTest {

    /** Every per-shard gauge (persist's shard metrics and our additions). */
    private static final List<String> SHARD_GAUGES = List.of("seqno", "since", "upper", "seqnos.held",
            "seqnos.since.last.rollup", "batch.count", "hollow.batch.count", "batch.part.count", "rewrite.part.count",
            "update.count", "rollup.count", "largest.batch.size.bytes", "batches.bytes", "rollups.bytes",
            "inline.part.count", "inline.bytes", "live.writers", "leased.readers", "critical.readers", "schema.count",
            "compact.batches", "compacting.batches", "noncompact.batches", "latest.rollup.size.bytes");

    private final MeterRegistry registry = new SimpleMeterRegistry();

    /** A shard at v{@code seqno} with batches of these update counts. */
    private static State shard(long seqno, long... batchLens) {
        State initial = TestStates.initial();
        return TestStates.at(TestStates.with(initial, b -> b.trace(TestStates.trace(batchLens))), seqno);
    }

    private double max(String stat) {
        return registry.get("stateversions.shards.max").tag("stat", stat).gauge().value();
    }

    private double summed(String stat) {
        return registry.get("stateversions.shards.summed").tag("stat", stat).gauge().value();
    }

    private double shards() {
        return registry.get("stateversions.shards").gauge().value();
    }

    @Test
    void by_default_shards_are_aggregated_and_have_no_series_of_their_own() {
        StateMetrics metrics = new StateMetrics(registry, 0);
        assertThat(shards()).isZero();
        assertThat(max("batch_count")).isZero();

        metrics.committed(shard(5, 1, 2, 3), 100);
        metrics.committed(shard(9, 4), 100);

        assertThat(shards()).isEqualTo(2);
        assertThat(max("batch_count")).isEqualTo(3);
        assertThat(summed("batch_count")).isEqualTo(4);
        assertThat(summed("update_count")).isEqualTo(10);
        assertThat(max("rollup_count")).isEqualTo(1);
        assertThat(registry.find("stateversions.shard.seqno").gauges()).isEmpty();
        assertThat(registry.find("stateversions.shard.encoded.diff.size").counters()).isEmpty();
        assertThat(registry.find("stateversions.shard.metrics.dropped").counters()).isEmpty();
    }

    @Test
    void per_shard_series_are_kept_for_the_first_max_shards_shards_and_leave_when_forgotten() {
        StateMetrics metrics = new StateMetrics(registry, 2);
        State a = shard(5, 1, 2, 3);
        State b = shard(6, 1);
        State c = shard(7, 1);
        metrics.committed(a, 100);
        metrics.committed(b, 10);
        metrics.committed(c, 10);
        metrics.committed(c, 10);

        String shardA = a.shardId().toString();
        for (String gauge : SHARD_GAUGES) {
            assertThat(registry.find("stateversions.shard." + gauge).tag("shard", shardA).gauge()).as(gauge)
                    .isNotNull();
        }
        assertThat(registry.get("stateversions.shard.seqno").tag("shard", shardA).gauge().value()).isEqualTo(5);
        assertThat(registry.get("stateversions.shard.batch.count").tag("shard", shardA).gauge().value())
                .isEqualTo(3);
        assertThat(registry.get("stateversions.shard.encoded.diff.size").tag("shard", shardA).counter().count())
                .isEqualTo(100);
        assertThat(registry.find("stateversions.shard.seqno").tag("shard", c.shardId().toString()).gauge()).isNull();
        assertThat(registry.get("stateversions.shard.metrics.dropped").counter().count()).isEqualTo(1);
        assertThat(shards()).isEqualTo(3);

        metrics.forget(a.shardId());
        assertThat(registry.find("stateversions.shard.seqno").tag("shard", shardA).gauge()).isNull();
        assertThat(shards()).isEqualTo(2);
        // Its place goes to the next shard to commit.
        ShardId d = ShardId.random();
        metrics.committed(TestStates.at(TestStates.initial(d), 2), 10);
        assertThat(registry.find("stateversions.shard.seqno").tag("shard", d.toString()).gauge()).isNotNull();
    }

    @Test
    void a_negative_cap_is_refused() {
        assertThatThrownBy(() -> new StateMetrics(registry, -1)).hasMessageContaining("-1");
    }
}
