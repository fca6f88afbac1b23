package io.stateversions.core;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

/**
 * What a transition did to the trace's batches, relative to the trace it started from: the batches of that trace it
 * deleted and the batches it inserted, as a set (a batch inserted and deleted again within the transition is in
 * neither; one deleted and inserted again unchanged is in neither). {@link StateDiff#compute} builds the batch diff
 * from it in O(edits) instead of comparing both traces.
 *
 * <p>Mutable, owned by one {@link StateCollections.Builder} or one {@link Transition}; never part of a state, so
 * that a committed state keeps no chain back to the states before it.
 */
final class BatchEdits {

    /** Batches of the starting trace that are gone, by lower (distinct within one trace). */
    private final TreeMap<Frontier, HollowBatch> deletes = new TreeMap<>();
    /** Batches that are new, by lower. */
    private final TreeMap<Frontier, HollowBatch> inserts = new TreeMap<>();

    void delete(HollowBatch batch) {
        Frontier lower = batch.desc().lower();
        HollowBatch inserted = inserts.get(lower);
        if (inserted != null) {
            if (!inserted.equals(batch)) {
                throw new IllegalStateException("invariant violated: deleting " + batch + " where this transition"
                        + " inserted " + inserted);
            }
            inserts.remove(lower);
            return;
        }
        HollowBatch earlier = deletes.putIfAbsent(lower, batch);
        if (earlier != null) {
            throw new IllegalStateException("invariant violated: deleting " + batch + " after " + earlier
                    + " at the same lower");
        }
    }

    void insert(HollowBatch batch) {
        Frontier lower = batch.desc().lower();
        HollowBatch deleted = deletes.get(lower);
        if (deleted != null && deleted.equals(batch)) {
            deletes.remove(lower);
            return;
        }
        HollowBatch earlier = inserts.putIfAbsent(lower, batch);
        if (earlier != null) {
            throw new IllegalStateException("invariant violated: inserting " + batch + " over " + earlier
                    + ", which this transition inserted");
        }
    }

    /** Adds {@code later}, the edits of a step that started where these end. */
    void addAll(BatchEdits later) {
        later.deletes.values().forEach(this::delete);
        later.inserts.values().forEach(this::insert);
    }

    boolean isEmpty() {
        return deletes.isEmpty() && inserts.isEmpty();
    }

    /**
     * The batch diff from {@code from} to {@code to} (the traces these edits lead from and to): the deletes, then the
     * inserts, each by lower, as {@link StateDiff#compute} orders a full comparison.
     */
    List<DiffValue<HollowBatch>> toDiff(Trace from, Trace to) {
        if (from.batches().size() - deletes.size() + inserts.size() != to.batches().size()) {
            throw new IllegalStateException("invariant violated: " + deletes.size() + " batch deletes and "
                    + inserts.size() + " inserts do not lead from " + from.batches().size() + " to "
                    + to.batches().size() + " batches");
        }
        List<DiffValue<HollowBatch>> diff = new ArrayList<>(deletes.size() + inserts.size());
        deletes.values().forEach(batch -> diff.add(new DiffValue.Delete<>(batch)));
        inserts.values().forEach(batch -> diff.add(new DiffValue.Insert<>(batch)));
        return diff;
    }

    @Override
    public String toString() {
        return "BatchEdits{deletes=" + deletes.values() + ", inserts=" + inserts.values() + "}";
    }
}
