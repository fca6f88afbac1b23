package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static io.stateversions.machine.ShardServiceTest.watchesOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.codec.StateCodec;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.OffLoopExecutor;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.ForwardingBlob;
import io.stateversions.testing.ForwardingConsensus;
import io.stateversions.testing.StateVersionsScriptDriver;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The CPU-heavy state work (encoding and decoding rollups, GC's decoding, replaying diffs to read an old version)
 * runs on the {@link OffLoopExecutor}, not on the Vert.x event loop that completed the storage call before it, as
 * the reactive PostgreSQL client's loops do in the service. Storage here completes every call on an event loop; the
 * codec records, inside each rollup encode and decode, whether it runs on one.
 */
class OffLoopTest {

    private final Vertx vertx = Vertx.vertx();
    private final OffLoopExecutor cpu = new OffLoopExecutor(2);

    @AfterEach
    void close() {
        cpu.close();
        join(vertx.close().toCompletionStage());
    }

    /** Where one encode or decode ran. */
    private record Observed(String what, String thread, boolean onEventLoop) {}

    /** The service's codec, recording where it encodes and decodes rollups. */
    private static final class ObservingCodec extends StateCodec {
        final Queue<Observed> observed = new ConcurrentLinkedQueue<>();

        ObservingCodec(PersistConfig cfg) {
            super(cfg);
        }

        private void observe(String what) {
            observed.add(new Observed(what, Thread.currentThread().getName(), Context.isOnEventLoopThread()));
        }

        @Override
        public byte[] encodeRollup(State state, Optional<InlinedDiffs> diffs) {
            observe("encode rollup v" + state.seqno().value());
            return super.encodeRollup(state, diffs);
        }

        @Override
        public DecodedRollup decodeRollup(ShardId shard, byte[] data) {
            DecodedRollup decoded = super.decodeRollup(shard, data);
            observe("decode rollup v" + decoded.state().seqno().value());
            return decoded;
        }

        @Override
        public RollupRollups decodeRollupRollups(ShardId shard, byte[] data) {
            RollupRollups decoded = super.decodeRollupRollups(shard, data);
            observe("decode rollup's rollups v" + decoded.seqno().value());
            return decoded;
        }
    }

    @Test
    void rollupsGcAndReadsOfOldVersionsEncodeAndDecodeOffTheEventLoops() {
        Context loop = vertx.getOrCreateContext();
        AtomicInteger completedOnLoop = new AtomicInteger();
        Consensus consensus = new OnLoopConsensus(new MemoryConsensus(), loop, completedOnLoop);
        Blob blob = new OnLoopBlob(new MemoryBlob(false), loop, completedOnLoop);
        PersistConfig cfg = StateVersionsScriptDriver.defaultConfig(); // a rollup every 3 versions
        ObservingCodec codec = new ObservingCodec(cfg);
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(cfg, codec, consensus, blob, retries, StateVersionsMetrics.NONE,
                System::currentTimeMillis, "h", cpu);
        RollupWriter rollups = new RollupWriter(sv);
        GarbageCollector gc = new GarbageCollector(sv, 4);
        // Maintenance starts on the thread that committed: an event loop, the worst place for it.
        Maintenance maintenance = new Maintenance(rollups, gc, Runnable::run);
        Machines machines = new Machines(sv, config(256), System::currentTimeMillis, "h", maintenance);
        ShardService service = new ShardService(machines, rollups, gc, new LeakedBlobSweeper(sv, 4), consensus,
                config(256), MAINTENANCE_DEFAULTS, watchesOf(sv, consensus));
        ShardId shard = ShardId.random();
        WriterId writer = WriterId.random();

        join(service.openShard(shard, CODECS));
        for (int i = 0; i < 12; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
            join(maintenance.idle(shard));
        }
        ShardApi.GcRun gcRun = join(service.runGc(shard));
        State current = join(service.getState(shard));
        SeqNo old = current.collections().rollups().firstKey().next(); // after a rollup: a replay from it
        State oldVersion = join(service.getVersion(shard, old));

        assertThat(oldVersion.seqno()).isEqualTo(old);
        assertThat(gcRun.truncatedBelow().value()).isGreaterThan(1); // GC truncated, so it read a rollup
        assertThat(completedOnLoop.get()).as("storage calls completed on the event loop").isPositive();
        List<Observed> observed = List.copyOf(codec.observed);
        assertThat(observed).filteredOn(o -> o.what().startsWith("encode")).hasSizeGreaterThan(2);
        // GC decodes the rollup at its first point (only its rollups: nothing here deletes a batch part), the read
        // of an old version the rollup it starts from.
        assertThat(observed).filteredOn(o -> o.what().startsWith("decode rollup's rollups")).isNotEmpty();
        assertThat(observed).filteredOn(o -> o.what().startsWith("decode")).hasSizeGreaterThan(1);
        assertThat(observed).allSatisfy(o -> {
            assertThat(o.onEventLoop()).as(o.toString()).isFalse();
            assertThat(o.thread()).as(o.toString()).startsWith(OffLoopExecutor.THREAD_NAME_PREFIX);
        });
    }

    /** Completes {@code call}'s outcome on {@code loop}, as a Vert.x client does. */
    private static <T> CompletionStage<T> onLoop(CompletionStage<T> call, Context loop, AtomicInteger onLoop) {
        CompletableFuture<T> result = new CompletableFuture<>();
        call.whenComplete((value, error) -> loop.runOnContext(ignored -> {
            if (Context.isOnEventLoopThread()) {
                onLoop.incrementAndGet();
            }
            if (error != null) {
                result.completeExceptionally(error);
            } else {
                result.complete(value);
            }
        }));
        return result;
    }

    private static final class OnLoopConsensus extends ForwardingConsensus {
        private final Context loop;
        private final AtomicInteger onLoop;

        OnLoopConsensus(Consensus delegate, Context loop, AtomicInteger onLoop) {
            super(delegate);
            this.loop = loop;
            this.onLoop = onLoop;
        }

        @Override
        public CompletionStage<Optional<VersionedData>> head(String key) {
            return onLoop(super.head(key), loop, onLoop);
        }

        @Override
        public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected,
                VersionedData newData) {
            return onLoop(super.compareAndSet(key, expected, newData), loop, onLoop);
        }

        @Override
        public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
            return onLoop(super.scan(key, from, limit), loop, onLoop);
        }

        @Override
        public CompletionStage<Long> truncate(String key, SeqNo seqno) {
            return onLoop(super.truncate(key, seqno), loop, onLoop);
        }

        @Override
        public CompletionStage<List<String>> listKeys(String after, int limit) {
            return onLoop(super.listKeys(after, limit), loop, onLoop);
        }
    }

    private static final class OnLoopBlob extends ForwardingBlob {
        private final Context loop;
        private final AtomicInteger onLoop;

        OnLoopBlob(Blob delegate, Context loop, AtomicInteger onLoop) {
            super(delegate);
            this.loop = loop;
            this.onLoop = onLoop;
        }

        @Override
        public CompletionStage<Optional<byte[]>> get(String key) {
            return onLoop(super.get(key), loop, onLoop);
        }

        @Override
        public CompletionStage<Void> set(String key, byte[] value) {
            return onLoop(super.set(key, value), loop, onLoop);
        }

        @Override
        public CompletionStage<java.util.OptionalLong> delete(String key) {
            return onLoop(super.delete(key), loop, onLoop);
        }
    }
}
