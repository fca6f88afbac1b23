package io.stateversions.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stateversions.core.Command;
import io.stateversions.core.ShardId;
import io.stateversions.machine.MachineMetrics;
import jakarta.inject.Singleton;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The meters of the command machines and of maintenance: per-command latency by outcome, batching, CaS races,
 * lease expiry, GC and rollups. Every series is registered up front or once, so the command path only records.
 */
@Singleton
public class MachineMeters implements MachineMetrics {

    /** Latency buckets of commands: a few, so that 16 commands x 3 outcomes stay cheap to scrape. */
    private static final java.time.Duration[] BUCKETS = java.util.stream.LongStream
            .of(1, 2, 5, 10, 25, 50, 100, 250, 1000, 5000).mapToObj(java.time.Duration::ofMillis)
            .toArray(java.time.Duration[]::new);

    private final Map<Command, Timer[]> commands = new EnumMap<>(Command.class);
    private final DistributionSummary batchCommands;
    private final Counter casMismatch;
    private final Counter casIndeterminate;
    private final Counter readersExpired;
    private final Counter writersExpired;
    private final Counter gcCoalesced;
    private final Counter gcPartsDeleted;
    private final Counter gcRollupsDeleted;
    private final Counter gcTruncations;
    private final Counter gcPartsKept;
    private final MeterRegistry registry;
    private final Map<String, Timer> gcRuns = new ConcurrentHashMap<>();
    private final Map<String, Timer> rollups = new ConcurrentHashMap<>();
    private final Map<String, Counter> retired = new ConcurrentHashMap<>();
    private final StateMetrics stateMetrics;

    public MachineMeters(MeterRegistry registry, StateMetrics stateMetrics) {
        this.registry = registry;
        this.stateMetrics = stateMetrics;
        for (Command cmd : Command.values()) {
            Timer[] byOutcome = new Timer[Outcome.values().length];
            for (Outcome outcome : Outcome.values()) {
                byOutcome[outcome.ordinal()] = Timer.builder("stateversions.command")
                        .description("Shard commands, from queued to answered, by outcome: committed, noop (nothing"
                                + " written: an error such as upper_mismatch, or a no-op), failed")
                        .tag("command", cmd.metricName())
                        .tag("outcome", outcome.name().toLowerCase(java.util.Locale.ROOT))
                        .serviceLevelObjectives(BUCKETS)
                        .register(registry);
            }
            commands.put(cmd, byOutcome);
        }
        batchCommands = DistributionSummary.builder("stateversions.machine.batch.commands")
                .description("Commands applied in one transition and one compare-and-set (per-shard batching)")
                .register(registry);
        casMismatch = Counter.builder("stateversions.machine.cas.mismatch")
                .description("Batches that lost their compare-and-set to another replica and were recomputed")
                .register(registry);
        casIndeterminate = Counter.builder("stateversions.machine.cas.indeterminate")
                .description("Batches whose compare-and-set failed indeterminately (re-read and retried)")
                .register(registry);
        readersExpired = Counter.builder("stateversions.lease.expired").tag("handle", "reader")
                .description("Leased readers and writers removed because their lease lapsed")
                .register(registry);
        writersExpired = Counter.builder("stateversions.lease.expired").tag("handle", "writer")
                .description("Leased readers and writers removed because their lease lapsed")
                .register(registry);
        gcCoalesced = Counter.builder("stateversions.gc.coalesced")
                .description("GC requests merged into one already queued for the same shard")
                .register(registry);
        gcPartsDeleted = Counter.builder("stateversions.gc.deleted").tag("blob", "batch_part")
                .description("Blobs deleted by GC").register(registry);
        gcRollupsDeleted = Counter.builder("stateversions.gc.deleted").tag("blob", "rollup")
                .description("Blobs deleted by GC").register(registry);
        gcTruncations = Counter.builder("stateversions.gc.truncations")
                .description("Consensus truncations made by GC (one per rollup step)").register(registry);
        gcPartsKept = Counter.builder("stateversions.gc.kept").tag("blob", "batch_part")
                .description("Released batch parts GC kept because a later state refers to their key again"
                        + " (a client appended a part key the shard already held)").register(registry);
    }

    @Override
    public void command(Command cmd, Outcome outcome, long nanos) {
        commands.get(cmd)[outcome.ordinal()].record(nanos, TimeUnit.NANOSECONDS);
    }

    @Override
    public void batch(int commands, int reads) {
        if (commands > 0) {
            batchCommands.record(commands);
        }
    }

    @Override
    public void casMismatch() {
        casMismatch.increment();
    }

    @Override
    public void casIndeterminate() {
        casIndeterminate.increment();
    }

    @Override
    public void leasesExpired(int readers, int writers) {
        if (readers > 0) {
            readersExpired.increment(readers);
        }
        if (writers > 0) {
            writersExpired.increment(writers);
        }
    }

    @Override
    public void gc(String result, long nanos, long partsDeleted, long rollupsDeleted, int truncations) {
        gcRuns.computeIfAbsent(result, r -> Timer.builder("stateversions.gc")
                .description("GC runs by result: ok, noop (nothing to truncate), failed")
                .tag("result", r).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
        gcPartsDeleted.increment(partsDeleted);
        gcRollupsDeleted.increment(rollupsDeleted);
        gcTruncations.increment(truncations);
    }

    @Override
    public void gcPartsKept(long parts) {
        gcPartsKept.increment(parts);
    }

    @Override
    public void gcCoalesced() {
        gcCoalesced.increment();
    }

    @Override
    public void machines(LongSupplier held, LongSupplier queuedBytes, LongSupplier heldBytes) {
        Gauge.builder("stateversions.machine.shards", held, s -> s.getAsLong())
                .description("Shards whose machine (cached state) this replica holds: the cache, bounded by"
                        + " stateversions.machine.max-cached-shards, plus machines evicted while in use")
                .strongReference(true).register(registry);
        Gauge.builder("stateversions.machine.held", heldBytes, s -> s.getAsLong()).baseUnit("bytes")
                .description("Estimated heap of the machines this replica holds, against"
                        + " stateversions.machine.max-cached-bytes")
                .strongReference(true).register(registry);
        Gauge.builder("stateversions.machine.queued.bytes", queuedBytes, s -> s.getAsLong()).baseUnit("bytes")
                .description("Estimated encoded bytes of appends and merges queued on this replica (or waiting"
                        + " for their shard's machine to load), capped by stateversions.machine.max-queued-bytes")
                .strongReference(true).register(registry);
    }

    /** Also drops the shard's per-shard series: they are bounded with the machines, and go with them. */
    @Override
    public void machineRetired(ShardId shard, String cause) {
        retired.computeIfAbsent(cause, c -> Counter.builder("stateversions.machine.evicted")
                .description("Machines that left memory, by cause: idle (no command for"
                        + " stateversions.machine.evict-idle-after), size (beyond max-cached-shards), bytes (beyond"
                        + " max-cached-bytes), sweep (made for a sweep of a quiet shard)")
                .tag("cause", c).register(registry)).increment();
        stateMetrics.forget(shard);
    }

    @Override
    public void rollup(String result, long nanos) {
        rollups.computeIfAbsent(result, r -> Timer.builder("stateversions.rollup")
                .description("Rollup writes of maintenance and of the rollup endpoint by result: written, noop,"
                        + " not_applied (another rollup won; ours deleted), failed")
                .tag("result", r).register(registry)).record(nanos, TimeUnit.NANOSECONDS);
    }
}
