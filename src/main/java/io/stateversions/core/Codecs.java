package io.stateversions.core;

import java.util.Objects;

/**
 * The names of the codecs of a shard's keys, values, timestamps and diffs (spec §6.5). Fixed for the shard's
 * lifetime, stored in every rollup, and checked whenever a shard is opened: opening with other names is a
 * {@link CodecMismatchException}, never a reinterpretation of the data.
 */
public record Codecs(String key, String val, String ts, String diff) {

    public Codecs {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(val, "val");
        Objects.requireNonNull(ts, "ts");
        Objects.requireNonNull(diff, "diff");
    }

    @Override
    public String toString() {
        return "(" + key + ", " + val + ", " + ts + ", " + diff + ")";
    }
}
