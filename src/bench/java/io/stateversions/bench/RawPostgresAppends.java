package io.stateversions.bench;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Determinate;
import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The physical limit of the storage the service sits on: the service's own Consensus backend
 * ({@link PostgresConsensus}, so exactly its compare-and-set statements, at READ COMMITTED, on the same kind of Vert.x
 * reactive pool with the same size and start-up parameters) called directly, one compare-and-set of
 * {@code expected + 1} per operation, with no state machine, no API and no network hop in between, in a database of
 * its own. Values are as large as the service's encoded diffs.
 *
 * <p>Two flavours: <b>alone</b> (every compare-and-set its own statement and transaction, as a client calling
 * PostgreSQL directly would), and <b>grouped</b> (the service's group commit, with the service's default settings:
 * concurrent compare-and-sets of different keys share one statement and one transaction), the physical limit of the
 * service's own way of committing.
 */
final class RawPostgresAppends implements Appends {

    private final Vertx vertx;
    private final PostgresConsensus consensus;
    private final byte[] value;
    private final LongAdder retries = new LongAdder();
    private String[] keys = new String[0];
    private long[] heads = new long[0];

    /** @param grouped whether compare-and-sets go in groups (the service's defaults) or each alone */
    RawPostgresAppends(String url, int poolSize, int valueBytes, boolean grouped) {
        this.vertx = Vertx.vertx();
        PostgresConsensus.GroupCommit groupCommit = grouped ? PostgresConsensus.GroupCommit.DEFAULTS
                : new PostgresConsensus.GroupCommit(1, poolSize, size -> {});
        this.consensus = PostgresPools.consensus(vertx, url, new PostgresPools.Settings(poolSize,
                Duration.ofSeconds(60), Duration.ofSeconds(300), Duration.ofSeconds(5), Duration.ofSeconds(30),
                groupCommit), () -> {});
        this.value = new byte[valueBytes];
        new Random(7).nextBytes(value);
    }

    @Override
    public void prepare(int shards) throws Exception {
        keys = new String[shards];
        heads = new long[shards];
        ServiceGrpc.forEach(shards, ServiceGrpc.SETUP_CONCURRENCY, i -> {
            keys[i] = ServiceGrpc.newShardId(); // a key of the same shape as the service's, never used by it
            heads[i] = 1;
            return consensus.compareAndSet(keys[i], Optional.empty(),
                    new io.stateversions.location.VersionedData(SeqNo.of(1), value)).toCompletableFuture()
                    .thenAccept(RawPostgresAppends::check);
        });
    }

    /**
     * One compare-and-set; a determinate failure (none are expected at READ COMMITTED; at SERIALIZABLE PostgreSQL
     * aborted some concurrent transactions on neighbouring keys with 40001) is retried at once, as the service's
     * machine retries it.
     */
    @Override
    public void append(int shard) throws Exception {
        long head = heads[shard];
        for (int attempt = 1;; attempt++) {
            try {
                CasResult result = consensus.compareAndSet(keys[shard], Optional.of(SeqNo.of(head)),
                        new io.stateversions.location.VersionedData(SeqNo.of(head + 1), value)).toCompletableFuture()
                        .get(60, TimeUnit.SECONDS);
                check(result);
                heads[shard] = head + 1;
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof Determinate) || attempt >= 100) {
                    throw e;
                }
                retries.increment();
            }
        }
    }

    /** Determinate failures retried so far. */
    long retries() {
        return retries.sum();
    }

    @Override
    public CompletableFuture<Void> appendAsync(int shard) {
        long head = heads[shard];
        return consensus.compareAndSet(keys[shard], Optional.of(SeqNo.of(head)),
                new io.stateversions.location.VersionedData(SeqNo.of(head + 1), value)).toCompletableFuture()
                .thenAccept(result -> {
                    check(result);
                    heads[shard] = head + 1;
                });
    }

    private static void check(CasResult result) {
        if (result != CasResult.COMMITTED) {
            throw new IllegalStateException("raw compare-and-set did not commit: " + result);
        }
    }

    @Override
    public void close() {
        if (retries.sum() > 0) {
            System.out.printf("  raw PostgreSQL: %d compare-and-sets retried after a determinate failure%n",
                    retries.sum());
        }
        consensus.close();
        vertx.close();
    }
}
