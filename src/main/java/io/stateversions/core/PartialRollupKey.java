package io.stateversions.core;

import java.util.Objects;

/**
 * The key of a rollup relative to its shard, {@code v<seqno>/r<uuid>}; the blob key is
 * {@code <shard>/v<seqno>/r<uuid>} ({@link #complete}). The seqno of the state a rollup holds can be read back out
 * of its key, which the slow path of {@code fetchRecentLiveDiffs} relies on.
 */
public record PartialRollupKey(SeqNo seqno, RollupId rollup) implements Comparable<PartialRollupKey> {

    public PartialRollupKey {
        Objects.requireNonNull(seqno, "seqno");
        Objects.requireNonNull(rollup, "rollup");
    }

    public static PartialRollupKey parse(String printed) {
        int slash = printed.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("invalid rollup key \"" + printed + "\": expected v<seqno>/r<uuid>");
        }
        return new PartialRollupKey(SeqNo.parse(printed.substring(0, slash)), RollupId.parse(printed.substring(slash + 1)));
    }

    /** The blob key: {@code <shard>/v<seqno>/r<uuid>}. */
    public String complete(ShardId shard) {
        return shard + "/" + this;
    }

    @Override
    public int compareTo(PartialRollupKey other) {
        int c = seqno.compareTo(other.seqno);
        return c != 0 ? c : rollup.compareTo(other.rollup);
    }

    @Override
    public String toString() {
        return seqno + "/" + rollup;
    }
}
