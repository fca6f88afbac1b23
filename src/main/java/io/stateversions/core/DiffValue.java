package io.stateversions.core;

import java.util.Objects;

/** How one field (or one entry of a map field) changed between two states. */
public sealed interface DiffValue<V> {

    record Insert<V>(V after) implements DiffValue<V> {
        public Insert {
            Objects.requireNonNull(after, "after");
        }

        @Override
        public String toString() {
            return "Insert(" + after + ")";
        }
    }

    record Update<V>(V before, V after) implements DiffValue<V> {
        public Update {
            Objects.requireNonNull(before, "before");
            Objects.requireNonNull(after, "after");
        }

        @Override
        public String toString() {
            return "Update(" + before + " -> " + after + ")";
        }
    }

    record Delete<V>(V before) implements DiffValue<V> {
        public Delete {
            Objects.requireNonNull(before, "before");
        }

        @Override
        public String toString() {
            return "Delete(" + before + ")";
        }
    }
}
