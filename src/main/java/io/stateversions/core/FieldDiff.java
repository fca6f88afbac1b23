package io.stateversions.core;

import java.util.Objects;

/** How the entry at {@code key} of a map field changed. */
public record FieldDiff<K, V>(K key, DiffValue<V> value) {

    public FieldDiff {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
    }

    @Override
    public String toString() {
        return key + ": " + value;
    }
}
