package io.stateversions.core;

import java.util.Collections;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * The keys of a state's maps that a transition put or removed, relative to the state it started from, per map: a
 * superset of the keys whose entries differ (a key put back to its old value, or inserted and removed again, is in it
 * too, and its diff emits nothing). {@link StateDiff#compute} compares the old and the new value of these keys alone,
 * O(k log n) for k keys of n, instead of merging both maps whole.
 *
 * <p>Never part of a state, like {@link BatchEdits}: a {@link StateCollections.Builder} records the keys
 * ({@link MapBuilder}), and a {@link Transition} joins the records of its steps ({@link #then}).
 */
record MapEdits(SortedSet<SeqNo> rollups, SortedSet<LeasedReaderId> leasedReaders,
        SortedSet<CriticalReaderId> criticalReaders, SortedSet<WriterId> writers, SortedSet<SchemaId> schemas,
        SortedSet<PartialBatchKey> releasedParts) {

    static final MapEdits NONE = new MapEdits(Collections.emptySortedSet(), Collections.emptySortedSet(),
            Collections.emptySortedSet(), Collections.emptySortedSet(), Collections.emptySortedSet(),
            Collections.emptySortedSet());

    /** These edits followed by {@code later}'s, the edits of a step that started where these end. */
    MapEdits then(MapEdits later) {
        return new MapEdits(union(rollups, later.rollups), union(leasedReaders, later.leasedReaders),
                union(criticalReaders, later.criticalReaders), union(writers, later.writers),
                union(schemas, later.schemas), union(releasedParts, later.releasedParts));
    }

    /** How many keys are recorded, over all maps. */
    int size() {
        return rollups.size() + leasedReaders.size() + criticalReaders.size() + writers.size() + schemas.size()
                + releasedParts.size();
    }

    /** Both sets' keys; changes neither (one of them when the other is empty, else a new set). */
    private static <K> SortedSet<K> union(SortedSet<K> earlier, SortedSet<K> later) {
        if (earlier.isEmpty()) {
            return later;
        }
        if (later.isEmpty()) {
            return earlier;
        }
        TreeSet<K> union = new TreeSet<>(earlier);
        union.addAll(later);
        return union;
    }
}
