package io.stateversions.core;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * A rollup that state refers to: its key and, when known, its size. The size is unknown for the initial rollup
 * (which contains itself) and for rollups that predate the field.
 */
public record HollowRollup(PartialRollupKey key, OptionalLong encodedSizeBytes) {

    public HollowRollup {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(encodedSizeBytes, "encodedSizeBytes");
    }

    @Override
    public String toString() {
        return key.toString();
    }
}
