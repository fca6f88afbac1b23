package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.GroupCommitter;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import io.stateversions.testing.ForwardingConsensus;
import org.junit.jupiter.api.Test;

/**
 * The machines over a Consensus that commits compare-and-sets in groups ({@link GroupCommitter}), as the PostgreSQL
 * backend does: many shards append at once, and some groups fail indeterminately <em>after</em> all their members
 * committed (the reply of the one statement is lost). Every member's machine must recover its own outcome (re-read,
 * recognise its idempotency token) and answer its caller success; every acknowledged append is in state once.
 */
class GroupCommitMachineTest {

    /** Memory Consensus behind a group committer whose groups of two or more can lose their reply. */
    private static final class Grouped extends ForwardingConsensus {
        final AtomicInteger lostGroups = new AtomicInteger();
        final AtomicInteger toLose = new AtomicInteger();
        final AtomicInteger largestGroup = new AtomicInteger();
        final GroupCommitter committer = new GroupCommitter(32, 1, this::send, size -> {});
        /** The first group sent waits for this: meanwhile every other compare-and-set queues. */
        final CompletableFuture<Void> releaseFirst = new CompletableFuture<>();
        private final java.util.concurrent.atomic.AtomicBoolean first = new java.util.concurrent.atomic.AtomicBoolean(true);

        Grouped() {
            super(new MemoryConsensus());
        }

        private CompletionStage<List<CasResult>> send(List<CasRequest> group) {
            largestGroup.accumulateAndGet(group.size(), Math::max);
            List<CompletableFuture<CasResult>> members = delegate.compareAndSetAll(group).stream()
                    .map(CompletionStage::toCompletableFuture).toList();
            CompletableFuture<Void> held = first.getAndSet(false)
                    ? releaseFirst.thenApplyAsync(released -> released) : CompletableFuture.completedFuture(null);
            return CompletableFuture.allOf(members.toArray(CompletableFuture[]::new)).thenCombine(held,
                    (done, released) -> done).thenCompose(done -> {
                if (group.size() > 1 && toLose.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                    lostGroups.incrementAndGet();
                    return CompletableFuture.failedFuture(new Indeterminate("injected: the reply of a group of "
                            + group.size() + " was lost after it committed"));
                }
                return CompletableFuture.completedFuture(members.stream().map(CompletableFuture::join).toList());
            });
        }

        @Override
        public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
            return expected.isEmpty() ? delegate.compareAndSet(key, expected, newData)
                    : committer.submit(new CasRequest(key, expected.get(), newData));
        }
    }

    @Test
    void groupsThatLoseTheirReplyAfterCommittingAreRecoveredByEachMembersMachine() throws Exception {
        Grouped consensus = new Grouped();
        ShardService service = GcFaultsTest.replica(consensus, new MemoryBlob(false), "replica-a", false,
                java.time.Duration.ofSeconds(60)).service();
        int shards = 16;
        int appends = 20;
        List<ShardId> ids = new ArrayList<>();
        for (int i = 0; i < shards; i++) {
            ShardId shard = ShardId.random();
            join(service.openShard(shard, CODECS));
            ids.add(shard);
        }
        consensus.toLose.set(10);
        // Every client's first compare-and-set is sent while the first group is held: they queue, and go as one group.
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(shards);
        ExecutorService clients = Executors.newFixedThreadPool(shards);
        try {
            List<Future<List<HollowBatch>>> done = new ArrayList<>();
            for (ShardId shard : ids) {
                done.add(clients.submit(() -> {
                    WriterId writer = WriterId.random();
                    List<HollowBatch> acked = new ArrayList<>();
                    for (long upper = 0; upper < appends; upper++) {
                        HollowBatch b = batch(upper, upper + 1, writer);
                        CompletionStage<ShardApi.Appended> call = service.compareAndAppend(shard, writer,
                                IdempotencyToken.random(), b);
                        if (upper == 0) {
                            sent.countDown();
                        }
                        ShardApi.Appended appended = join(call);
                        assertThat(appended.upper()).isEqualTo(Frontier.of(upper + 1));
                        acked.add(b);
                    }
                    return acked;
                }));
            }
            assertThat(sent.await(60, TimeUnit.SECONDS)).isTrue();
            consensus.releaseFirst.complete(null);
            for (int i = 0; i < shards; i++) {
                List<HollowBatch> acked = done.get(i).get(120, TimeUnit.SECONDS);
                State state = join(service.getState(ids.get(i)));
                assertThat(state.collections().trace().batches()).as("shard %s", ids.get(i))
                        .containsExactlyElementsOf(acked);
            }
        } finally {
            clients.shutdownNow();
        }
        assertThat(consensus.largestGroup.get()).as("appends of different shards went in groups").isGreaterThan(1);
        assertThat(consensus.lostGroups.get()).as("groups whose reply was lost").isPositive();
    }
}
