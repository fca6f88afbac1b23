package io.stateversions.machine;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.StateVersions;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Garbage collection of one shard up to a seqno (spec §11.3, {@code gc_and_truncate}), incrementally, one rollup
 * at a time: delete the blobs that the diffs about to be truncated delete, then truncate Consensus below the
 * rollup (the commit point), and only at the end remove the older rollups from state. Every step is idempotent,
 * so a GC that dies half way is finished by the next one, and two GCs may run at once.
 *
 * <p>What it reads is what it needs ({@link StateVersions#fetchForTruncation}): the diffs from earliest through the
 * last truncation point, of which it decodes the deletes, and the rollup at the first point, the state that must not
 * reference what is deleted. The rollups' keys come from the machine's state, so it decodes no other rollup and
 * replays no diff below the first point. The decoding and checking run on the CPU executor
 * ({@link StateVersions#offLoop}), not on the event loop that completed the reads.
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
        State cached = requested.isPresent() ? machine.cachedOrNull() : null;
        if (cached != null && nothingToCollect(cached, requested.get())) {
            return CompletableFuture.completedFuture(new Result(cached.seqno(), 0, 0, List.of(), List.of()));
        }
        return machine.readForMaintenance().thenCompose(state -> {
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
            List<Map.Entry<SeqNo, PartialRollupKey>> toRemove = new ArrayList<>();
            for (Map.Entry<SeqNo, HollowRollup> e : rollupsLte.headMap(rollupsLte.lastKey(), false).entrySet()) {
                toRemove.add(Map.entry(e.getKey(), e.getValue().key()));
            }
            return stateVersions.fetchForTruncation(shard, rollupsLte)
                    .thenCompose(read -> stateVersions.offLoop(() -> plan(shard, rollupsLte.navigableKeySet(), read)))
                    .thenCompose(plan -> plan.partsDeleted()
                            ? stateVersions.fetchAllLiveDiffsGtSeqno(shard, plan.last()).thenCompose(later ->
                                    stateVersions.offLoop(() -> keepReinserted(shard, plan, later)))
                            : CompletableFuture.completedFuture(plan.steps()))
                    .thenCompose(steps -> truncateEach(shard, steps, 0, new Progress()))
                    .thenCompose(progress -> machine
                            .applyForMaintenance(Command.REMOVE_ROLLUPS, Commands.removeRollups(toRemove))
                            .thenApply(applied -> new Result(applied.seqno(), progress.parts, progress.rollups,
                                    List.copyOf(progress.truncated), applied.value())));
        });
    }

    /**
     * A GC assigned up to {@code newSeqnoSince} has nothing to collect in {@code cached}: fewer than two rollups at
     * or below it, so no rollup can be removed and nothing truncated below the latest of them. That is most assigned
     * GCs: one is assigned every log2(seqno) versions (spec §11.1), a rollup written every {@code rollup_threshold}.
     * Deciding it on the cached state saves the linearizable read (a Consensus scan) that a GC with work starts
     * from. The cache already holds the commit that assigned the GC (the machine installs a commit before its
     * listeners hear of it), so this sees every rollup that commit saw; a rollup another replica has added since at
     * or below that seqno is collected by the next GC assigned, as when two replicas' GCs race.
     */
    static boolean nothingToCollect(State cached, SeqNo newSeqnoSince) {
        return cached.collections().rollups().headMap(newSeqnoSince, true).size() < 2;
    }

    private static final class Progress {
        long parts;
        long rollups;
        final List<SeqNo> truncated = new ArrayList<>();
    }

    /**
     * One truncation: the blobs the diffs below {@code truncateLt} deleted, to delete before truncating ({@code parts}
     * is mutable until the plan is final: keys a state at or after the point refers to again leave it).
     */
    private record Step(SeqNo truncateLt, Set<PartialBatchKey> parts, Set<PartialRollupKey> rollups,
            Set<PartialBatchKey> kept) {}

    /**
     * The steps of a GC, and what finishing them needs: if {@code partsDeleted}, the batch parts of every step must
     * still be checked against the diffs after {@code last} ({@link #keepReinserted}); {@code stepDiffs.get(i)} are
     * the diffs decoded for {@code steps.get(i)}.
     */
    private record Plan(List<Step> steps, List<List<StateDiff>> stepDiffs, boolean partsDeleted, SeqNo last) {}

    /**
     * The truncations still to do, each checked against the state at its point (CPU only: decoding, checking,
     * replaying between points). A point at or below earliest is done already (by another GC). The diffs up to the
     * first point above earliest are only decoded, for their deletes; the state there is its rollup's. Beyond it,
     * the diffs are also applied, to reach the state at each further point. Invariants checked, failing with the
     * values: the diffs run without a gap from earliest through the last point; no rollup is deleted twice below a
     * point; no rollup to delete below a point is referenced by the state at the point; that state refers to no
     * rollup at or above the point. Batch parts are the client's keys, which the service cannot trust to be fresh
     * (spec §11.3 asserts the same of them): one released twice is deleted once, and one that the state at the point
     * refers to is kept ({@link #checkUnreferenced}), as is one that a later diff inserts ({@link #keepReinserted}).
     *
     * <p>If no diff deletes a batch part (a shard whose writers do not compact: most GCs of a growing shard), only
     * rollups are to be deleted, and only the states' rollups can refer to them: then only the rollups of the first
     * point's rollup are decoded ({@link StateVersions#decodeRollupRollupsAt}), and only the diffs' rollup changes
     * replayed, rather than the whole state (its trace is O(batches); decoding it was 9 % of the service's CPU in
     * the one-shard benchmark). The checks are the same. If no diff deletes a batch at all, the diffs themselves are
     * decoded only for their rollup changes ({@link #decodeThrough}; decoding them whole was 7.8 % of the service's
     * allocation in P2).
     */
    private Plan plan(ShardId shard, NavigableSet<SeqNo> points, StateVersions.TruncationRead read) {
        List<VersionedData> diffs = read.diffs();
        SeqNo last = points.last();
        if (read.firstPoint().isEmpty()) {
            // no point above earliest (or no diffs): truncated this far already
            return new Plan(List.of(), List.of(), false, last);
        }
        SeqNo earliest = diffs.get(0).seqno();
        requireContiguous(shard, diffs);
        SeqNo end = diffs.get(diffs.size() - 1).seqno();
        if (end.isBefore(last)) {
            throw new IllegalStateException("invariant violated: GC of shard " + shard + " wanted the state at "
                    + last + " but the live diffs end at " + end);
        }
        StateVersions.FirstPoint first = read.firstPoint().get();
        SeqNo firstPoint = first.key().seqno();
        // The deletes below each point, from the diffs after earliest through it (diffs.get(0) produced the state at
        // earliest: its deletes were below it); stepDiffs.get(i) are the diffs decoded for steps.get(i).
        List<StateDiff> planned = decodeThrough(shard, diffs, last);
        List<Step> steps = new ArrayList<>();
        List<List<StateDiff>> stepDiffs = new ArrayList<>();
        boolean partsDeleted = false;
        int next = 1;
        for (SeqNo truncateLt : points.tailSet(firstPoint, true)) {
            Set<PartialBatchKey> parts = new LinkedHashSet<>();
            Set<PartialRollupKey> rollups = new LinkedHashSet<>();
            List<StateDiff> decoded = new ArrayList<>();
            while (next < diffs.size() && !diffs.get(next).seqno().isAfter(truncateLt)) {
                StateDiff diff = planned.get(next++ - 1);
                collectDeletes(shard, truncateLt, diff, parts, rollups);
                decoded.add(diff);
            }
            partsDeleted |= !parts.isEmpty();
            stepDiffs.add(decoded);
            steps.add(new Step(truncateLt, parts, rollups, new LinkedHashSet<>()));
        }
        if (partsDeleted) {
            checkStates(shard, stateVersions.decodeRollupAt(shard, first.key(), first.rollup()), steps, stepDiffs);
        } else {
            checkRollups(shard, stateVersions.decodeRollupRollupsAt(shard, first.key(), first.rollup()), steps,
                    stepDiffs);
        }
        LOG.debugf("GC of shard %s from earliest %s: %d truncations, decoded %d diffs, the rollup at %s (%s)", shard,
                earliest, steps.size(), next - 1, firstPoint, partsDeleted ? "whole" : "its rollups");
        return new Plan(steps, stepDiffs, partsDeleted, last);
    }

    /**
     * The diffs after earliest ({@code diffs.get(0)}) through {@code last}, in order: their rollup changes alone
     * ({@link io.stateversions.codec.StateCodec#decodeRollupsOfDiff}) if none of them deletes a batch, so that no part
     * can be released and only rollups are checked and deleted; else each whole.
     */
    private List<StateDiff> decodeThrough(ShardId shard, List<VersionedData> diffs, SeqNo last) {
        int end = 1;
        while (end < diffs.size() && !diffs.get(end).seqno().isAfter(last)) {
            end++;
        }
        List<VersionedData> range = diffs.subList(1, end);
        List<StateDiff> rollupsOnly = new ArrayList<>(range.size());
        for (VersionedData data : range) {
            Optional<StateDiff> diff = stateVersions.codec().decodeRollupsOfDiff(shard, data.data());
            if (diff.isEmpty()) {
                return range.stream().map(whole -> stateVersions.codec().decodeDiff(shard, whole.data())).toList();
            }
            rollupsOnly.add(diff.get());
        }
        return rollupsOnly;
    }

    /** Checks each step against the whole state at its point, from {@code at} (the first point's) on. */
    private static void checkStates(ShardId shard, State at, List<Step> steps, List<List<StateDiff>> stepDiffs) {
        SeqNo firstPoint = at.seqno();
        for (int s = 0; s < steps.size(); s++) {
            Step step = steps.get(s);
            for (StateDiff diff : stepDiffs.get(s)) {
                if (diff.seqnoTo().isAfter(firstPoint)) {
                    at = diff.apply(at);
                }
            }
            reachedPoint(shard, at.seqno(), step.truncateLt());
            checkUnreferenced(shard, at, step);
        }
    }

    /**
     * Checks each step against the rollups of the state at its point, from {@code first} (the first point's) on,
     * replaying the diffs' rollup changes alone ({@link StateDiff#applyToRollups}, as strict as a whole apply).
     */
    private static void checkRollups(ShardId shard, StateCodec.RollupRollups first, List<Step> steps,
            List<List<StateDiff>> stepDiffs) {
        TreeMap<SeqNo, HollowRollup> rollups = first.rollups();
        SeqNo at = first.seqno();
        for (int s = 0; s < steps.size(); s++) {
            Step step = steps.get(s);
            for (StateDiff diff : stepDiffs.get(s)) {
                if (diff.seqnoTo().isAfter(at)) { // not below the first point, whose rollup holds the state after it
                    diff.applyToRollups(shard, at, rollups);
                    at = diff.seqnoTo();
                }
            }
            reachedPoint(shard, at, step.truncateLt());
            checkRollupsUnreferenced(shard, step.truncateLt(), rollups.values(), step.rollups());
        }
    }

    /** The live diffs read run without a gap (a broken invariant otherwise, failing with the seqnos). */
    private static void requireContiguous(ShardId shard, List<VersionedData> diffs) {
        for (int i = 1; i < diffs.size(); i++) {
            if (!diffs.get(i).seqno().equals(diffs.get(i - 1).seqno().next())) {
                throw new IllegalStateException("invariant violated: the live diffs of shard " + shard + " skip from "
                        + diffs.get(i - 1).seqno() + " to " + diffs.get(i).seqno());
            }
        }
    }

    private static void reachedPoint(ShardId shard, SeqNo reached, SeqNo truncateLt) {
        if (!reached.equals(truncateLt)) {
            throw new IllegalStateException("invariant violated: GC of shard " + shard + " reached the state at "
                    + reached + " for the truncation below " + truncateLt);
        }
    }

    /**
     * Adds the blobs {@code diff} releases to the step's sets. A rollup released twice is a broken invariant (the
     * service makes every rollup key). A batch part released twice is not: part keys are the client's, and a client
     * may append a key again (after a merge released it, or while another batch holds it), so the key is simply
     * collected once; {@link #checkStates} and {@link #keepReinserted} keep it if a later state holds it again.
     */
    private static void collectDeletes(ShardId shard, SeqNo truncateLt, StateDiff diff, Set<PartialBatchKey> parts,
            Set<PartialRollupKey> rollups) {
        parts.addAll(diff.partDeletes());
        for (HollowRollup r : diff.rollupDeletes()) {
            if (!rollups.add(r.key())) {
                throw new IllegalStateException("invariant violated: rollup " + r.key() + " of shard " + shard
                        + " deleted twice below " + truncateLt);
            }
        }
    }

    /**
     * Nothing to delete below {@code at}'s seqno may be referenced by the state there (spec §11.3's paranoia): a
     * rollup it refers to is a broken invariant; a batch part it refers to was appended again by a client (see
     * {@link #collectDeletes}) and moves from the step's deletes to its kept keys.
     */
    private static void checkUnreferenced(ShardId shard, State at, Step step) {
        SeqNo truncateLt = at.seqno();
        if (!step.parts().isEmpty()) {
            for (HollowBatch batch : at.collections().trace().batches()) {
                for (BatchPart part : batch.parts()) {
                    if (part instanceof BatchPart.Hollow h && step.parts().remove(h.key())) {
                        step.kept().add(h.key());
                    }
                }
            }
        }
        checkRollupsUnreferenced(shard, truncateLt, at.collections().rollups().values(), step.rollups());
    }

    /**
     * Finishes a plan whose steps delete batch parts: no part may be deleted below a point if a state after that
     * point refers to it, and the states from the point on are the one there (checked by {@link #checkStates}) and
     * those the diffs after it make, so a key that any of those diffs inserts (a client appending a released key
     * again) is kept, not deleted. {@code later} are the live diffs after the plan's last point, read after the
     * plan. A commit after that read cannot be seen here, which is why the shard refuses a batch naming a released
     * part until GC has collected it ({@link io.stateversions.core.StateCollections#releasedParts}); what this still
     * finds is history written before that rule. If a concurrent GC has truncated past the last point, it did this
     * GC's deletes and truncations already (whose states this one can no longer see): nothing is left to do but
     * remove the rollups.
     */
    private List<Step> keepReinserted(ShardId shard, Plan plan, List<VersionedData> later) {
        List<Step> steps = plan.steps();
        if (!later.isEmpty() && !later.get(0).seqno().equals(plan.last().next())) {
            LOG.debugf("GC of shard %s: the live diffs now start at %s, past the last point %s: done by another GC",
                    shard, later.get(0).seqno(), plan.last());
            return List.of();
        }
        requireContiguous(shard, later);
        Set<PartialBatchKey> insertedAfter = new HashSet<>();
        for (VersionedData diff : later) {
            insertedAfter.addAll(stateVersions.codec().decodeDiff(shard, diff.data()).partInserts());
        }
        for (int s = steps.size() - 1; s >= 0; s--) {
            Step step = steps.get(s);
            for (PartialBatchKey key : insertedAfter) {
                if (step.parts().remove(key)) {
                    step.kept().add(key);
                }
            }
            for (StateDiff diff : plan.stepDiffs().get(s)) {
                insertedAfter.addAll(diff.partInserts());
            }
        }
        List<PartialBatchKey> kept = new ArrayList<>();
        steps.forEach(step -> kept.addAll(step.kept()));
        if (!kept.isEmpty()) {
            metrics.gcPartsKept(kept.size());
            LOG.warnf("GC of shard %s keeps %d released batch parts that a state at or after their truncation point"
                    + " refers to again, e.g. %s: a client appended a part key that the shard already held. Part keys"
                    + " must be fresh: GC deletes a released part once its release is truncated", shard, kept.size(),
                    kept.subList(0, Math.min(3, kept.size())));
        }
        return steps;
    }

    /**
     * No rollup to delete below {@code truncateLt} may be among the rollups of the state there, and none of those
     * may be at or above it.
     */
    private static void checkRollupsUnreferenced(ShardId shard, SeqNo truncateLt, Collection<HollowRollup> rollupsAt,
            Set<PartialRollupKey> rollups) {
        for (HollowRollup rollup : rollupsAt) {
            if (rollups.contains(rollup.key())) {
                throw new IllegalStateException("invariant violated: GC of shard " + shard + " would delete"
                        + " rollup " + rollup.key() + ", which the state at " + truncateLt + " references");
            }
            // The initial rollup (at v1, in the state at v1) is the one rollup that is in its own state, and
            // v1 is never a truncation point above earliest.
            if (!rollup.key().seqno().isBefore(truncateLt)) {
                throw new IllegalStateException("invariant violated: the state at " + truncateLt + " of shard "
                        + shard + " refers to rollup " + rollup.key() + ", not below it");
            }
        }
    }

    private CompletableFuture<Progress> truncateEach(ShardId shard, List<Step> steps, int i, Progress progress) {
        if (i == steps.size()) {
            return CompletableFuture.completedFuture(progress);
        }
        Step step = steps.get(i);
        return Bounded.forEach(new ArrayList<>(step.parts()), deleteConcurrency,
                        key -> stateVersions.deleteBatchPart(shard, key))
                .thenCompose(ignored -> Bounded.forEach(new ArrayList<>(step.rollups()), deleteConcurrency,
                        key -> stateVersions.deleteRollup(shard, key)))
                .thenCompose(ignored -> stateVersions.truncateDiffs(shard, step.truncateLt()))
                .thenCompose(ignored -> {
                    progress.parts += step.parts().size();
                    progress.rollups += step.rollups().size();
                    progress.truncated.add(step.truncateLt());
                    LOG.debugf("GC of shard %s: deleted %d parts and %d rollups, truncated below %s", shard,
                            step.parts().size(), step.rollups().size(), step.truncateLt());
                    return truncateEach(shard, steps, i + 1, progress);
                });
    }
}
