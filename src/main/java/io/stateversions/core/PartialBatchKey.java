package io.stateversions.core;

import java.util.Objects;

/**
 * The key of a batch part relative to its shard, {@code <writer key>/<part id>}, as state stores it; the blob key
 * is {@code <shard>/<writer key>/<part id>} ({@link #complete}).
 */
public record PartialBatchKey(WriterKey writer, PartId part) implements Comparable<PartialBatchKey> {

    public PartialBatchKey {
        Objects.requireNonNull(writer, "writer");
        Objects.requireNonNull(part, "part");
    }

    public static PartialBatchKey parse(String printed) {
        int slash = printed.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException(
                    "invalid batch part key \"" + printed + "\": expected <writer key>/<part id>");
        }
        return new PartialBatchKey(WriterKey.parse(printed.substring(0, slash)), PartId.parse(printed.substring(slash + 1)));
    }

    /** The blob key: {@code <shard>/<writer key>/<part id>}. */
    public String complete(ShardId shard) {
        return shard + "/" + this;
    }

    @Override
    public int compareTo(PartialBatchKey other) {
        int c = writer.compareTo(other.writer);
        return c != 0 ? c : part.compareTo(other.part);
    }

    @Override
    public String toString() {
        return writer + "/" + part;
    }
}
