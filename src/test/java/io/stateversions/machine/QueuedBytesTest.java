package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CFG;
import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MACHINE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.apiError;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.FaultyConsensus;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The replica's cap of queued bytes ({@link QueuedBytes}, {@code stateversions.machine.max-queued-bytes}): appends and
 * merges across all shards count against it while queued; beyond it a call fails at once, certainly not done, as
 * when one shard's queue is full; the bytes are released as commands complete.
 */
class QueuedBytesTest {

    private static final long CAP_BYTES = 4096;

    @Test
    void bytes_fit_under_the_cap_or_are_taken_alone_and_are_released() {
        QueuedBytes bytes = new QueuedBytes(CAP_BYTES);
        assertThat(bytes.tryAcquire(3000)).isTrue();
        assertThat(bytes.tryAcquire(1000)).isTrue();
        assertThat(bytes.tryAcquire(97)).as("one byte over the cap").isFalse();
        assertThat(bytes.queued()).isEqualTo(4000);
        bytes.release(4000);
        assertThat(bytes.tryAcquire(3 * CAP_BYTES)).as("larger than the cap, but nothing queued").isTrue();
        assertThat(bytes.tryAcquire(1)).isFalse();
        bytes.release(3 * CAP_BYTES);
        assertThat(bytes.queued()).isZero();
        assertThatThrownBy(() -> bytes.release(1)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released 1 queued bytes, leaving -1");
    }

    @Test
    void appends_beyond_the_replicas_cap_are_refused_at_once_and_taken_again_once_the_queue_drains() {
        FaultyConsensus consensus = new FaultyConsensus(new MemoryConsensus());
        MachineSettings config = MACHINE_DEFAULTS.withMaxQueuedBytes(CAP_BYTES);
        StateVersions sv = new StateVersions(CFG, consensus, new MemoryBlob(false),
                new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
                StateVersionsMetrics.NONE, System::currentTimeMillis, "replica-a");
        Machines machines = new Machines(sv, config, System::currentTimeMillis, "replica-a",
                ShardMachine.CommitListener.NONE);
        ShardService service = new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), consensus, config, MAINTENANCE_DEFAULTS,
                ShardServiceTest.watchesOf(sv, consensus));
        ShardId a = ShardId.random();
        ShardId b = ShardId.random();
        WriterId writerA = WriterId.random();
        WriterId writerB = WriterId.random();
        for (ShardId shard : List.of(a, b)) {
            join(service.openShard(shard, CODECS));
        }
        join(service.registerWriter(a, writerA, "a", OptionalLong.empty()));
        join(service.registerWriter(b, writerB, "b", OptionalLong.empty()));

        // Shard a's append waits on its compare-and-set, holding ~3 KB of the 4 KiB.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        consensus.beforeNextCas(a.toString(), () -> gate, () -> {});
        CompletableFuture<ShardApi.Appended> held = service.compareAndAppend(a, writerA, IdempotencyToken.random(),
                batch(0, 1, writerA, 3000)).toCompletableFuture();
        assertThat(machines.queuedBytes().queued()).isGreaterThan(3000);

        // Another shard's large append does not fit: refused at once, as storage_unavailable, and not done.
        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch large = batch(0, 1, writerB, 3000);
        CompletableFuture<ShardApi.Appended> refused = service.compareAndAppend(b, writerB, token, large)
                .toCompletableFuture();
        assertThat(refused).isCompletedExceptionally();
        ApiException error = apiError(refused);
        assertThat(error.code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
        assertThat(error.getMessage()).contains("bytes of appends and merges queued").contains("cap is 4096");
        assertThat(join(service.getState(b)).upper()).isEqualTo(Frontier.MIN);
        // What fits still goes: a command without a batch, and a small append.
        join(service.heartbeatWriter(b, writerB));
        join(service.compareAndAppend(b, writerB, IdempotencyToken.random(), batch(0, 1, writerB, 0)));

        gate.complete(null);
        assertThat(join(held).upper()).isEqualTo(Frontier.of(1));
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> machines.queuedBytes().queued() == 0);

        // The refused append, retried, is taken; and one larger than the whole cap goes through alone.
        assertThat(join(service.compareAndAppend(b, writerB, token, large.withDesc(desc(1, 2)))).upper())
                .isEqualTo(Frontier.of(2));
        assertThat(join(service.compareAndAppend(a, writerA, IdempotencyToken.random(),
                batch(1, 2, writerA, 3 * (int) CAP_BYTES))).upper()).isEqualTo(Frontier.of(2));
        assertThat(machines.queuedBytes().queued()).isZero();
    }

    private static Description desc(long lower, long upper) {
        return new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN);
    }

    /** A batch of one part in Blob whose key lower bound takes {@code keyLowerBytes}. */
    private static HollowBatch batch(long lower, long upper, WriterId writer, int keyLowerBytes) {
        BatchPart.Hollow part = new BatchPart.Hollow(new PartialBatchKey(WriterKey.of(writer), PartId.random()), 100,
                Bytes.copyOf(new byte[keyLowerBytes]), Optional.empty(), OptionalLong.empty(), OptionalLong.empty(),
                Bytes.EMPTY);
        return HollowBatch.of(desc(lower, upper), 1, List.of(part));
    }
}
