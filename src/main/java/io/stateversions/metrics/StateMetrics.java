package io.stateversions.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.stateversions.core.Frontier;
import io.stateversions.core.ShardId;
import io.stateversions.core.ShardStats;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.stateversions.StateVersionsMetrics;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.ToDoubleFunction;

/**
 * The meters of the state layer: the shards' sizes after every committed CaS (persist's shard metrics, spec §18.1)
 * and the counters of the fetch and rollup paths.
 *
 * <p>Shard sizes are reported replica-wide by default: {@code stateversions_shards} (the shards this replica holds
 * the committed state of), and for each statistic of {@link ShardStats} its largest value over those shards
 * ({@code stateversions_shards_max{stat=…}}) and its sum ({@code stateversions_shards_summed{stat=…}}): a fixed
 * number of series however many shards there are, and what alerts need (the shard holding GC back shows in the
 * maximum of {@code seqnos_held}). Per-shard series ({@code stateversions_shard_*} with a {@code shard} tag, 25 per
 * shard) are for debugging: off unless {@code stateversions.metrics.max-shards} is above 0, and then kept for at most
 * that many shards, the first to commit; later ones are counted in {@code stateversions_shard_metrics_dropped_total}.
 * A shard leaves both when its machine leaves this replica ({@link #forget}). An empty frontier ({@code {}}) is
 * reported as -1.
 */
@Singleton
public class StateMetrics implements StateVersionsMetrics {

    /** A statistic of {@link ShardStats}, reported per shard and aggregated over shards under {@code name}. */
    private record Stat(String name, String description, ToDoubleFunction<ShardStats> value) {}

    private static final List<Stat> STATS = List.of(
            new Stat("seqnos_held", "Versions kept alive by leased readers' seqno holds", ShardStats::seqnosHeld),
            new Stat("seqnos_since_last_rollup", "Versions since the latest rollup", ShardStats::seqnosSinceLastRollup),
            new Stat("batch_count", "Batches in the trace", ShardStats::batchCount),
            new Stat("hollow_batch_count", "Non-empty batches in the trace", ShardStats::nonEmptyBatchCount),
            new Stat("batch_part_count", "Batch parts", ShardStats::partCount),
            new Stat("rewrite_part_count", "Batch parts with rewritten timestamps", ShardStats::rewritePartCount),
            new Stat("update_count", "Updates in all batches", ShardStats::updateCount),
            new Stat("rollup_count", "Rollups in state", ShardStats::rollupCount),
            new Stat("largest_batch_size_bytes", "Bytes of the largest batch", ShardStats::largestBatchBytes),
            new Stat("batches_bytes", "Bytes of all batches of the current state", ShardStats::batchBytes),
            new Stat("rollups_bytes", "Bytes of the rollups the current state refers to", ShardStats::rollupBytes),
            new Stat("inline_part_count", "Inline parts kept in state", ShardStats::inlinePartCount),
            new Stat("inline_bytes", "Bytes of inline parts kept in state", ShardStats::inlineBytes),
            new Stat("live_writers", "Registered writers", ShardStats::writerCount),
            new Stat("leased_readers", "Registered leased readers", ShardStats::leasedReaderCount),
            new Stat("critical_readers", "Registered critical readers", ShardStats::criticalReaderCount),
            new Stat("schema_count", "Registered schemas", ShardStats::schemaCount),
            new Stat("compact_batches", "Batches that are one sorted run and not being merged",
                    s -> s.spine().compactBatches()),
            new Stat("compacting_batches", "Batches in an outstanding merge request",
                    s -> s.spine().compactingBatches()),
            new Stat("noncompact_batches", "Batches of several runs not being merged",
                    s -> s.spine().noncompactBatches()));

    /**
     * The latest committed state of one shard. A commit only stores the reference; its stats (a pass over every
     * batch) are computed when the gauges are read, at most once per committed state, so the commit path does none
     * of that work.
     */
    private static final class ShardGauges {
        volatile State state;
        volatile long latestRollupBytes;
        /** The per-shard series, if the shard has them; null otherwise. */
        final Counter encodedDiffBytes;
        /** Every series of the shard, to remove them with it. */
        final List<Meter> meters = new ArrayList<>();
        private State statsOf;
        private ShardStats stats;

        ShardGauges(Counter encodedDiffBytes) {
            this.encodedDiffBytes = encodedDiffBytes;
        }

        /** The stats of the latest state; null before the first commit is stored. */
        synchronized ShardStats stats() {
            State current = state;
            if (current != null && current != statsOf) {
                stats = current.stats();
                statsOf = current;
            }
            return stats;
        }
    }

    /**
     * One pass over the shards: their number and, for each of {@link #STATS}, its largest value and its sum. A scrape
     * reads the 41 gauges of the aggregates one after another; each gauge reads a pass at most once, and a gauge that
     * finds the latest pass already read by it makes a new one. So a scrape costs one pass over the shards, not 41,
     * and each scrape sees the shards as they are.
     */
    private record Aggregates(int shards, double[] max, double[] sum, boolean[] read) {}

    /** The gauges of the aggregates: the count, then the maxima, then the sums. */
    private static final int COUNT_GAUGE = 0;
    private static final int AGGREGATE_GAUGES = 1 + 2 * STATS.size();

    private final MeterRegistry registry;
    private final int maxShards;
    private final ConcurrentMap<ShardId, ShardGauges> shards = new ConcurrentHashMap<>();
    /** Shards with per-shard series: at most {@link #maxShards}. */
    private final AtomicInteger withSeries = new AtomicInteger();
    private Aggregates aggregates;
    private final Counter dropped;
    private final Counter recentFast;
    private final Counter recentSlow;
    private final Counter migration;
    private final Counter rollupSuccess;
    private final Counter rollupNoopLatest;
    private final Counter rollupNoopTruncated;
    private final ConcurrentMap<String, Counter> staleRefetch = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> staleGaveUp = new ConcurrentHashMap<>();

    @Inject
    public StateMetrics(MeterRegistry registry, MetricsConfig config) {
        this(registry, config.maxShards());
    }

    /** {@code maxShards}: most shards with per-shard series (0: none); see {@link MetricsConfig#maxShards()}. */
    public StateMetrics(MeterRegistry registry, int maxShards) {
        if (maxShards < 0) {
            throw new IllegalArgumentException("stateversions.metrics.max-shards must be at least 0, not " + maxShards);
        }
        this.registry = registry;
        this.maxShards = maxShards;
        // Only where per-shard series are on: with them off every shard would count here, saying nothing.
        this.dropped = maxShards == 0 ? null : Counter.builder("stateversions.shard.metrics.dropped")
                .description("Shards that got no per-shard series because stateversions.metrics.max-shards shards had"
                        + " them")
                .register(registry);
        Gauge.builder("stateversions.shards", this, m -> m.aggregates(COUNT_GAUGE).shards())
                .description("Shards whose latest committed state this replica holds (committed here, machine kept):"
                        + " the shards the stateversions_shards_max and _summed gauges are over")
                .strongReference(true).register(registry);
        for (int i = 0; i < STATS.size(); i++) {
            int stat = i;
            Stat s = STATS.get(i);
            Gauge.builder("stateversions.shards.max", this, m -> m.aggregates(1 + stat).max()[stat])
                    .description("The largest value over the shards of stat (0 without shards): " + s.description())
                    .tag("stat", s.name()).strongReference(true).register(registry);
            int summedGauge = 1 + STATS.size() + stat;
            Gauge.builder("stateversions.shards.summed", this, m -> m.aggregates(summedGauge).sum()[stat])
                    .description("The sum over the shards of stat: " + s.description())
                    .tag("stat", s.name()).strongReference(true).register(registry);
        }
        this.recentFast = Counter.builder("stateversions.state.recent.live.diffs").tag("path", "fast")
                .description("fetchRecentLiveDiffs by path: one bounded scan, or head plus a scan from the rollup")
                .register(registry);
        this.recentSlow = Counter.builder("stateversions.state.recent.live.diffs").tag("path", "slow")
                .description("fetchRecentLiveDiffs by path: one bounded scan, or head plus a scan from the rollup")
                .register(registry);
        this.migration = Counter.builder("stateversions.state.rollup.at.seqno.migration")
                .description("Rollups at earliest found only through the live diffs (migration fallback)")
                .register(registry);
        this.rollupSuccess = rollupWrites("success");
        this.rollupNoopLatest = rollupWrites("noop_latest");
        this.rollupNoopTruncated = rollupWrites("noop_truncated");
        FunctionCounter.builder("stateversions.state.force.applied.hostname", StateDiff.FORCE_APPLIED_HOSTNAME,
                        adder -> adder.doubleValue())
                .description("Diffs whose hostname update did not match and were applied anyway")
                .register(registry);
    }

    /** The aggregates for the gauge {@code gauge} to read (see {@link Aggregates}). */
    private synchronized Aggregates aggregates(int gauge) {
        if (aggregates == null || aggregates.read()[gauge]) {
            aggregates = aggregate();
        }
        aggregates.read()[gauge] = true;
        return aggregates;
    }

    private Aggregates aggregate() {
        double[] max = new double[STATS.size()];
        double[] sum = new double[STATS.size()];
        int count = 0;
        for (ShardGauges shard : shards.values()) {
            ShardStats stats = shard.stats();
            if (stats == null) {
                continue;
            }
            count++;
            for (int i = 0; i < max.length; i++) {
                double value = STATS.get(i).value().applyAsDouble(stats);
                max[i] = Math.max(max[i], value);
                sum[i] += value;
            }
        }
        return new Aggregates(count, max, sum, new boolean[AGGREGATE_GAUGES]);
    }

    private Counter rollupWrites(String result) {
        return Counter.builder("stateversions.rollup.writes").tag("result", result)
                .description("Rollup writes by result: written, or skipped (already latest / already truncated)")
                .register(registry);
    }

    @Override
    public void committed(State state, int encodedDiffBytes) {
        ShardGauges gauges = gauges(state.shardId());
        gauges.state = state;
        if (gauges.encodedDiffBytes != null) {
            gauges.encodedDiffBytes.increment(encodedDiffBytes);
        }
    }

    @Override
    public void rollupWritten(ShardId shard, int bytes) {
        rollupSuccess.increment();
        ShardGauges gauges = shards.get(shard);
        if (gauges != null) {
            gauges.latestRollupBytes = bytes;
        }
    }

    @Override
    public void rollupWriteNoop(String reason) {
        ("latest".equals(reason) ? rollupNoopLatest : rollupNoopTruncated).increment();
    }

    @Override
    public void recentLiveDiffs(boolean fastPath) {
        (fastPath ? recentFast : recentSlow).increment();
    }

    @Override
    public void staleRollupRefetch(String op) {
        staleRefetch.computeIfAbsent(op, o -> Counter.builder("stateversions.state.stale.rollup.refetch")
                .tag("op", o)
                .description("Refetches of live diffs because a rollup named by a diff was gone (GC moved on)")
                .register(registry)).increment();
    }

    @Override
    public void staleRollupGaveUp(String op, String reason) {
        staleGaveUp.computeIfAbsent(op + '\0' + reason, key -> Counter
                .builder("stateversions.state.stale.rollup.gave.up")
                .tag("op", op)
                .tag("reason", reason)
                .description("Fetches of state that stopped refetching a rollup missing from Blob: budget spent (an"
                        + " internal error), or caller done")
                .register(registry)).increment();
    }

    @Override
    public void rollupAtSeqnoMigration() {
        migration.increment();
    }

    private ShardGauges gauges(ShardId shard) {
        ShardGauges existing = shards.get(shard);
        return existing != null ? existing : shards.computeIfAbsent(shard, this::track);
    }

    /**
     * Removes {@code shard} (its machine left this replica) from the aggregates and its series, if it had them: they
     * come back with its next commit here. A commit racing this may leave the shard out until the commit after it.
     */
    public void forget(ShardId shard) {
        ShardGauges gauges = shards.remove(shard);
        if (gauges != null && gauges.encodedDiffBytes != null) {
            gauges.meters.forEach(registry::remove);
            withSeries.decrementAndGet();
        }
    }

    /** A shard's entry, with per-shard series while fewer than {@link #maxShards} shards have them. */
    private ShardGauges track(ShardId shard) {
        if (maxShards == 0) {
            return new ShardGauges(null);
        }
        if (withSeries.incrementAndGet() > maxShards) {
            withSeries.decrementAndGet();
            dropped.increment();
            return new ShardGauges(null);
        }
        Tags tags = Tags.of("shard", shard.toString());
        ShardGauges g = new ShardGauges(Counter.builder("stateversions.shard.encoded.diff.size").baseUnit("bytes")
                .description("Bytes of the encoded diffs committed").tags(tags).register(registry));
        g.meters.add(g.encodedDiffBytes);
        gauge("seqno", "The shard's current seqno", tags, g, s -> s.state.seqno().value());
        gauge("since", "The shard's since (-1: {})", tags, g, s -> frontier(s.state.since()));
        gauge("upper", "The shard's upper (-1: {})", tags, g, s -> frontier(s.state.upper()));
        for (Stat stat : STATS) {
            gauge(stat.name(), stat.description(), tags, g, s -> stat.value().applyAsDouble(s.stats()));
        }
        gauge("latest_rollup_size_bytes", "Bytes of the latest rollup this replica wrote", tags, g,
                s -> s.latestRollupBytes);
        return g;
    }

    private void gauge(String name, String description, Tags tags, ShardGauges g, ToDoubleFunction<ShardGauges> f) {
        g.meters.add(Gauge.builder("stateversions.shard." + name.replace('_', '.'), g,
                        s -> s.state == null ? Double.NaN : f.applyAsDouble(s))
                .description(description).tags(tags).strongReference(true).register(registry));
    }

    private static double frontier(Frontier f) {
        return f.isEmpty() ? -1 : f.element();
    }
}
