package io.stateversions.core;

/**
 * A complete blob key, parsed (spec §2): {@code <shard>/<writer key>/<part id>} for a batch part,
 * {@code <shard>/v<seqno>/r<uuid>} for a rollup. Anything else is an error.
 */
public sealed interface BlobKey {

    ShardId shard();

    /** The prefix under which every blob of {@code shard} lives. */
    static String shardPrefix(ShardId shard) {
        return shard + "/";
    }

    /** The prefix under which every rollup of {@code shard} lives. */
    static String rollupPrefix(ShardId shard) {
        return shard + "/v";
    }

    record BatchPart(ShardId shard, PartialBatchKey key) implements BlobKey {
        @Override
        public String toString() {
            return key.complete(shard);
        }
    }

    record Rollup(ShardId shard, PartialRollupKey key) implements BlobKey {
        @Override
        public String toString() {
            return key.complete(shard);
        }
    }

    /** Splits at the first {@code /}, parses the shard, then a batch part key or a rollup key. */
    static BlobKey parse(String key) {
        int slash = key.indexOf('/');
        if (slash < 0) {
            throw new IllegalArgumentException("invalid blob key \"" + key + "\": expected <shard>/<partial key>");
        }
        ShardId shard = ShardId.parse(key.substring(0, slash));
        String rest = key.substring(slash + 1);
        if (rest.indexOf('/') < 0 || rest.indexOf('/') != rest.lastIndexOf('/')) {
            throw new IllegalArgumentException("invalid blob key \"" + key + "\": expected 3 segments");
        }
        char first = rest.isEmpty() ? 0 : rest.charAt(0);
        return switch (first) {
            case 'w', 'n', 'f' -> new BatchPart(shard, PartialBatchKey.parse(rest));
            default -> new Rollup(shard, PartialRollupKey.parse(rest));
        };
    }
}
