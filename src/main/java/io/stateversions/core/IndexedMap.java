package io.stateversions.core;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Function;
import org.pcollections.TreePMap;
import org.pcollections.TreePSet;

/**
 * One of a state's maps (rollups, handles, schemas), persistent, with persistent sorted indexes of its values: a new
 * version shares every entry it did not change with the version before, so that putting or removing a key costs
 * O(log n) and never copies the map. The map is a pcollections {@link TreePMap} (a balanced tree: {@code equals}
 * and iteration in key order as a {@link java.util.TreeMap} with the same entries); each index a {@link TreePSet} of
 * (derived value, key), kept up to date by every {@link #plus} and {@link #minus}.
 *
 * <p>Indexes answer the questions that every commit asks about all handles of a shard without walking them: which
 * leases lapsed by now ({@link #keysBelow}), the least seqno hold and the least since ({@link #least}). They are
 * derived data, never encoded: a decoded map builds them once ({@link #of}, O(n log n)), and from then on they
 * follow the map's edits.
 */
final class IndexedMap<K extends Comparable<? super K>, V> {

    /**
     * An index of a map: its keys ordered by {@code value} of their map value, then by key. {@code value} must be a
     * function of the map value alone (it is recomputed to find the index entry of a value being replaced).
     */
    record Index<V, T extends Comparable<? super T>>(String name, Function<? super V, ? extends T> value) {

        Index {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(value, "value");
        }
    }

    /** An index entry: the derived value, then the key, so that keys with equal values are told apart. */
    private record Indexed<K extends Comparable<? super K>>(Comparable<Object> value, K key)
            implements Comparable<Indexed<K>> {

        @Override
        public int compareTo(Indexed<K> other) {
            int c = value.compareTo(other.value);
            return c != 0 ? c : key.compareTo(other.key);
        }
    }

    private final TreePMap<K, V> tree;
    /** {@link #tree} as {@link #map} returns it. */
    private final NavigableMap<K, V> map;
    /** What is indexed: the same list for every version of one map. */
    private final List<Index<V, ?>> indexes;
    /** Per index, in the order of {@link #indexes}: one entry per key of {@link #map}. */
    private final TreePSet<Indexed<K>>[] sets;

    private IndexedMap(TreePMap<K, V> tree, List<Index<V, ?>> indexes, TreePSet<Indexed<K>>[] sets) {
        this.tree = tree;
        this.map = new ReadOnly<>(tree);
        this.indexes = indexes;
        this.sets = sets;
    }

    /** An empty map with {@code indexes}. */
    static <K extends Comparable<? super K>, V> IndexedMap<K, V> empty(List<Index<V, ?>> indexes) {
        TreePSet<Indexed<K>>[] sets = newSets(indexes.size());
        for (int i = 0; i < sets.length; i++) {
            sets[i] = TreePSet.empty();
        }
        return new IndexedMap<>(TreePMap.empty(), List.copyOf(indexes), sets);
    }

    /** The entries of {@code entries} with {@code indexes}: O(n log n), for a decoded state. */
    static <K extends Comparable<? super K>, V> IndexedMap<K, V> of(Map<K, V> entries, List<Index<V, ?>> indexes) {
        TreePMap<K, V> tree;
        if (entries instanceof ReadOnly<K, V> persistent && persistent.tree.comparator() == Comparator.naturalOrder()) {
            tree = persistent.tree; // not a descending view
        } else if (entries instanceof SortedMap<K, V> sorted && sorted.comparator() == null) {
            tree = TreePMap.fromSortedMap(sorted); // O(n)
        } else {
            TreeMap<K, V> natural = new TreeMap<>();
            natural.putAll(entries);
            tree = TreePMap.fromSortedMap(natural);
        }
        TreePSet<Indexed<K>>[] sets = newSets(indexes.size());
        for (int i = 0; i < sets.length; i++) {
            TreeSet<Indexed<K>> sorted = new TreeSet<>();
            for (Map.Entry<K, V> entry : tree.entrySet()) {
                sorted.add(new Indexed<>(valueOf(indexes.get(i), entry.getValue()), entry.getKey()));
            }
            sets[i] = TreePSet.fromSortedSet(sorted);
        }
        Visits.add((long) tree.size() * (1 + sets.length));
        return new IndexedMap<>(tree, List.copyOf(indexes), sets);
    }

    /** The map: read-only, persistent (it never changes once returned), one instance per version. */
    NavigableMap<K, V> map() {
        return map;
    }

    /** The same indexes, of an empty map. */
    IndexedMap<K, V> cleared() {
        return tree.isEmpty() ? this : empty(indexes);
    }

    /** This map with {@code key} mapped to {@code value}: O(log n) per index. */
    IndexedMap<K, V> plus(K key, V value) {
        Objects.requireNonNull(value, "value");
        V old = tree.get(key);
        if (old == value) {
            return this;
        }
        TreePSet<Indexed<K>>[] next = sets.clone();
        for (int i = 0; i < next.length; i++) {
            Comparable<Object> after = valueOf(indexes.get(i), value);
            if (old != null) {
                Comparable<Object> before = valueOf(indexes.get(i), old);
                if (before.compareTo(after) == 0) {
                    continue;
                }
                next[i] = next[i].minus(new Indexed<>(before, key));
            }
            next[i] = next[i].plus(new Indexed<>(after, key));
        }
        return checked(new IndexedMap<>(tree.plus(key, value), indexes, next), "put", key);
    }

    /** This map without {@code key}: O(log n) per index. */
    IndexedMap<K, V> minus(K key) {
        V old = tree.get(key);
        if (old == null) {
            return this;
        }
        TreePSet<Indexed<K>>[] next = sets.clone();
        for (int i = 0; i < next.length; i++) {
            next[i] = next[i].minus(new Indexed<>(valueOf(indexes.get(i), old), key));
        }
        return checked(new IndexedMap<>(tree.minus(key), indexes, next), "removal", key);
    }

    /** The least value of {@code index}, if the map is not empty: O(log n). */
    <T extends Comparable<? super T>> Optional<T> least(Index<V, T> index) {
        TreePSet<Indexed<K>> set = sets[position(index)];
        if (set.isEmpty()) {
            return Optional.empty();
        }
        @SuppressWarnings("unchecked")
        T least = (T) set.first().value();
        return Optional.of(least);
    }

    /** The keys whose value of {@code index} is less than {@code bound}, least first: O(log n + their number). */
    <T extends Comparable<? super T>> List<K> keysBelow(Index<V, T> index, T bound) {
        List<K> below = new ArrayList<>();
        long visited = 0;
        Iterator<Indexed<K>> it = sets[position(index)].iterator();
        while (it.hasNext()) {
            Indexed<K> entry = it.next();
            visited++;
            if (entry.value().compareTo(bound) >= 0) {
                break;
            }
            below.add(entry.key());
        }
        Visits.add(visited);
        return below;
    }

    private int position(Index<V, ?> index) {
        for (int i = 0; i < indexes.size(); i++) {
            if (indexes.get(i) == index) {
                return i;
            }
        }
        throw new IllegalArgumentException("no index " + index.name() + " on this map; it has "
                + indexes.stream().map(Index::name).toList());
    }

    /** Fails if an index lost track of the map: a value whose index entry could not be found again. */
    private static <K extends Comparable<? super K>, V> IndexedMap<K, V> checked(IndexedMap<K, V> next, String edit,
            K key) {
        for (int i = 0; i < next.sets.length; i++) {
            if (next.sets[i].size() != next.tree.size()) {
                throw new IllegalStateException("invariant violated: after the " + edit + " of " + key + ", index "
                        + next.indexes.get(i).name() + " holds " + next.sets[i].size() + " entries for a map of "
                        + next.tree.size());
            }
        }
        return next;
    }

    @SuppressWarnings("unchecked")
    private static <V> Comparable<Object> valueOf(Index<V, ?> index, V value) {
        return (Comparable<Object>) Objects.requireNonNull(index.value().apply(value), index.name());
    }

    @SuppressWarnings("unchecked")
    private static <K extends Comparable<? super K>> TreePSet<Indexed<K>>[] newSets(int size) {
        return (TreePSet<Indexed<K>>[]) new TreePSet<?>[size];
    }

    @Override
    public String toString() {
        return tree.toString();
    }

    /**
     * A {@link TreePMap} as a read-only {@link NavigableMap} that keeps the interface's contract where pcollections
     * 4.0 does not: its {@code firstEntry} and {@code lastEntry} throw on an empty map instead of answering null (so
     * does every sub-map of it, which this wraps too). Everything else is the tree's: O(log n) lookups, O(1) size,
     * iteration in key order, {@code equals} with any map of the same entries.
     */
    static final class ReadOnly<K, V> extends AbstractMap<K, V> implements NavigableMap<K, V> {

        private final TreePMap<K, V> tree;

        ReadOnly(TreePMap<K, V> tree) {
            this.tree = tree;
        }

        @Override
        public int size() {
            return tree.size();
        }

        @Override
        public boolean isEmpty() {
            return tree.isEmpty();
        }

        @Override
        public boolean containsKey(Object key) {
            return tree.containsKey(key);
        }

        @Override
        public V get(Object key) {
            return tree.get(key);
        }

        @Override
        public Set<Map.Entry<K, V>> entrySet() {
            return tree.entrySet();
        }

        @Override
        public Set<K> keySet() {
            return tree.keySet();
        }

        /** Null for the keys' natural order, as {@link java.util.SortedMap#comparator} asks (pcollections names it). */
        @Override
        public Comparator<? super K> comparator() {
            Comparator<? super K> comparator = tree.comparator();
            return comparator == Comparator.naturalOrder() ? null : comparator;
        }

        @Override
        public K firstKey() {
            return tree.firstKey();
        }

        @Override
        public K lastKey() {
            return tree.lastKey();
        }

        @Override
        public Map.Entry<K, V> firstEntry() {
            return tree.isEmpty() ? null : tree.firstEntry();
        }

        @Override
        public Map.Entry<K, V> lastEntry() {
            return tree.isEmpty() ? null : tree.lastEntry();
        }

        @Override
        public Map.Entry<K, V> pollFirstEntry() {
            throw new UnsupportedOperationException("a state's maps are read-only");
        }

        @Override
        public Map.Entry<K, V> pollLastEntry() {
            throw new UnsupportedOperationException("a state's maps are read-only");
        }

        @Override
        public Map.Entry<K, V> lowerEntry(K key) {
            return tree.lowerEntry(key);
        }

        @Override
        public K lowerKey(K key) {
            return tree.lowerKey(key);
        }

        @Override
        public Map.Entry<K, V> floorEntry(K key) {
            return tree.floorEntry(key);
        }

        @Override
        public K floorKey(K key) {
            return tree.floorKey(key);
        }

        @Override
        public Map.Entry<K, V> ceilingEntry(K key) {
            return tree.ceilingEntry(key);
        }

        @Override
        public K ceilingKey(K key) {
            return tree.ceilingKey(key);
        }

        @Override
        public Map.Entry<K, V> higherEntry(K key) {
            return tree.higherEntry(key);
        }

        @Override
        public K higherKey(K key) {
            return tree.higherKey(key);
        }

        @Override
        public NavigableMap<K, V> descendingMap() {
            return new ReadOnly<>(tree.descendingMap());
        }

        @Override
        public NavigableSet<K> navigableKeySet() {
            return tree.navigableKeySet();
        }

        @Override
        public NavigableSet<K> descendingKeySet() {
            return tree.descendingKeySet();
        }

        @Override
        public NavigableMap<K, V> subMap(K fromKey, boolean fromInclusive, K toKey, boolean toInclusive) {
            return new ReadOnly<>(tree.subMap(fromKey, fromInclusive, toKey, toInclusive));
        }

        @Override
        public NavigableMap<K, V> headMap(K toKey, boolean inclusive) {
            return new ReadOnly<>(tree.headMap(toKey, inclusive));
        }

        @Override
        public NavigableMap<K, V> tailMap(K fromKey, boolean inclusive) {
            return new ReadOnly<>(tree.tailMap(fromKey, inclusive));
        }

        @Override
        public SortedMap<K, V> subMap(K fromKey, K toKey) {
            return subMap(fromKey, true, toKey, false);
        }

        @Override
        public SortedMap<K, V> headMap(K toKey) {
            return headMap(toKey, false);
        }

        @Override
        public SortedMap<K, V> tailMap(K fromKey) {
            return tailMap(fromKey, true);
        }
    }
}
