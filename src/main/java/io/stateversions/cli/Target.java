package io.stateversions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Where the command-line tool reads a shard: a running service ({@link OnlineTarget}, its REST API) or storage itself
 * ({@link OfflineTarget}, Consensus and Blob through the service's own state layer). Both answer the same JSON: the
 * REST API's shapes ({@code io.stateversions.api.rest.Views}), so that a script cannot tell them apart.
 */
interface Target extends AutoCloseable {

    /** A page of shard ids: {@code {"shards", "next"}}. */
    JsonNode shards(Optional<String> after, int limit);

    /** The current state (the REST API's ShardState). */
    JsonNode state(String shard);

    /** Live versions: {@code {"earliest", "current", "versions", "next"}}. */
    JsonNode versions(String shard, OptionalLong from, int limit);

    /** The decoded diff of one live version (an item of {@code /diffs}). */
    JsonNode diff(String shard, long seqno);

    /** {@code {"rollups": [{"seqno", "key", "encodedSizeBytes"}]}}. */
    JsonNode rollups(String shard);

    /** Referenced against present blobs ({@code BlobsView}). */
    JsonNode blobs(String shard);

    /** The invariant check ({@code CheckView}); {@code ok} is false on a violation. */
    JsonNode check(String shard);

    /** Runs GC now (online only). */
    JsonNode gc(String shard);

    /** Writes a rollup now (online only). */
    JsonNode rollup(String shard);

    /** Sweeps leaked blobs (online only); {@code graceMs} empty: the service's default. */
    JsonNode sweep(String shard, OptionalLong graceMs);

    @Override
    void close();
}
