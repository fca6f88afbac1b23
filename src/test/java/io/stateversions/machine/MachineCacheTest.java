package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CFG;
import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MACHINE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.WATCH_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.stateversions.api.ShardService;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.metrics.MachineMeters;
import io.stateversions.metrics.StateMetrics;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.testing.FaultyConsensus;
import io.stateversions.testing.ScanRecordingConsensus;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchMetrics;
import io.stateversions.watch.WatchSink;
import io.stateversions.watch.WatchedVersion;
import io.stateversions.watch.Watcher;
import io.stateversions.watch.Watches;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/**
 * The bounded cache of machines ({@link Machines}): it stays at its bound, evicts idle machines, and a shard whose
 * machine was evicted answers with its state; but a machine in use (a command queued or in flight, watchers, a load
 * in progress) is not evicted, concurrent uses load once, a command that raced an eviction still runs, and the
 * per-shard series go with the machine. Idleness runs on a clock the tests move, eviction on the calling thread.
 */
class MachineCacheTest {

    private static final Duration IDLE = Duration.ofMinutes(10);
    private static final String HOST = "replica-a";

    private final MemoryConsensus memory = new MemoryConsensus();
    private final ScanRecordingConsensus counted = new ScanRecordingConsensus(memory);
    private final FaultyConsensus consensus = new FaultyConsensus(counted);
    private final Blob blob = new MemoryBlob(false);
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final StateMetrics stateMetrics = new StateMetrics(registry, 1000);
    private final StateVersions stateVersions = new StateVersions(CFG, consensus, blob,
            new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE), stateMetrics,
            System::currentTimeMillis, HOST);
    private final Watches watches = new Watches(stateVersions, consensus, CommitBus.NONE, WATCH_DEFAULTS,
            System::nanoTime, WatchMetrics.NONE);

    /** This replica: machines with a cache of {@code maxShards}, and the service over them. */
    private record Replica(Machines machines, ShardService service) {}

    private Replica replica(int maxShards) {
        MachineSettings config = MACHINE_DEFAULTS.withCache(maxShards, IDLE);
        Machines machines = new Machines(stateVersions, config, System::currentTimeMillis, HOST, watches,
                new MachineMeters(registry, stateMetrics),
                new Machines.Settings(watches::watching, nanos::get, Runnable::run));
        return new Replica(machines, new ShardService(machines, new RollupWriter(stateVersions),
                new GarbageCollector(stateVersions, 4), new LeakedBlobSweeper(stateVersions, 4), consensus, config,
                MAINTENANCE_DEFAULTS, watches));
    }

    /** Another replica on the same storage, with its own cache. */
    private ShardService otherReplica() {
        StateVersions sv = new StateVersions(CFG, memory, blob,
                new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
                io.stateversions.stateversions.StateVersionsMetrics.NONE, System::currentTimeMillis, "replica-b");
        Machines machines = new Machines(sv, MACHINE_DEFAULTS, System::currentTimeMillis, "replica-b",
                ShardMachine.CommitListener.NONE);
        return new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), memory, MACHINE_DEFAULTS, MAINTENANCE_DEFAULTS,
                ShardServiceTest.watchesOf(sv, memory));
    }

    /** {@code duration} passes with no command, and {@code replica} cleans its cache up. */
    private void idleFor(Duration duration, Replica replica) {
        nanos.addAndGet(duration.toNanos());
        replica.machines().cleanUp();
    }

    private double evicted(String cause) {
        Counter counter = registry.find("stateversions.machine.evicted").tag("cause", cause).counter();
        return counter == null ? 0 : counter.count();
    }

    private boolean hasSeries(ShardId shard) {
        return registry.find("stateversions.shard.seqno").tag("shard", shard.toString()).gauge() != null;
    }

    /**
     * Many clients at once, each opening shards, registering a writer and appending, on a cache far smaller than the
     * shards: evictions race the commands of the shards they evict (Caffeine evicts on a pool of its own, as in the
     * service). Every command is answered and every shard holds its append. (The benchmark's memory workload met a
     * retired machine that stayed reachable: its commands forwarded to it again and again, until the stack overflowed.)
     */
    @Test
    void concurrent_clients_over_far_more_shards_than_the_cache_holds_all_get_answers() throws Exception {
        MachineSettings config = MACHINE_DEFAULTS.withCache(8, IDLE);
        Machines machines = new Machines(stateVersions, config, System::currentTimeMillis, HOST, watches,
                new MachineMeters(registry, stateMetrics), Machines.Settings.DEFAULT.withWatched(watches::watching));
        ShardService service = new ShardService(machines, new RollupWriter(stateVersions),
                new GarbageCollector(stateVersions, 4), new LeakedBlobSweeper(stateVersions, 4), consensus, config,
                MAINTENANCE_DEFAULTS, watches);
        int clients = 16;
        int shardsPerClient = 150;
        List<CompletableFuture<List<ShardId>>> runs = new ArrayList<>();
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(clients);
        try {
            for (int c = 0; c < clients; c++) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    List<ShardId> mine = new ArrayList<>();
                    for (int i = 0; i < shardsPerClient; i++) {
                        ShardId shard = ShardId.random();
                        WriterId writer = WriterId.random();
                        join(service.openShard(shard, CODECS));
                        join(service.registerWriter(shard, writer, "w", OptionalLong.empty()));
                        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(0, 1, writer)));
                        mine.add(shard);
                    }
                    return mine;
                }, pool));
            }
            List<ShardId> all = new ArrayList<>();
            for (CompletableFuture<List<ShardId>> run : runs) {
                all.addAll(run.get(120, java.util.concurrent.TimeUnit.SECONDS));
            }
            for (ShardId shard : all) {
                assertThat(join(service.getState(shard)).upper()).as("upper of %s", shard).isEqualTo(Frontier.of(1));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    /**
     * A command that reaches a machine while Caffeine is still evicting it (the machine is retired, its entry not yet
     * gone: a lock-free read sees it) waits for the eviction to finish and runs on a fresh machine. It used to look
     * the shard up again at once, find the same retired machine, forward again, and so on, on one thread, until the
     * evicting thread finished or the stack overflowed (the benchmark's memory workload: internal errors).
     */
    @Test
    void a_command_that_meets_a_machine_being_evicted_runs_once_the_eviction_is_done() throws Exception {
        ShardId first = ShardId.random();
        java.util.concurrent.CountDownLatch retiring = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        MachineSettings config = MACHINE_DEFAULTS.withCache(1, IDLE);
        // Caffeine evicts on the writing thread (Runnable::run); its eviction of the first shard stops, after the
        // retirement and before the entry is removed, where the machine reports its retirement.
        MachineMetrics pausing = new MachineMetrics() {
            @Override
            public void machineRetired(ShardId shard, String cause) {
                if (shard.equals(first)) {
                    retiring.countDown();
                    try {
                        release.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        };
        Machines machines = new Machines(stateVersions, config, System::currentTimeMillis, HOST, watches, pausing,
                new Machines.Settings(shard -> false, nanos::get, Runnable::run));
        ShardService service = new ShardService(machines, new RollupWriter(stateVersions),
                new GarbageCollector(stateVersions, 4), new LeakedBlobSweeper(stateVersions, 4), consensus, config,
                MAINTENANCE_DEFAULTS, watches);
        WriterId writer = WriterId.random();
        join(service.openShard(first, CODECS));
        join(service.compareAndAppend(first, writer, IdempotencyToken.random(), batch(0, 1, writer)));

        CompletableFuture<Void> evicting = CompletableFuture.runAsync(() -> join(service.openShard(ShardId.random(),
                CODECS)));
        retiring.await();
        java.util.concurrent.atomic.AtomicReference<Thread> reader = new java.util.concurrent.atomic.AtomicReference<>();
        CompletableFuture<State> read = CompletableFuture.supplyAsync(() -> {
            reader.set(Thread.currentThread());
            return join(service.getState(first));
        });
        // The read either waits for the eviction (blocked on the shard's entry) or has already failed.
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> read.isDone() || (reader.get() != null
                && (reader.get().getState() == Thread.State.BLOCKED || reader.get().getState() == Thread.State.WAITING)));
        release.countDown();
        evicting.get(10, java.util.concurrent.TimeUnit.SECONDS);
        assertThat(read.get(10, java.util.concurrent.TimeUnit.SECONDS).upper()).isEqualTo(Frontier.of(1));
    }

    @Test
    void the_cache_stays_at_its_bound_under_many_shards_and_each_shard_answers_with_its_own_state() {
        Replica replica = replica(10);
        List<ShardId> shards = new ArrayList<>();
        List<WriterId> writers = new ArrayList<>();
        for (int i = 0; i < 100; i++) {
            ShardId shard = ShardId.random();
            WriterId writer = WriterId.random();
            join(replica.service().openShard(shard, CODECS));
            join(replica.service().compareAndAppend(shard, writer, IdempotencyToken.random(), batch(0, i + 1, writer)));
            shards.add(shard);
            writers.add(writer);
            replica.machines().cleanUp();
            assertThat(replica.machines().size()).as("machines after %d shards", i + 1).isLessThanOrEqualTo(10);
        }
        assertThat(evicted("size")).isEqualTo(90);
        assertThat(registry.find("stateversions.machine.shards").gauge().value()).isEqualTo(replica.machines().size());

        // Every shard answers, most of them by reloading, each with its own state.
        for (int i = 0; i < shards.size(); i++) {
            State state = join(replica.service().getState(shards.get(i)));
            assertThat(state.upper()).isEqualTo(Frontier.of(i + 1));
            assertThat(state.collections().writers()).containsOnlyKeys(writers.get(i));
            replica.machines().cleanUp();
            assertThat(replica.machines().size()).isLessThanOrEqualTo(10);
        }
    }

    @Test
    void an_idle_machine_is_evicted_with_its_series_and_its_shard_reloads_with_what_others_committed_since() {
        Replica replica = replica(1000);
        WriterId writer = WriterId.random();
        ShardId shard = openWithWriter(replica, writer);
        assertThat(hasSeries(shard)).isTrue();
        ShardMachine machine = join(replica.machines().get(shard));

        idleFor(IDLE.minusSeconds(1), replica);
        assertThat(machine.retired()).as("retired before its idle time").isFalse();
        idleFor(Duration.ofSeconds(2), replica);
        assertThat(machine.retired()).isTrue();
        assertThat(replica.machines().size()).isZero();
        assertThat(evicted("idle")).isEqualTo(1);
        assertThat(hasSeries(shard)).as("per-shard series go with the machine").isFalse();

        // Another replica commits meanwhile; the reload sees it.
        WriterId other = WriterId.random();
        join(otherReplica().compareAndAppend(shard, other, IdempotencyToken.random(), batch(0, 1, other)));
        State state = join(replica.service().getState(shard));
        assertThat(state.upper()).isEqualTo(Frontier.of(1));
        assertThat(state.collections().writers()).containsOnlyKeys(writer, other);
        assertThat(join(replica.machines().get(shard))).isNotSameAs(machine);

        join(replica.service().heartbeatWriter(shard, writer));
        assertThat(hasSeries(shard)).as("back with the next commit").isTrue();
    }

    @Test
    void a_machine_with_a_command_in_flight_is_kept_until_the_command_completes() {
        Replica replica = replica(1000);
        WriterId writer = WriterId.random();
        ShardId shard = openWithWriter(replica, writer);
        ShardMachine machine = join(replica.machines().get(shard));

        // Evicted while a command waits on its compare-and-set: kept, and still the shard's machine.
        CompletableFuture<Void> gate = holdNextCas(shard);
        CompletableFuture<SeqNo> heartbeat = replica.service().heartbeatWriter(shard, writer).toCompletableFuture();
        idleFor(IDLE.plusMinutes(1), replica);
        assertThat(machine.retired()).isFalse();
        assertThat(replica.machines().size()).isEqualTo(1);
        assertThat(join(replica.machines().get(shard))).as("its next use takes it back").isSameAs(machine);
        gate.complete(null);
        assertThat(join(heartbeat)).isGreaterThan(SeqNo.MIN);
        assertThat(machine.retired()).isFalse();

        // Evicted again while busy, and not used again: retired once its command completes.
        gate = holdNextCas(shard);
        heartbeat = replica.service().heartbeatWriter(shard, writer).toCompletableFuture();
        idleFor(IDLE.plusMinutes(1), replica);
        assertThat(machine.retired()).isFalse();
        gate.complete(null);
        SeqNo committed = join(heartbeat);
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(machine::retired);
        assertThat(replica.machines().size()).isZero();
        assertThat(join(replica.service().getState(shard)).seqno()).isEqualTo(committed);
    }

    @Test
    void a_machine_whose_shard_is_watched_is_kept_until_the_watch_ends() {
        Replica replica = replica(1000);
        ShardId shard = open(replica);
        ShardMachine machine = join(replica.machines().get(shard));
        Watcher watcher = join(replica.service().watch(shard, Optional.empty(), new IdleSink()));
        watcher.start();

        idleFor(IDLE.plusMinutes(1), replica);
        assertThat(machine.retired()).isFalse();
        assertThat(replica.machines().size()).isEqualTo(1);

        watcher.cancel();
        replica.machines().cleanUp();
        assertThat(machine.retired()).isTrue();
        assertThat(replica.machines().size()).isZero();
        assertThat(join(replica.service().getState(shard)).seqno()).isEqualTo(SeqNo.of(1));
    }

    @Test
    void concurrent_uses_of_an_absent_shard_share_one_load_which_idleness_does_not_evict() {
        ShardId shard = ShardId.random();
        join(otherReplica().openShard(shard, CODECS));
        Replica replica = replica(1000);
        CompletableFuture<Void> gate = new CompletableFuture<>();
        consensus.afterNextScan(shard.toString(), () -> gate);
        counted.takeScanned();

        CompletableFuture<ShardMachine> first = replica.machines().get(shard);
        CompletableFuture<ShardMachine> second = replica.machines().get(shard);
        idleFor(IDLE.multipliedBy(3), replica);
        CompletableFuture<ShardMachine> third = replica.machines().get(shard);
        assertThat(first).isNotDone();
        gate.complete(null);

        ShardMachine machine = join(first);
        assertThat(join(second)).isSameAs(machine);
        assertThat(join(third)).isSameAs(machine);
        assertThat(counted.scansOf(shard.toString())).as("scans of one load (fast path)").isEqualTo(1);
        assertThat(machine.retired()).isFalse();
    }

    @Test
    void a_command_that_finds_its_machine_retired_runs_on_the_shards_current_machine() {
        Replica replica = replica(1000);
        ShardId shard = open(replica);
        ShardMachine stale = join(replica.machines().get(shard));
        idleFor(IDLE.plusMinutes(1), replica);
        assertThat(stale.retired()).isTrue();

        // Held by someone (maintenance, say) past its eviction: its commands still commit, on the current machine.
        WriterId writer = WriterId.random();
        ShardMachine.Applied<?> applied = join(stale.apply(Command.REGISTER,
                Commands.registerWriter(writer, new HandleDebug(HOST, "w"), 3_600_000, System.currentTimeMillis())));
        assertThat(applied.committed()).isTrue();
        assertThat(join(stale.read()).collections().writers()).containsKey(writer);
        ShardMachine current = join(replica.machines().get(shard));
        assertThat(current).isNotSameAs(stale);
        assertThat(current.cached().seqno()).isEqualTo(applied.seqno());
        assertThat(replica.machines().size()).isEqualTo(1);
    }

    /** A new shard, opened on {@code replica}. */
    private static ShardId open(Replica replica) {
        ShardId shard = ShardId.random();
        join(replica.service().openShard(shard, CODECS));
        return shard;
    }

    /** A new shard, opened on {@code replica}, with {@code writer} registered. */
    private static ShardId openWithWriter(Replica replica, WriterId writer) {
        ShardId shard = open(replica);
        join(replica.service().registerWriter(shard, writer, "w", OptionalLong.empty()));
        return shard;
    }

    /** Holds the next compare-and-set of {@code shard} until the returned gate completes. */
    private CompletableFuture<Void> holdNextCas(ShardId shard) {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        consensus.beforeNextCas(shard.toString(), () -> gate, () -> {});
        return gate;
    }

    /** A client of a watch that takes events and drops them. */
    private static final class IdleSink implements WatchSink {
        @Override
        public boolean ready() {
            return true;
        }

        @Override
        public void version(WatchedVersion version) {}

        @Override
        public void truncated(SeqNo next, SeqNo earliest) {}

        @Override
        public void end(Watcher.End reason, SeqNo lastDelivered) {}
    }
}
