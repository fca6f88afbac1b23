package io.stateversions.core;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One state transition computed by {@link #cloneApply} (spec §4.1–4.2): either {@link Committable} (a next state
 * and its diff, to be compare-and-set into Consensus) or {@link Broke} (nothing to write).
 */
public sealed interface Transition<R> {

    R result();

    /**
     * A next state to commit.
     *
     * @param readersExpired leased readers this transition expired
     * @param writersExpired writers this transition expired
     */
    record Committable<R>(R result, State state, StateDiff diff, RoutineMaintenance maintenance, int readersExpired,
            int writersExpired) implements Transition<R> {}

    /** The work function broke: nothing is written, the previous state stands. */
    record Broke<R>(R result) implements Transition<R> {}

    /** A command's pure work: it changes {@code collections} (the clone) for the version {@code newSeqno}. */
    @FunctionalInterface
    interface Work<R> {
        WorkResult<R> apply(SeqNo newSeqno, StateCollections.Builder collections);
    }

    /**
     * Applies {@code work} to a clone of {@code prev}'s collections and computes the diff, with none of the
     * routine steps of {@link #computeNext}: persist's bare {@code clone_apply}, which initializing a shard uses
     * so that the first diff holds only the initial rollup.
     */
    static <R> Transition<R> cloneApply(State prev, PersistConfig cfg, long nowMs, String hostname, Command cmd,
            Work<R> work) {
        return apply(prev, cfg, nowMs, hostname, cmd, work, false);
    }

    /**
     * Applies {@code work} to a clone of {@code prev}'s collections and, if it continues, finishes the next
     * state, in this order (the order is the point):
     * <ol>
     *   <li>the new version: {@code seqno + 1}, {@code walltime = max(now, prev walltime + 1)} (strictly
     *       increasing even when clocks are skewed), this host, applier version {@code max(prev, build)};</li>
     *   <li>the work function;</li>
     *   <li>lease expiry at {@code nowMs};</li>
     *   <li>the tombstone guard: on top of a tombstone only {@link Command#allowedOnTombstone} commands commit;</li>
     *   <li>rollup assignment ({@link State#needRollup}), recording the active rollup in active-rollup mode;</li>
     *   <li>GC assignment (spec §11.1), advancing {@code last_gc_req};</li>
     *   <li>last, the diff from {@code prev}, so that every mutation above is in it.</li>
     * </ol>
     * With {@link PersistConfig#validateTransitions} the diff is checked by applying it to {@code prev}.
     */
    static <R> Transition<R> computeNext(State prev, PersistConfig cfg, long nowMs, String hostname, Command cmd,
            Work<R> work) {
        return apply(prev, cfg, nowMs, hostname, cmd, work, true);
    }

    private static <R> Transition<R> apply(State prev, PersistConfig cfg, long nowMs, String hostname, Command cmd,
            Work<R> work, boolean routine) {
        Objects.requireNonNull(hostname, "hostname");
        StateCollections.Builder b = prev.collections().toBuilder();
        WorkResult<R> outcome = work.apply(prev.seqno().next(), b);
        if (outcome instanceof WorkResult.Break<R> broke) {
            return new Broke<>(broke.value());
        }
        return finish(prev, cfg, nowMs, hostname, DiffSizes.UNKNOWN, b, new BatchEdits(), MapEdits.NONE,
                cmd.metricName(), cmd.isWrite(), cmd.allowedOnTombstone(), routine, outcome.value());
    }

    /** One command of a {@link #computeNextBatch batch}. */
    record Step<R>(Command cmd, Work<R> work) {}

    /**
     * The outcome of {@link #computeNextBatch}: per step, in order, its {@link WorkResult} or the exception its work
     * function threw; and the next state to commit iff at least one step continued.
     */
    record Batch(List<Object> outcomes, Optional<Committable<Void>> commit) {

        /** Step {@code i}'s work result; throws what its work function threw. */
        @SuppressWarnings("unchecked")
        public <R> WorkResult<R> outcome(int i) {
            Object o = outcomes.get(i);
            if (o instanceof RuntimeException e) {
                throw e;
            }
            return (WorkResult<R>) o;
        }
    }

    /**
     * Applies several commands in one transition, as if they had committed one after another but sharing one
     * version: each work function sees the collections as the continuing steps before it left them. A step that
     * breaks, or throws, leaves them as they were (its neighbours are unaffected), so that several callers can
     * share one compare-and-set. Then the routine steps of {@link #computeNext} run once, for the whole batch.
     */
    static Batch computeNextBatch(State prev, PersistConfig cfg, long nowMs, String hostname,
            List<? extends Step<?>> steps) {
        return computeNextBatch(prev, cfg, nowMs, hostname, DiffSizes.UNKNOWN, steps);
    }

    /** {@link #computeNextBatch}, its rollup assignment knowing the sizes of the diffs up to {@code prev}. */
    static Batch computeNextBatch(State prev, PersistConfig cfg, long nowMs, String hostname, DiffSizes diffSizes,
            List<? extends Step<?>> steps) {
        Objects.requireNonNull(hostname, "hostname");
        SeqNo newSeqno = prev.seqno().next();
        StateCollections current = prev.collections();
        // The batch and map edits of the continuing steps, from prev on (batch edits are null once a step replaced
        // the trace). A step that breaks or throws leaves its builder, and with it its edits, behind.
        BatchEdits edits = new BatchEdits();
        MapEdits mapEdits = MapEdits.NONE;
        List<Object> outcomes = new java.util.ArrayList<>(steps.size());
        String names = null;
        boolean isWrite = false;
        boolean allowedOnTombstone = true;
        for (Step<?> step : steps) {
            StateCollections.Builder b = current.toBuilder();
            WorkResult<?> outcome;
            try {
                outcome = step.work().apply(newSeqno, b);
            } catch (RuntimeException e) {
                outcomes.add(e);
                continue;
            }
            outcomes.add(outcome);
            if (outcome instanceof WorkResult.Continue<?>) {
                current = b.build();
                edits = then(edits, b.batchEdits());
                mapEdits = mapEdits.then(b.mapEdits());
                names = names == null ? step.cmd().metricName() : names + "+" + step.cmd().metricName();
                isWrite |= step.cmd().isWrite();
                allowedOnTombstone &= step.cmd().allowedOnTombstone();
            }
        }
        if (names == null) {
            return new Batch(outcomes, Optional.empty());
        }
        Committable<Void> commit = finish(prev, cfg, nowMs, hostname, diffSizes, current.toBuilder(), edits,
                mapEdits, names, isWrite, allowedOnTombstone, true, (Void) null);
        return new Batch(outcomes, Optional.of(commit));
    }

    /** {@code earlier} followed by {@code later}, either of them null if unknown (then so is the result). */
    private static BatchEdits then(BatchEdits earlier, BatchEdits later) {
        if (earlier == null || later == null) {
            return null;
        }
        if (earlier != later) {
            earlier.addAll(later);
        }
        return earlier;
    }

    /**
     * The steps after the work function: the new version, routine maintenance (if {@code routine}), the diff.
     * {@code edits} and {@code mapEdits} are the batch edits (null if unknown) and the map keys edited from
     * {@code prev} to where {@code b} started.
     */
    private static <R> Committable<R> finish(State prev, PersistConfig cfg, long nowMs, String hostname,
            DiffSizes diffSizes, StateCollections.Builder b, BatchEdits edits, MapEdits mapEdits, String cmdName,
            boolean isWrite, boolean allowedOnTombstone, boolean routine, R result) {
        SeqNo newSeqno = prev.seqno().next();
        long walltimeMs = Math.max(nowMs, prev.walltimeMs() + 1);
        b.version(prev.collections().version().max(cfg.buildVersion()));

        int readersExpired = 0;
        int writersExpired = 0;
        Optional<SeqNo> writeRollup = Optional.empty();
        Optional<GcReq> gc = Optional.empty();
        if (routine) {
            readersExpired = expire(b.lapsedLeasedReaders(nowMs), b.mutableLeasedReaders());
            writersExpired = expire(b.lapsedWriters(nowMs), b.mutableWriters());

            if (prev.isTombstone() && !allowedOnTombstone) {
                throw new IllegalStateException("invariant violated: command " + cmdName
                        + " tried to commit on top of tombstoned shard " + prev.shardId() + " at " + prev.seqno());
            }

            State draft = new State(prev.shardId(), newSeqno, walltimeMs, hostname, prev.codecs(), b.build());
            writeRollup = draft.needRollup(cfg, nowMs, diffSizes);
            if (writeRollup.isPresent() && cfg.rollupUseActiveRollup()) {
                b.activeRollup(Optional.of(new ActiveMarker(newSeqno, nowMs)));
            }
            gc = maybeGc(draft, isWrite, nowMs, cfg);
            if (gc.isPresent()) {
                b.lastGcReq(gc.get().newSeqnoSince());
                if (cfg.gcUseActiveGc()) {
                    b.activeGc(Optional.of(new ActiveMarker(newSeqno, nowMs)));
                }
            }
        }

        State next = new State(prev.shardId(), newSeqno, walltimeMs, hostname, prev.codecs(), b.build());
        StateDiff diff = StateDiff.compute(prev, next, then(edits, b.batchEdits()), mapEdits.then(b.mapEdits()));
        if (cfg.validateTransitions()) {
            State applied = diff.apply(prev);
            if (!applied.equals(next)) {
                throw new IllegalStateException("invariant violated: diff of " + cmdName
                        + " does not reproduce the next state.\nnext:    " + next + "\napplied: " + applied
                        + "\ndiff: " + diff);
            }
        }
        return new Committable<>(result, next, diff, new RoutineMaintenance(gc, writeRollup), readersExpired,
                writersExpired);
    }

    /**
     * Removes the handles {@code lapsed} (found by the map's index of lease expiries, not by a scan of every handle):
     * O(log n) each.
     */
    private static <K> int expire(List<K> lapsed, Map<K, ?> handles) {
        for (K id : lapsed) {
            handles.remove(id);
        }
        return lapsed.size();
    }

    /**
     * GC assignment (spec §11.1), evaluated on the draft next state. Due when {@code seqnoSince - lastGcReq}
     * reaches the threshold (logarithmic in classic mode, {@code gcMinVersions} in active-GC mode, or an active GC
     * older than the fallback); assigned to writes, or to anything when there are no writers; always assigned on a
     * tombstone, so that residual blobs are cleaned up. Each request covers at most {@code gcMaxVersions} seqnos.
     */
    static Optional<GcReq> maybeGc(State state, boolean isWrite, long nowMs, PersistConfig cfg) {
        StateCollections c = state.collections();
        long threshold = cfg.gcUseActiveGc() ? cfg.gcMinVersions() : State.classicGcThreshold(state.seqno());
        SeqNo newSeqnoSince = state.seqnoSince();
        long lastGcReq = c.lastGcReq().value();
        long cap = lastGcReq > Long.MAX_VALUE - cfg.gcMaxVersions() ? Long.MAX_VALUE : lastGcReq + cfg.gcMaxVersions();
        SeqNo gcUntil = newSeqnoSince.value() <= cap ? newSeqnoSince : SeqNo.of(cap);
        boolean shouldGc = Math.max(0, newSeqnoSince.value() - lastGcReq) >= threshold;
        boolean activeExpired = c.activeGc().map(a -> nowMs - a.startMs() > cfg.gcFallbackThresholdMs()).orElse(false);
        if (cfg.gcUseActiveGc() && !shouldGc) {
            shouldGc = activeExpired;
        }
        shouldGc = shouldGc && (isWrite || c.writers().isEmpty());
        shouldGc = shouldGc || c.isTombstone();
        if (cfg.gcUseActiveGc()) {
            shouldGc = shouldGc && (c.activeGc().isEmpty() || activeExpired);
        }
        return shouldGc ? Optional.of(new GcReq(state.shardId(), gcUntil)) : Optional.empty();
    }
}
