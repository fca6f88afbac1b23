package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.stateversions.InspectDiff;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsIter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Garbage collection of one shard up to a seqno (spec §11.3, {@code gc_and_truncate}), incrementally, one rollup
 * at a time: delete the blobs that the diffs about to be truncated delete, then truncate Consensus below the
 * rollup (the commit point), and only at the end remove the older rollups from state. Every step is idempotent,
 * so a GC that dies half way is finished by the next one, and two GCs may run at once.
 */
public final class GarbageCollector {

    private static final Logger LOG = Logger.getLogger(GarbageCollector.class);

    /**
     * What one GC did.
     *
     * @param seqno            the shard's version after it
     * @param truncated        the seqnos Consensus was truncated below, ascending (empty: nothing to do)
     * @param removedFromState the rollups removed from state at the end
     */
    public record Result(SeqNo seqno, long partsDeleted, long rollupsDeleted, List<SeqNo> truncated,
            List<SeqNo> removedFromState) {

        /** It truncated Consensus or removed rollups from state (else there was nothing to collect). */
        public boolean didWork() {
            return !truncated.isEmpty() || !removedFromState.isEmpty();
        }
    }

    private final StateVersions stateVersions;
    private final int deleteConcurrency;

    private final MachineMetrics metrics;

    public GarbageCollector(StateVersions stateVersions, int deleteConcurrency) {
        this(stateVersions, deleteConcurrency, MachineMetrics.NONE);
    }

    public GarbageCollector(StateVersions stateVersions, int deleteConcurrency, MachineMetrics metrics) {
        this.metrics = metrics;
        if (deleteConcurrency < 1) {
            throw new IllegalArgumentException("deleteConcurrency must be >= 1, got " + deleteConcurrency);
        }
        this.stateVersions = stateVersions;
        this.deleteConcurrency = deleteConcurrency;
    }

    /** Collects {@code machine}'s shard up to {@code newSeqnoSince}, which must not exceed its seqno_since. */
    public CompletableFuture<Result> run(ShardMachine machine, SeqNo newSeqnoSince) {
        return timed(runSteps(machine, java.util.Optional.of(newSeqnoSince)));
    }

    /** Collects {@code machine}'s shard up to its current seqno_since (on demand, and for quiet shards). */
    public CompletableFuture<Result> runToSeqnoSince(ShardMachine machine) {
        return timed(runSteps(machine, java.util.Optional.empty()));
    }

    private CompletableFuture<Result> timed(CompletableFuture<Result> run) {
        long start = System.nanoTime();
        return run.whenComplete((result, error) -> {
            long nanos = System.nanoTime() - start;
            if (error != null) {
                metrics.gc("failed", nanos, 0, 0, 0);
            } else {
                metrics.gc(result.didWork() ? "ok" : "noop", nanos,
                        result.partsDeleted(), result.rollupsDeleted(), result.truncated().size());
            }
        });
    }

    private CompletableFuture<Result> runSteps(ShardMachine machine, java.util.Optional<SeqNo> requested) {
        ShardId shard = machine.shard();
        return machine.read().thenCompose(state -> {
            SeqNo newSeqnoSince = requested.orElse(state.seqnoSince());
            if (newSeqnoSince.isAfter(state.seqnoSince())) {
                throw new IllegalArgumentException("invariant violated: GC of shard " + shard + " up to "
                        + newSeqnoSince + " is beyond its seqno_since " + state.seqnoSince());
            }
            NavigableMap<SeqNo, HollowRollup> rollupsLte = state.collections().rollups().headMap(newSeqnoSince, true);
            if (rollupsLte.size() < 2) {
                return CompletableFuture.completedFuture(
                        new Result(state.seqno(), 0, 0, List.of(), List.of()));
            }
            List<SeqNo> truncateSeqnos = new ArrayList<>(rollupsLte.keySet());
            List<Map.Entry<SeqNo, PartialRollupKey>> toRemove = new ArrayList<>();
            for (Map.Entry<SeqNo, HollowRollup> e : rollupsLte.headMap(rollupsLte.lastKey(), false).entrySet()) {
                toRemove.add(Map.entry(e.getKey(), e.getValue().key()));
            }
            return stateVersions.fetchAllLiveStates(shard).thenCompose(iter -> {
                Progress progress = new Progress();
                if (iter.isEmpty()) {
                    return CompletableFuture.completedFuture(progress);
                }
                return truncateEach(shard, iter.get(), truncateSeqnos, 0, progress);
            }).thenCompose(progress -> machine.apply(Command.REMOVE_ROLLUPS, Commands.removeRollups(toRemove))
                    .thenApply(applied -> new Result(applied.seqno(), progress.parts, progress.rollups,
                            List.copyOf(progress.truncated), applied.value())));
        });
    }

    private static final class Progress {
        long parts;
        long rollups;
        final List<SeqNo> truncated = new ArrayList<>();
    }

    private CompletableFuture<Progress> truncateEach(ShardId shard, StateVersionsIter states, List<SeqNo> seqnos,
            int i, Progress progress) {
        if (i == seqnos.size()) {
            return CompletableFuture.completedFuture(progress);
        }
        SeqNo truncateLt = seqnos.get(i);
        if (!states.state().seqno().isBefore(truncateLt)) {
            return truncateEach(shard, states, seqnos, i + 1, progress); // someone truncated this far already
        }
        Set<PartialBatchKey> parts = new LinkedHashSet<>();
        Set<PartialRollupKey> rollups = new LinkedHashSet<>();
        while (states.state().seqno().isBefore(truncateLt)) {
            Optional<State> next = states.next(step -> {
                if (step instanceof InspectDiff.Diff d) {
                    for (PartialBatchKey key : d.diff().partDeletes()) {
                        if (!parts.add(key)) {
                            throw new IllegalStateException("invariant violated: part " + key + " of shard " + shard
                                    + " deleted twice below " + truncateLt);
                        }
                    }
                    for (HollowRollup r : d.diff().rollupDeletes()) {
                        if (!rollups.add(r.key())) {
                            throw new IllegalStateException("invariant violated: rollup " + r.key() + " of shard "
                                    + shard + " deleted twice below " + truncateLt);
                        }
                    }
                }
            });
            if (next.isEmpty()) {
                break;
            }
        }
        State at = states.state();
        if (!at.seqno().equals(truncateLt)) {
            throw new IllegalStateException("invariant violated: GC of shard " + shard + " wanted the state at "
                    + truncateLt + " but the live states end at " + at.seqno());
        }
        for (HollowBlobRef ref : at.blobs()) {
            if (ref instanceof HollowBlobRef.Batch b) {
                for (var part : b.batch().parts()) {
                    if (part instanceof io.stateversions.core.BatchPart.Hollow h && parts.contains(h.key())) {
                        throw new IllegalStateException("invariant violated: GC of shard " + shard + " would delete"
                                + " part " + h.key() + ", which the state at " + truncateLt + " references");
                    }
                }
            } else if (ref instanceof HollowBlobRef.Rollup r && rollups.contains(r.rollup().key())) {
                throw new IllegalStateException("invariant violated: GC of shard " + shard + " would delete rollup "
                        + r.rollup().key() + ", which the state at " + truncateLt + " references");
            }
        }
        return Bounded.forEach(new ArrayList<>(parts), deleteConcurrency, key -> stateVersions.deleteBatchPart(shard, key))
                .thenCompose(ignored -> Bounded.forEach(new ArrayList<>(rollups), deleteConcurrency,
                        key -> stateVersions.deleteRollup(shard, key)))
                .thenCompose(ignored -> stateVersions.truncateDiffs(shard, truncateLt))
                .thenCompose(ignored -> {
                    progress.parts += parts.size();
                    progress.rollups += rollups.size();
                    progress.truncated.add(truncateLt);
                    LOG.debugf("GC of shard %s: deleted %d parts and %d rollups, truncated below %s", shard,
                            parts.size(), rollups.size(), truncateLt);
                    return truncateEach(shard, states, seqnos, i + 1, progress);
                });
    }
}
