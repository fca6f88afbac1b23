package io.stateversions.core;

import java.util.AbstractMap;
import java.util.AbstractSet;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableMap;
import java.util.NavigableSet;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeSet;

/**
 * One map of a {@link StateCollections.Builder}: the persistent map as the transition has left it so far, and the
 * record of the keys it put or removed (one set of a {@link MapEdits}), from which {@link StateDiff#compute} builds
 * the map's diff without comparing both maps whole.
 *
 * <p>Commands change it through {@link #mutable()}, a {@link NavigableMap} whose {@code put}, {@code remove},
 * {@code clear}, {@code pollFirstEntry}/{@code pollLastEntry} and iterator {@code remove} (of its entry, key and value
 * views) replace the persistent map, O(log n) each, and record the key. Nothing else changes it: entries are
 * immutable ({@code setValue} throws), and the navigation views ({@code headMap}, {@code descendingMap}, ...) are
 * read-only snapshots. Iterating a view iterates the map as it was when the iteration began, so removing entries
 * while iterating is safe, and counts as visits ({@link Visits}): a walk over all handles shows in the structural
 * tests.
 */
final class MapBuilder<K extends Comparable<? super K>, V> {

    private IndexedMap<K, V> current;
    // Made on first use, as most builders touch one or two of a state's five maps.
    private TreeSet<K> edited;
    private View readOnly;
    private View writable;

    MapBuilder(IndexedMap<K, V> from) {
        this.current = Objects.requireNonNull(from, "from");
    }

    /** The map as it is now, persistent: what {@link StateCollections.Builder#build} hands over, at no cost. */
    IndexedMap<K, V> current() {
        return current;
    }

    /** The keys put or removed since this builder was made, so far: to read once the transition is done with it. */
    SortedSet<K> edited() {
        return edited == null ? Collections.emptySortedSet() : Collections.unmodifiableSortedSet(edited);
    }

    /** A read-only view of the map, following its changes. */
    NavigableMap<K, V> view() {
        if (readOnly == null) {
            readOnly = new View(false);
        }
        return readOnly;
    }

    /** The view to change the map through. */
    NavigableMap<K, V> mutable() {
        if (writable == null) {
            writable = new View(true);
        }
        return writable;
    }

    private void record(K key) {
        if (edited == null) {
            edited = new TreeSet<>();
        }
        edited.add(key);
    }

    private V put(K key, V value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        V old = current.map().get(key);
        current = current.plus(key, value);
        record(key);
        return old;
    }

    private V remove(K key) {
        V old = current.map().get(key);
        if (old != null) {
            current = current.minus(key);
            record(key);
        }
        return old;
    }

    private void clear() {
        Visits.add(current.map().size());
        current.map().keySet().forEach(this::record);
        current = current.cleared();
    }

    /** The builder's map as a {@link NavigableMap}; {@code writable} or read-only. */
    private final class View extends AbstractMap<K, V> implements NavigableMap<K, V> {

        private final boolean writable;
        private Set<Map.Entry<K, V>> entries;

        View(boolean writable) {
            this.writable = writable;
        }

        private NavigableMap<K, V> map() {
            return current.map();
        }

        private void checkWritable() {
            if (!writable) {
                throw new UnsupportedOperationException("read-only view of a state's map; change it through the"
                        + " builder's mutable view");
            }
        }

        @Override
        public int size() {
            return map().size();
        }

        @Override
        public boolean isEmpty() {
            return map().isEmpty();
        }

        @Override
        public boolean containsKey(Object key) {
            return map().containsKey(key);
        }

        @Override
        public V get(Object key) {
            return map().get(key);
        }

        @Override
        public V put(K key, V value) {
            checkWritable();
            return MapBuilder.this.put(key, value);
        }

        @Override
        @SuppressWarnings("unchecked")
        public V remove(Object key) {
            checkWritable();
            return MapBuilder.this.remove((K) Objects.requireNonNull(key, "key"));
        }

        @Override
        public void clear() {
            checkWritable();
            MapBuilder.this.clear();
        }

        @Override
        public Set<Map.Entry<K, V>> entrySet() {
            if (entries == null) {
                entries = new Entries();
            }
            return entries;
        }

        @Override
        public Comparator<? super K> comparator() {
            return map().comparator();
        }

        @Override
        public K firstKey() {
            return map().firstKey();
        }

        @Override
        public K lastKey() {
            return map().lastKey();
        }

        @Override
        public Map.Entry<K, V> lowerEntry(K key) {
            return map().lowerEntry(key);
        }

        @Override
        public K lowerKey(K key) {
            return map().lowerKey(key);
        }

        @Override
        public Map.Entry<K, V> floorEntry(K key) {
            return map().floorEntry(key);
        }

        @Override
        public K floorKey(K key) {
            return map().floorKey(key);
        }

        @Override
        public Map.Entry<K, V> ceilingEntry(K key) {
            return map().ceilingEntry(key);
        }

        @Override
        public K ceilingKey(K key) {
            return map().ceilingKey(key);
        }

        @Override
        public Map.Entry<K, V> higherEntry(K key) {
            return map().higherEntry(key);
        }

        @Override
        public K higherKey(K key) {
            return map().higherKey(key);
        }

        @Override
        public Map.Entry<K, V> firstEntry() {
            return map().firstEntry();
        }

        @Override
        public Map.Entry<K, V> lastEntry() {
            return map().lastEntry();
        }

        @Override
        public Map.Entry<K, V> pollFirstEntry() {
            checkWritable();
            Map.Entry<K, V> first = map().firstEntry();
            if (first != null) {
                remove(first.getKey());
            }
            return first;
        }

        @Override
        public Map.Entry<K, V> pollLastEntry() {
            checkWritable();
            Map.Entry<K, V> last = map().lastEntry();
            if (last != null) {
                remove(last.getKey());
            }
            return last;
        }

        // The navigation views are snapshots of the map as it is now, and read-only (persistent maps).

        @Override
        public NavigableMap<K, V> descendingMap() {
            return map().descendingMap();
        }

        @Override
        public NavigableSet<K> navigableKeySet() {
            return map().navigableKeySet();
        }

        @Override
        public NavigableSet<K> descendingKeySet() {
            return map().descendingKeySet();
        }

        @Override
        public NavigableMap<K, V> subMap(K fromKey, boolean fromInclusive, K toKey, boolean toInclusive) {
            return map().subMap(fromKey, fromInclusive, toKey, toInclusive);
        }

        @Override
        public NavigableMap<K, V> headMap(K toKey, boolean inclusive) {
            return map().headMap(toKey, inclusive);
        }

        @Override
        public NavigableMap<K, V> tailMap(K fromKey, boolean inclusive) {
            return map().tailMap(fromKey, inclusive);
        }

        @Override
        public SortedMap<K, V> subMap(K fromKey, K toKey) {
            return map().subMap(fromKey, toKey);
        }

        @Override
        public SortedMap<K, V> headMap(K toKey) {
            return map().headMap(toKey);
        }

        @Override
        public SortedMap<K, V> tailMap(K fromKey) {
            return map().tailMap(fromKey);
        }

        /** The entries, iterated as the map was when the iteration began; removing through the iterator is allowed. */
        private final class Entries extends AbstractSet<Map.Entry<K, V>> {

            @Override
            public int size() {
                return View.this.size();
            }

            @Override
            public boolean contains(Object o) {
                return o instanceof Map.Entry<?, ?> e && e.getValue() != null
                        && e.getValue().equals(View.this.get(e.getKey()));
            }

            @Override
            public Iterator<Map.Entry<K, V>> iterator() {
                Iterator<Map.Entry<K, V>> snapshot = map().entrySet().iterator();
                return new Iterator<>() {
                    private Map.Entry<K, V> last;

                    @Override
                    public boolean hasNext() {
                        return snapshot.hasNext();
                    }

                    @Override
                    public Map.Entry<K, V> next() {
                        if (!snapshot.hasNext()) {
                            throw new NoSuchElementException();
                        }
                        last = snapshot.next();
                        Visits.add(1);
                        return last;
                    }

                    @Override
                    public void remove() {
                        checkWritable();
                        if (last == null) {
                            throw new IllegalStateException("next() has not been called, or remove() was already");
                        }
                        MapBuilder.this.remove(last.getKey());
                        last = null;
                    }
                };
            }

            @Override
            public void clear() {
                View.this.clear();
            }
        }
    }
}
