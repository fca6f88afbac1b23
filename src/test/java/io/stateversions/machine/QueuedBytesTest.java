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
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Consensus;
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
import java.util.concurrent.CompletionStage;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The replica's cap of queued bytes ({@link QueuedBytes}, {@code stateversions.machine.max-queued-bytes}): appends and
 * merges across all shards count against it while queued; beyond it a call fails at once, certainly not done, as
 * when one shard's queue is full; the bytes are released as commands complete. Commands waiting for their shard's
 * machine to load count against it, and against the shard's cap of queued commands, as if queued ({@link Machines},
 * "Commands waiting for a load").
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
        Replica replica = replica(consensus, new MemoryBlob(false), MACHINE_DEFAULTS.withMaxQueuedBytes(CAP_BYTES),
                "replica-a");
        Machines machines = replica.machines();
        ShardService service = replica.service();
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

    /**
     * The load of a cold shard's machine is stuck (storage down: loads retry for as long as it lasts). The commands
     * waiting for it count against both caps, so a flood of them is refused at once rather than held, each with its
     * payload, until storage returns; the ones taken run once the load ends, and their bytes are released.
     */
    @Test
    void commands_waiting_for_their_shards_machine_to_load_count_against_both_caps_and_run_once_it_loads() {
        MemoryConsensus memory = new MemoryConsensus();
        FaultyConsensus consensus = new FaultyConsensus(memory);
        MemoryBlob blob = new MemoryBlob(false);
        MachineSettings config = MACHINE_DEFAULTS.withMaxQueuedBytes(CAP_BYTES).withMaxQueuedCommands(2);
        ShardService elsewhere = replica(memory, blob, config, "replica-b").service();
        ShardId cold = ShardId.random();
        WriterId writer = WriterId.random();
        WriterId other = WriterId.random();
        join(elsewhere.openShard(cold, CODECS));
        join(elsewhere.registerWriter(cold, writer, "w", OptionalLong.empty()));
        join(elsewhere.registerWriter(cold, other, "o", OptionalLong.empty()));
        // This replica has not loaded the cold shard (restarted, or its machine evicted as idle); a warm one it has.
        Replica replica = replica(consensus, blob, config, "replica-a");
        QueuedBytes queued = replica.machines().queuedBytes();
        ShardId warm = ShardId.random();
        WriterId warmWriter = WriterId.random();
        join(replica.service().openShard(warm, CODECS));
        join(replica.service().registerWriter(warm, warmWriter, "w", OptionalLong.empty()));
        CompletableFuture<Void> storage = new CompletableFuture<>();
        consensus.afterNextScan(cold.toString(), () -> storage);

        // The first append starts the load and waits for it, its ~3 KB of the 4 KiB counted.
        CompletableFuture<ShardApi.Appended> waiting = replica.service().compareAndAppend(cold, writer,
                IdempotencyToken.random(), batch(0, 1, writer, 3000)).toCompletableFuture();
        assertThat(waiting).isNotDone();
        long waitingBytes = queued.queued();
        assertThat(waitingBytes).isGreaterThan(3000);

        // Beyond the byte cap, appends are refused at once, to the loading shard as to a loaded one.
        for (int i = 0; i < 200; i++) {
            CompletableFuture<ShardApi.Appended> flood = replica.service().compareAndAppend(cold, other,
                    IdempotencyToken.random(), batch(0, 1, other, 3000)).toCompletableFuture();
            assertThat(flood).as("append %s of the flood", i).isCompletedExceptionally();
            assertThat(apiError(flood).code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
            assertThat(apiError(flood).getMessage()).contains("bytes of appends and merges queued");
        }
        assertThat(apiError(replica.service().compareAndAppend(warm, warmWriter, IdempotencyToken.random(),
                batch(0, 1, warmWriter, 3000))).code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);

        // A heartbeat carries no batch: it waits too, the shard's second command; the third is refused at once.
        CompletableFuture<SeqNo> heartbeat = replica.service().heartbeatWriter(cold, other).toCompletableFuture();
        assertThat(heartbeat).isNotDone();
        CompletableFuture<SeqNo> third = replica.service().heartbeatWriter(cold, other).toCompletableFuture();
        assertThat(third).isCompletedExceptionally();
        assertThat(apiError(third).code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
        assertThat(apiError(third).getMessage()).contains("2 commands queued already");
        assertThat(queued.queued()).as("nothing refused stays counted").isEqualTo(waitingBytes);

        storage.complete(null);
        assertThat(join(waiting).upper()).isEqualTo(Frontier.of(1));
        assertThat(join(heartbeat)).isGreaterThan(SeqNo.MIN);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> queued.queued() == 0);
        // Loaded, the shard takes commands again.
        assertThat(join(replica.service().compareAndAppend(cold, other, IdempotencyToken.random(),
                batch(1, 2, other, 3000))).upper()).isEqualTo(Frontier.of(2));
        assertThat(queued.queued()).isZero();
    }

    /** A load that fails (the shard does not exist) fails the commands waiting for it and releases their bytes. */
    @Test
    void commands_waiting_for_a_load_that_fails_fail_with_it_and_release_their_bytes() {
        FaultyConsensus consensus = new FaultyConsensus(new MemoryConsensus());
        Replica replica = replica(consensus, new MemoryBlob(false), MACHINE_DEFAULTS.withMaxQueuedBytes(CAP_BYTES),
                "replica-a");
        ShardId absent = ShardId.random();
        WriterId writer = WriterId.random();
        CompletableFuture<Void> storage = new CompletableFuture<>();
        consensus.afterNextScan(absent.toString(), () -> storage);

        CompletableFuture<ShardApi.Appended> waiting = replica.service().compareAndAppend(absent, writer,
                IdempotencyToken.random(), batch(0, 1, writer, 3000)).toCompletableFuture();
        assertThat(waiting).isNotDone();
        assertThat(replica.machines().queuedBytes().queued()).isGreaterThan(3000);

        storage.complete(null);
        assertThat(apiError(waiting).code()).isEqualTo(ErrorCode.SHARD_NOT_FOUND);
        assertThat(replica.machines().queuedBytes().queued()).isZero();
    }

    /**
     * An append whose request times out while it waits for its shard's load stays counted, as its payload is held,
     * until the load ends; then it is queued and commits (it was answered outcome_unknown: it may still happen).
     */
    @Test
    void an_append_that_times_out_waiting_for_a_load_stays_counted_until_the_load_ends_and_then_commits() {
        MemoryConsensus memory = new MemoryConsensus();
        FaultyConsensus consensus = new FaultyConsensus(memory);
        MemoryBlob blob = new MemoryBlob(false);
        ShardService elsewhere = replica(memory, blob, MACHINE_DEFAULTS, "replica-b").service();
        ShardId cold = ShardId.random();
        WriterId writer = WriterId.random();
        join(elsewhere.openShard(cold, CODECS));
        join(elsewhere.registerWriter(cold, writer, "w", OptionalLong.empty()));
        Replica replica = replica(consensus, blob, MACHINE_DEFAULTS.withMaxQueuedBytes(CAP_BYTES)
                .withRequestTimeout(Duration.ofMillis(300)), "replica-a");
        CompletableFuture<Void> storage = new CompletableFuture<>();
        consensus.afterNextScan(cold.toString(), () -> storage);

        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch append = batch(0, 1, writer, 3000);
        CompletionStage<ShardApi.Appended> timedOut = replica.service().compareAndAppend(cold, writer, token, append);
        assertThat(apiError(timedOut).code()).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
        assertThat(replica.machines().queuedBytes().queued()).isGreaterThan(3000);
        assertThat(apiError(replica.service().compareAndAppend(cold, writer, IdempotencyToken.random(),
                batch(0, 1, writer, 3000))).code()).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);

        storage.complete(null);
        Awaitility.await().atMost(Duration.ofSeconds(10))
                .until(() -> replica.machines().queuedBytes().queued() == 0);
        assertThat(join(elsewhere.getState(cold)).upper()).as("the timed-out append committed")
                .isEqualTo(Frontier.of(1));
        // Its retry, with the same token, learns that it committed.
        assertThat(join(elsewhere.compareAndAppend(cold, writer, token, append)).alreadyCommitted()).isTrue();
    }

    /** One replica over the given storage: its own state layer, machines and service. */
    private record Replica(Machines machines, ShardService service) {}

    private static Replica replica(Consensus consensus, MemoryBlob blob, MachineSettings config, String host) {
        StateVersions sv = new StateVersions(CFG, consensus, blob,
                new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
                StateVersionsMetrics.NONE, System::currentTimeMillis, host);
        Machines machines = new Machines(sv, config, System::currentTimeMillis, host, ShardMachine.CommitListener.NONE);
        return new Replica(machines, new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), consensus, config, MAINTENANCE_DEFAULTS,
                ShardServiceTest.watchesOf(sv, consensus)));
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
