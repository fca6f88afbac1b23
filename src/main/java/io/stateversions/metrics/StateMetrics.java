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
import jakarta.inject.Singleton;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.function.ToDoubleFunction;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The meters of the state layer: the per-shard gauges that every committed CaS updates (spec §18.1, names
 * {@code stateversions_shard_*} with a {@code shard} tag) and the counters of the fetch and rollup paths.
 *
 * <p>Per-shard series are capped at {@code stateversions.metrics.max-shards} shards (0 turns them off): a
 * deployment with very many shards keeps a bounded number of time series. Shards beyond the cap are counted in
 * {@code stateversions_shard_metrics_dropped_total}. A shard's series go when its machine leaves this replica
 * ({@link #forget}), which frees its place for a shard in use. An empty frontier ({@code {}}) is reported as -1.
 */
@Singleton
public class StateMetrics implements StateVersionsMetrics {

    /**
     * The latest committed state of one shard. A commit only stores the reference; its stats (a pass over every
     * batch) are computed when the gauges are read, at most once per committed state, so the commit path does none
     * of that work.
     */
    private static final class ShardGauges {
        volatile State state;
        volatile long latestRollupBytes;
        final Counter encodedDiffBytes;
        /** Every series of the shard, to remove them with it. */
        final List<Meter> meters = new ArrayList<>();
        private State statsOf;
        private ShardStats stats;

        ShardGauges(Counter encodedDiffBytes) {
            this.encodedDiffBytes = encodedDiffBytes;
        }

        synchronized ShardStats stats() {
            State current = state;
            if (current != statsOf) {
                stats = current.stats();
                statsOf = current;
            }
            return stats;
        }
    }

    private final MeterRegistry registry;
    private final int maxShards;
    private final ConcurrentMap<ShardId, ShardGauges> shards = new ConcurrentHashMap<>();
    private final Counter dropped;
    private final Counter recentFast;
    private final Counter recentSlow;
    private final Counter migration;
    private final Counter rollupSuccess;
    private final Counter rollupNoopLatest;
    private final Counter rollupNoopTruncated;
    private final ConcurrentMap<String, Counter> staleRefetch = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Counter> staleGaveUp = new ConcurrentHashMap<>();

    public StateMetrics(MeterRegistry registry,
            @ConfigProperty(name = "stateversions.metrics.max-shards", defaultValue = "1000") int maxShards) {
        this.registry = registry;
        this.maxShards = maxShards;
        this.dropped = Counter.builder("stateversions.shard.metrics.dropped")
                .description("Commits of shards beyond stateversions.metrics.max-shards, which get no per-shard series")
                .register(registry);
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

    private Counter rollupWrites(String result) {
        return Counter.builder("stateversions.rollup.writes").tag("result", result)
                .description("Rollup writes by result: written, or skipped (already latest / already truncated)")
                .register(registry);
    }

    @Override
    public void committed(State state, int encodedDiffBytes) {
        ShardGauges gauges = gauges(state.shardId());
        if (gauges == null) {
            return;
        }
        gauges.state = state;
        gauges.encodedDiffBytes.increment(encodedDiffBytes);
    }

    @Override
    public void rollupWritten(ShardId shard, int bytes) {
        rollupSuccess.increment();
        ShardGauges gauges = gauges(shard);
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
        if (existing != null) {
            return existing;
        }
        if (shards.size() >= maxShards) {
            dropped.increment();
            return null;
        }
        return shards.computeIfAbsent(shard, this::register);
    }

    /**
     * Removes the series of {@code shard} (its machine left this replica): they come back with its next commit here.
     * A commit racing this may leave them out until the commit after it.
     */
    public void forget(ShardId shard) {
        ShardGauges gauges = shards.remove(shard);
        if (gauges != null) {
            gauges.meters.forEach(registry::remove);
        }
    }

    private ShardGauges register(ShardId shard) {
        Tags tags = Tags.of("shard", shard.toString());
        ShardGauges g = new ShardGauges(Counter.builder("stateversions.shard.encoded.diff.size").baseUnit("bytes")
                .description("Bytes of the encoded diffs committed").tags(tags).register(registry));
        g.meters.add(g.encodedDiffBytes);
        gauge("seqno", "The shard's current seqno", tags, g, s -> s.state.seqno().value());
        gauge("since", "The shard's since (-1: {})", tags, g, s -> frontier(s.state.since()));
        gauge("upper", "The shard's upper (-1: {})", tags, g, s -> frontier(s.state.upper()));
        stat("seqnos.held", "Versions kept alive by leased readers' seqno holds", tags, g, ShardStats::seqnosHeld);
        stat("seqnos.since.last.rollup", "Versions since the latest rollup", tags, g, ShardStats::seqnosSinceLastRollup);
        stat("batch.count", "Batches in the trace", tags, g, ShardStats::batchCount);
        stat("hollow.batch.count", "Non-empty batches in the trace", tags, g, ShardStats::nonEmptyBatchCount);
        stat("batch.part.count", "Batch parts", tags, g, ShardStats::partCount);
        stat("rewrite.part.count", "Batch parts with rewritten timestamps", tags, g, ShardStats::rewritePartCount);
        stat("update.count", "Updates in all batches", tags, g, ShardStats::updateCount);
        stat("rollup.count", "Rollups in state", tags, g, ShardStats::rollupCount);
        stat("largest.batch.size.bytes", "Bytes of the largest batch", tags, g, ShardStats::largestBatchBytes);
        stat("batches.bytes", "Bytes of all batches of the current state", tags, g, ShardStats::batchBytes);
        stat("rollups.bytes", "Bytes of the rollups the current state refers to", tags, g, ShardStats::rollupBytes);
        stat("inline.part.count", "Inline parts kept in state", tags, g, ShardStats::inlinePartCount);
        stat("inline.bytes", "Bytes of inline parts kept in state", tags, g, ShardStats::inlineBytes);
        stat("live.writers", "Registered writers", tags, g, ShardStats::writerCount);
        stat("leased.readers", "Registered leased readers", tags, g, ShardStats::leasedReaderCount);
        stat("critical.readers", "Registered critical readers", tags, g, ShardStats::criticalReaderCount);
        stat("schema.count", "Registered schemas", tags, g, ShardStats::schemaCount);
        stat("compact.batches", "Batches that are one sorted run and not being merged", tags, g,
                s -> s.spine().compactBatches());
        stat("compacting.batches", "Batches in an outstanding merge request", tags, g,
                s -> s.spine().compactingBatches());
        stat("noncompact.batches", "Batches of several runs not being merged", tags, g,
                s -> s.spine().noncompactBatches());
        gauge("latest.rollup.size.bytes", "Bytes of the latest rollup this replica wrote", tags, g,
                s -> s.latestRollupBytes);
        return g;
    }

    private void stat(String name, String description, Tags tags, ShardGauges g, ToDoubleFunction<ShardStats> f) {
        gauge(name, description, tags, g, s -> f.applyAsDouble(s.stats()));
    }

    private void gauge(String name, String description, Tags tags, ShardGauges g, ToDoubleFunction<ShardGauges> f) {
        g.meters.add(Gauge.builder("stateversions.shard." + name, g,
                        s -> s.state == null ? Double.NaN : f.applyAsDouble(s))
                .description(description).tags(tags).strongReference(true).register(registry));
    }

    private static double frontier(Frontier f) {
        return f.isEmpty() ? -1 : f.element();
    }
}
