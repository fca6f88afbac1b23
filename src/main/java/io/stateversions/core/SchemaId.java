package io.stateversions.core;

/** A registered schema pair: dense integers from 0. */
public record SchemaId(long value) implements Comparable<SchemaId> {

    public SchemaId {
        if (value < 0) {
            throw new IllegalArgumentException("schema id must be >= 0, got " + value);
        }
    }

    @Override
    public int compareTo(SchemaId other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return Long.toString(value);
    }
}
