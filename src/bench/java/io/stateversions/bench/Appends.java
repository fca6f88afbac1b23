package io.stateversions.bench;

import java.util.concurrent.CompletableFuture;

/**
 * One way of appending to many shards, each a log of its own: the service (gRPC or REST), or a baseline doing the
 * same compare-and-set per operation on its storage. A shard is used by one client at a time (closed loops give each
 * client its own shards; the open loop orders the operations of a shard), so implementations keep per-shard state
 * in plain arrays.
 */
interface Appends extends AutoCloseable {

    /** Creates {@code shards} fresh shards (keys), so that each measurement starts from the same place. */
    void prepare(int shards) throws Exception;

    /** Appends the next version to {@code shard}; throws unless it committed. */
    void append(int shard) throws Exception;

    /** {@link #append} without blocking; only the service's gRPC client implements it (P4). */
    default CompletableFuture<Void> appendAsync(int shard) {
        throw new UnsupportedOperationException(getClass().getSimpleName() + " has no asynchronous append");
    }

    @Override
    default void close() {}
}
