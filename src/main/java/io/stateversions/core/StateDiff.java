package io.stateversions.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.BiConsumer;

/**
 * The difference between the states of a shard at {@code seqnoFrom} and {@code seqnoTo = seqnoFrom + 1}: what a
 * Consensus entry holds (spec §5). {@link #compute} emits nothing for a field whose value did not change;
 * {@link #apply} is strict (a diff that does not apply is a bug, reported as {@link DiffApplyException}).
 *
 * <p>{@code walltimeMs} and {@code applierVersion} are the new state's, copied rather than diffed.
 * {@code latestRollupKey} names the latest rollup of the <em>resulting</em> state, so that any single diff tells
 * a reader which rollup to start from. The trace is diffed as its {@code since} plus the set of its batches.
 */
public record StateDiff(
        Version applierVersion,
        SeqNo seqnoFrom,
        SeqNo seqnoTo,
        long walltimeMs,
        PartialRollupKey latestRollupKey,
        List<DiffValue<String>> hostname,
        List<DiffValue<SeqNo>> lastGcReq,
        List<DiffValue<ActiveMarker>> activeRollup,
        List<DiffValue<ActiveMarker>> activeGc,
        List<FieldDiff<SeqNo, HollowRollup>> rollups,
        List<FieldDiff<LeasedReaderId, LeasedReaderState>> leasedReaders,
        List<FieldDiff<CriticalReaderId, CriticalReaderState>> criticalReaders,
        List<FieldDiff<WriterId, WriterState>> writers,
        List<FieldDiff<SchemaId, EncodedSchemas>> schemas,
        List<DiffValue<Frontier>> since,
        List<DiffValue<HollowBatch>> batches,
        List<FieldDiff<PartialBatchKey, SeqNo>> releasedParts) {

    /**
     * Diffs whose hostname Update did not match the state's hostname and were applied anyway (persist cleans up
     * historical bad diffs this way).
     */
    public static final LongAdder FORCE_APPLIED_HOSTNAME = new LongAdder();

    public StateDiff {
        Objects.requireNonNull(applierVersion, "applierVersion");
        Objects.requireNonNull(seqnoFrom, "seqnoFrom");
        Objects.requireNonNull(seqnoTo, "seqnoTo");
        Objects.requireNonNull(latestRollupKey, "latestRollupKey");
        hostname = List.copyOf(hostname);
        lastGcReq = List.copyOf(lastGcReq);
        activeRollup = List.copyOf(activeRollup);
        activeGc = List.copyOf(activeGc);
        rollups = List.copyOf(rollups);
        leasedReaders = List.copyOf(leasedReaders);
        criticalReaders = List.copyOf(criticalReaders);
        writers = List.copyOf(writers);
        schemas = List.copyOf(schemas);
        since = List.copyOf(since);
        batches = List.copyOf(batches);
        releasedParts = List.copyOf(releasedParts);
    }

    /**
     * The diff from {@code from} to {@code to}, whose seqno must be {@code from}'s plus one, comparing both traces'
     * batches and both versions of each map (O(batches + handles) for the collections that are not the same
     * instance): for tests and for transitions without a record of their edits.
     */
    public static StateDiff compute(State from, State to) {
        return compute(from, to, null, null);
    }

    /**
     * As {@link #compute(State, State)}, with the batch diff taken from {@code batchEdits} (what the transition from
     * {@code from} to {@code to} deleted and inserted) if not null, O(edits) instead of O(batches); and each map's
     * diff from the keys in {@code mapEdits} (the keys that transition put or removed) if not null, O(k log n) for k
     * keys of n instead of O(n). Either way the diff is the same.
     */
    static StateDiff compute(State from, State to, BatchEdits batchEdits, MapEdits mapEdits) {
        if (!from.shardId().equals(to.shardId())) {
            throw new IllegalArgumentException("cannot diff states of different shards: " + from.shardId() + " and "
                    + to.shardId());
        }
        if (to.seqno().value() != from.seqno().value() + 1) {
            throw new IllegalArgumentException("cannot diff " + from.seqno() + " to " + to.seqno()
                    + ": a diff spans exactly one seqno");
        }
        StateCollections a = from.collections();
        StateCollections b = to.collections();
        List<DiffValue<HollowBatch>> batches = a.trace().sharesBatchesWith(b.trace()) ? List.of()
                : batchEdits != null ? batchEdits.toDiff(a.trace(), b.trace())
                : diffBatches(a.trace().batches(), b.trace().batches());
        return new StateDiff(b.version(), from.seqno(), to.seqno(), to.walltimeMs(), to.latestRollup().getValue().key(),
                diffSingle(from.hostname(), to.hostname()),
                diffSingle(a.lastGcReq(), b.lastGcReq()),
                diffOptional(a.activeRollup(), b.activeRollup()),
                diffOptional(a.activeGc(), b.activeGc()),
                diffMap("rollups", a.rollups(), b.rollups(), mapEdits == null ? null : mapEdits.rollups()),
                diffMap("leasedReaders", a.leasedReaders(), b.leasedReaders(),
                        mapEdits == null ? null : mapEdits.leasedReaders()),
                diffMap("criticalReaders", a.criticalReaders(), b.criticalReaders(),
                        mapEdits == null ? null : mapEdits.criticalReaders()),
                diffMap("writers", a.writers(), b.writers(), mapEdits == null ? null : mapEdits.writers()),
                diffMap("schemas", a.schemas(), b.schemas(), mapEdits == null ? null : mapEdits.schemas()),
                diffSingle(a.trace().since(), b.trace().since()),
                batches,
                diffMap("releasedParts", a.releasedParts(), b.releasedParts(),
                        mapEdits == null ? null : mapEdits.releasedParts()));
    }

    private static <V> List<DiffValue<V>> diffSingle(V from, V to) {
        return from.equals(to) ? List.of() : List.of(new DiffValue.Update<>(from, to));
    }

    private static <V> List<DiffValue<V>> diffOptional(Optional<V> from, Optional<V> to) {
        if (from.equals(to)) {
            return List.of();
        }
        if (from.isEmpty()) {
            return List.of(new DiffValue.Insert<>(to.get()));
        }
        if (to.isEmpty()) {
            return List.of(new DiffValue.Delete<>(from.get()));
        }
        return List.of(new DiffValue.Update<>(from.get(), to.get()));
    }

    /**
     * The diff of one map, in key order: from the keys {@code edited} if not null (a superset of those whose entries
     * differ), else from a sorted merge of both maps' keys. An equal value emits nothing.
     */
    private static <K extends Comparable<K>, V> List<FieldDiff<K, V>> diffMap(String field, NavigableMap<K, V> from,
            NavigableMap<K, V> to, SortedSet<K> edited) {
        if (from == to) {
            return List.of();
        }
        return edited != null ? diffKeys(field, from, to, edited) : diffMap(from, to);
    }

    /**
     * Compares the old and the new value of each key in {@code edited} alone: O(k log n). The record must hold every
     * key whose entry differs; that the inserts and deletes it finds account for the change of size is checked.
     */
    private static <K extends Comparable<K>, V> List<FieldDiff<K, V>> diffKeys(String field, NavigableMap<K, V> from,
            NavigableMap<K, V> to, SortedSet<K> edited) {
        List<FieldDiff<K, V>> diffs = new ArrayList<>();
        long sizeChange = 0;
        for (K key : edited) {
            V before = from.get(key);
            V after = to.get(key);
            if (before == null && after != null) {
                diffs.add(new FieldDiff<>(key, new DiffValue.Insert<>(after)));
                sizeChange++;
            } else if (before != null && after == null) {
                diffs.add(new FieldDiff<>(key, new DiffValue.Delete<>(before)));
                sizeChange--;
            } else if (before != null && !before.equals(after)) {
                diffs.add(new FieldDiff<>(key, new DiffValue.Update<>(before, after)));
            }
        }
        Visits.add(edited.size());
        if (from.size() + sizeChange != to.size()) {
            throw new IllegalStateException("invariant violated: the " + edited.size() + " recorded keys of " + field
                    + " insert and delete " + sizeChange + " net, which does not lead from " + from.size() + " to "
                    + to.size() + " entries: " + edited);
        }
        return diffs;
    }

    /** A sorted merge of both maps' keys, O(n): without a record of the keys edited. */
    private static <K extends Comparable<K>, V> List<FieldDiff<K, V>> diffMap(NavigableMap<K, V> from,
            NavigableMap<K, V> to) {
        List<FieldDiff<K, V>> diffs = new ArrayList<>();
        Iterator<Map.Entry<K, V>> a = from.entrySet().iterator();
        Iterator<Map.Entry<K, V>> b = to.entrySet().iterator();
        Map.Entry<K, V> x = a.hasNext() ? a.next() : null;
        Map.Entry<K, V> y = b.hasNext() ? b.next() : null;
        while (x != null || y != null) {
            int c = x == null ? 1 : y == null ? -1 : x.getKey().compareTo(y.getKey());
            if (c < 0) {
                diffs.add(new FieldDiff<>(x.getKey(), new DiffValue.Delete<>(x.getValue())));
                x = a.hasNext() ? a.next() : null;
            } else if (c > 0) {
                diffs.add(new FieldDiff<>(y.getKey(), new DiffValue.Insert<>(y.getValue())));
                y = b.hasNext() ? b.next() : null;
            } else {
                if (!x.getValue().equals(y.getValue())) {
                    diffs.add(new FieldDiff<>(x.getKey(), new DiffValue.Update<>(x.getValue(), y.getValue())));
                }
                x = a.hasNext() ? a.next() : null;
                y = b.hasNext() ? b.next() : null;
            }
        }
        Visits.add((long) from.size() + to.size());
        return diffs;
    }

    private static final Comparator<HollowBatch> BY_LOWER = Comparator.comparing(batch -> batch.desc().lower());

    /**
     * The batches as a set: deleted ones, then inserted ones, each in the order of their lowers (which are distinct
     * within one trace). A sorted merge of both lists, O(batches): the fallback when no record of edits is at hand.
     */
    private static List<DiffValue<HollowBatch>> diffBatches(List<HollowBatch> from, List<HollowBatch> to) {
        List<DiffValue<HollowBatch>> deletes = new ArrayList<>();
        List<DiffValue<HollowBatch>> inserts = new ArrayList<>();
        Iterator<HollowBatch> a = from.iterator();
        Iterator<HollowBatch> b = to.iterator();
        HollowBatch x = a.hasNext() ? a.next() : null;
        HollowBatch y = b.hasNext() ? b.next() : null;
        while (x != null || y != null) {
            int c = x == null ? 1 : y == null ? -1 : BY_LOWER.compare(x, y);
            if (c < 0) {
                deletes.add(new DiffValue.Delete<>(x));
                x = a.hasNext() ? a.next() : null;
            } else if (c > 0) {
                inserts.add(new DiffValue.Insert<>(y));
                y = b.hasNext() ? b.next() : null;
            } else {
                if (x != y && !x.equals(y)) {
                    deletes.add(new DiffValue.Delete<>(x));
                    inserts.add(new DiffValue.Insert<>(y));
                }
                x = a.hasNext() ? a.next() : null;
                y = b.hasNext() ? b.next() : null;
            }
        }
        deletes.addAll(inserts);
        return deletes;
    }

    /** Whether any field but the copied ones changed. */
    public boolean isEmpty() {
        return hostname.isEmpty() && lastGcReq.isEmpty() && activeRollup.isEmpty() && activeGc.isEmpty()
                && rollups.isEmpty() && leasedReaders.isEmpty() && criticalReaders.isEmpty() && writers.isEmpty()
                && schemas.isEmpty() && since.isEmpty() && batches.isEmpty() && releasedParts.isEmpty();
    }

    /**
     * Applies this diff to {@code state} (spec §5.3). A state already at {@code seqnoTo} is returned unchanged;
     * any other state not at {@code seqnoFrom}, and any field whose current value does not match what the diff
     * says it was, is a {@link DiffApplyException}.
     */
    public State apply(State state) {
        if (state.seqno().equals(seqnoTo)) {
            return state;
        }
        if (!state.seqno().equals(seqnoFrom)) {
            throw new DiffApplyException(state, this, "the state is not at " + seqnoFrom);
        }
        StateCollections.Builder b = state.collections().toBuilder();
        b.version(applierVersion);
        String host = state.hostname();
        for (DiffValue<String> d : hostname) {
            if (!(d instanceof DiffValue.Update<String> u)) {
                throw new DiffApplyException(state, this, "hostname can only be updated, got " + d);
            }
            if (!u.before().equals(host)) {
                FORCE_APPLIED_HOSTNAME.increment();
            }
            host = u.after();
        }
        b.lastGcReq(applySingle(state, "lastGcReq", b.lastGcReq(), lastGcReq));
        b.activeRollup(applyOptional(state, "activeRollup", b.activeRollup(), activeRollup));
        b.activeGc(applyOptional(state, "activeGc", b.activeGc(), activeGc));
        applyMap(state.shardId(), state.seqno(), "rollups", rollups, b::mutableRollups);
        applyMap(state.shardId(), state.seqno(), "leasedReaders", leasedReaders, b::mutableLeasedReaders);
        applyMap(state.shardId(), state.seqno(), "criticalReaders", criticalReaders, b::mutableCriticalReaders);
        applyMap(state.shardId(), state.seqno(), "writers", writers, b::mutableWriters);
        applyMap(state.shardId(), state.seqno(), "schemas", schemas, b::mutableSchemas);
        applyMap(state.shardId(), state.seqno(), "releasedParts", releasedParts, b::mutableReleasedParts);
        if (!since.isEmpty() || !batches.isEmpty()) {
            Frontier newSince = applySingle(state, "since", b.trace().since(), since);
            Trace trace = batches.isEmpty() ? b.trace() : applyBatches(state, b.trace());
            b.trace(trace.withSince(newSince));
        }
        State next = new State(state.shardId(), seqnoTo, walltimeMs, host, state.codecs(), b.build());
        PartialRollupKey latest = next.collections().rollups().isEmpty()
                ? null : next.latestRollup().getValue().key();
        if (!latestRollupKey.equals(latest)) {
            throw new DiffApplyException(state, this, "the resulting latest rollup is " + latest
                    + ", but the diff says " + latestRollupKey);
        }
        return next;
    }

    private <V> V applySingle(State state, String field, V current, List<DiffValue<V>> diffs) {
        V value = current;
        for (DiffValue<V> d : diffs) {
            if (!(d instanceof DiffValue.Update<V> u)) {
                throw new DiffApplyException(state, this, field + " can only be updated, got " + d);
            }
            if (!u.before().equals(value)) {
                throw new DiffApplyException(state, this, field + " is " + value + ", not " + u.before());
            }
            value = u.after();
        }
        return value;
    }

    private <V> Optional<V> applyOptional(State state, String field, Optional<V> current, List<DiffValue<V>> diffs) {
        Optional<V> value = current;
        for (DiffValue<V> d : diffs) {
            if (d instanceof DiffValue.Insert<V> insert) {
                if (value.isPresent()) {
                    throw new DiffApplyException(state, this, field + " is already " + value.get() + ": " + d);
                }
                value = Optional.of(insert.after());
            } else if (d instanceof DiffValue.Update<V> update) {
                if (!value.equals(Optional.of(update.before()))) {
                    throw new DiffApplyException(state, this, field + " is " + value + ": " + d);
                }
                value = Optional.of(update.after());
            } else if (d instanceof DiffValue.Delete<V> delete) {
                if (!value.equals(Optional.of(delete.before()))) {
                    throw new DiffApplyException(state, this, field + " is " + value + ": " + d);
                }
                value = Optional.empty();
            }
        }
        return value;
    }

    /**
     * Applies this diff's {@code rollups} alone to {@code rollups}, the rollups of {@code shard}'s state at
     * {@code seqno}, as {@link #apply} does (strictly), and checks the latest rollup the diff names: for a reader that
     * follows a state's rollups without the rest of the state (garbage collection's check of what it deletes).
     */
    public void applyToRollups(ShardId shard, SeqNo seqno, NavigableMap<SeqNo, HollowRollup> rollups) {
        if (!seqno.equals(seqnoFrom)) {
            throw new DiffApplyException(shard, seqno, this, "the state is not at " + seqnoFrom);
        }
        applyMap(shard, seqno, "rollups", this.rollups, () -> rollups);
        PartialRollupKey latest = rollups.isEmpty() ? null : rollups.lastEntry().getValue().key();
        if (!latestRollupKey.equals(latest)) {
            throw new DiffApplyException(shard, seqno, this, "the resulting latest rollup is " + latest
                    + ", but the diff says " + latestRollupKey);
        }
    }

    private <K, V> void applyMap(ShardId shard, SeqNo seqno, String field, List<FieldDiff<K, V>> diffs,
            java.util.function.Supplier<NavigableMap<K, V>> mutable) {
        if (diffs.isEmpty()) {
            return;
        }
        NavigableMap<K, V> map = mutable.get();
        for (FieldDiff<K, V> d : diffs) {
            V current = map.get(d.key());
            if (d.value() instanceof DiffValue.Insert<V> insert) {
                if (current != null) {
                    throw new DiffApplyException(shard, seqno, this, field + "[" + d.key() + "] already exists: " + d);
                }
                map.put(d.key(), insert.after());
            } else if (d.value() instanceof DiffValue.Update<V> update) {
                if (!update.before().equals(current)) {
                    throw new DiffApplyException(shard, seqno, this, field + "[" + d.key() + "] is " + current + ": " + d);
                }
                map.put(d.key(), update.after());
            } else if (d.value() instanceof DiffValue.Delete<V> delete) {
                if (!delete.before().equals(current)) {
                    throw new DiffApplyException(shard, seqno, this, field + "[" + d.key() + "] is " + current + ": " + d);
                }
                map.remove(d.key());
            }
        }
    }

    /**
     * Set difference, kept sorted by lower ({@link Trace#withEdits}): O(log² n) per batch of the diff, with
     * contiguity checked around each edit.
     */
    private Trace applyBatches(State state, Trace trace) {
        List<HollowBatch> deletes = new ArrayList<>();
        List<HollowBatch> inserts = new ArrayList<>();
        for (DiffValue<HollowBatch> d : batches) {
            if (d instanceof DiffValue.Delete<HollowBatch> delete) {
                deletes.add(delete.before());
            } else if (d instanceof DiffValue.Insert<HollowBatch> insert) {
                inserts.add(insert.after());
            } else {
                throw new DiffApplyException(state, this, "batches can only be inserted or deleted, got " + d);
            }
        }
        try {
            return trace.withEdits(deletes, inserts);
        } catch (IllegalArgumentException e) {
            throw new DiffApplyException(state, this, e.getMessage());
        } catch (IllegalStateException e) {
            throw new DiffApplyException(state, this, "the resulting trace is invalid: " + e.getMessage());
        }
    }

    /** Blobs this diff adds to state: inserted batches, and rollups inserted or updated to. */
    public List<HollowBlobRef> blobInserts() {
        List<HollowBlobRef> inserts = new ArrayList<>();
        for (DiffValue<HollowBatch> d : batches) {
            if (d instanceof DiffValue.Insert<HollowBatch> insert) {
                inserts.add(new HollowBlobRef.Batch(insert.after()));
            }
        }
        forEachRollup((before, after) -> {
            if (after != null) {
                inserts.add(new HollowBlobRef.Rollup(after));
            }
        });
        return inserts;
    }

    /**
     * Keys of the blob parts of deleted batches, minus any part that an inserted batch of this diff reuses (a
     * compaction can keep some runs as they were, and those parts must not be deleted).
     */
    public Set<PartialBatchKey> partDeletes() {
        Set<PartialBatchKey> deletes = new LinkedHashSet<>();
        for (DiffValue<HollowBatch> d : batches) {
            if (d instanceof DiffValue.Delete<HollowBatch> delete) {
                hollowKeys(delete.before(), deletes);
            }
        }
        deletes.removeAll(partInserts());
        return deletes;
    }

    /** Keys of the blob parts of inserted batches. */
    public Set<PartialBatchKey> partInserts() {
        Set<PartialBatchKey> inserts = new LinkedHashSet<>();
        for (DiffValue<HollowBatch> d : batches) {
            if (d instanceof DiffValue.Insert<HollowBatch> insert) {
                hollowKeys(insert.after(), inserts);
            }
        }
        return inserts;
    }

    /** Rollups this diff removes from state: deleted ones and the old values of updated ones. */
    public List<HollowRollup> rollupDeletes() {
        List<HollowRollup> deletes = new ArrayList<>();
        forEachRollup((before, after) -> {
            if (before != null) {
                deletes.add(before);
            }
        });
        return deletes;
    }

    private void forEachRollup(BiConsumer<HollowRollup, HollowRollup> beforeAfter) {
        for (FieldDiff<SeqNo, HollowRollup> d : rollups) {
            if (d.value() instanceof DiffValue.Insert<HollowRollup> insert) {
                beforeAfter.accept(null, insert.after());
            } else if (d.value() instanceof DiffValue.Update<HollowRollup> update) {
                beforeAfter.accept(update.before(), update.after());
            } else if (d.value() instanceof DiffValue.Delete<HollowRollup> delete) {
                beforeAfter.accept(delete.before(), null);
            }
        }
    }

    private static void hollowKeys(HollowBatch batch, Set<PartialBatchKey> into) {
        for (BatchPart part : batch.parts()) {
            if (part instanceof BatchPart.Hollow hollow) {
                into.add(hollow.key());
            }
        }
    }
}
