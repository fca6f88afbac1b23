package io.stateversions.bench;

import io.grpc.StatusRuntimeException;
import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.ShardState;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The memory workload's shards: each opened, given a writer and appended to once (P1's unit of work: one part
 * reference), many at once; then read back, to check that a service holding them all still answers for each.
 */
final class OnceAppendedShards {

    private final ServiceGrpc grpc;
    private final byte[] payload;
    private final String[] shardIds;
    private final String[] writerIds;

    OnceAppendedShards(ServiceGrpc grpc, int count, int payloadBytes) {
        this.grpc = grpc;
        this.payload = new byte[payloadBytes];
        new Random(7).nextBytes(payload);
        this.shardIds = new String[count];
        this.writerIds = new String[count];
    }

    int count() {
        return shardIds.length;
    }

    /**
     * Opens every shard, registers its writer and appends {@code [0, 1)} with one part, {@code clients} shards at
     * once, printing progress every tenth. A call answered outcome-unknown or unavailable is retried with the same
     * request ({@link ServiceGrpc#forEach}): the append keeps its idempotency token, so a retry of one that did commit
     * is answered "already committed" and adds nothing.
     */
    void create(int clients) throws Exception {
        int count = count();
        CompareAndAppendRequest[] appends = new CompareAndAppendRequest[count];
        AtomicLong done = new AtomicLong();
        long step = Math.max(1, count / 10);
        long started = System.nanoTime();
        ServiceGrpc.forEach(count, clients, i -> {
            if (shardIds[i] == null) {
                shardIds[i] = ServiceGrpc.newShardId();
                writerIds[i] = "w" + UUID.randomUUID();
                appends[i] = ServiceGrpc.append(shardIds[i], writerIds[i], 0, payload);
            }
            return grpc.openWithWriterAsync(shardIds[i], writerIds[i], i)
                    .thenCompose(registered -> ServiceGrpc.toCompletable(grpc.future(i).compareAndAppend(appends[i])))
                    .thenRun(() -> {
                        appends[i] = null; // committed: 100,000 requests need not stay in this heap
                        long now = done.incrementAndGet();
                        if (now % step == 0) {
                            System.out.printf("  %d of %d shards opened and appended to (%.0f shards/s)%n", now,
                                    count, now / ((System.nanoTime() - started) / 1e9));
                        }
                    });
        });
    }

    /**
     * Reads the state of {@code sample} shards picked at random (distinct) and checks that each holds its one batch:
     * {@code [0, 1)}, one part written by its writer. Returns a line for every shard that did not answer so.
     */
    List<String> check(int sample, Random random) {
        List<Integer> picked = new ArrayList<>(count());
        for (int i = 0; i < count(); i++) {
            picked.add(i);
        }
        java.util.Collections.shuffle(picked, random);
        List<String> failures = new ArrayList<>();
        for (int i : picked.subList(0, Math.min(sample, count()))) {
            try {
                String wrong = wrongBatch(grpc.getState(shardIds[i], i), writerIds[i]);
                if (wrong != null) {
                    failures.add(shardIds[i] + ": " + wrong);
                }
            } catch (StatusRuntimeException e) {
                failures.add(shardIds[i] + ": GetState failed with " + e.getStatus());
            }
        }
        return failures;
    }

    /** What is wrong with {@code state} for a shard appended to once by {@code writerId}, or null if nothing. */
    static String wrongBatch(ShardState state, String writerId) {
        if (state.getBatchesCount() != 1) {
            return state.getBatchesCount() + " batches instead of 1";
        }
        Batch batch = state.getBatches(0);
        if (!batch.getLower().equals(ServiceGrpc.frontier(0)) || !batch.getUpper().equals(ServiceGrpc.frontier(1))) {
            return "its batch is " + batch.getLower().getElementsList() + ".." + batch.getUpper().getElementsList()
                    + " instead of [0]..[1]";
        }
        if (batch.getPartsCount() != 1 || !batch.getParts(0).getBlob().getKey().startsWith(writerId + "/")) {
            return "its batch's parts are not the one part of writer " + writerId + ": " + batch.getPartsList();
        }
        return null;
    }
}
