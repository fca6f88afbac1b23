package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CFG;
import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.codeOf;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.Frontier;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchMetrics;
import io.stateversions.watch.WatchSink;
import io.stateversions.watch.WatchedVersion;
import io.stateversions.watch.Watcher;
import io.stateversions.watch.Watches;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Watches (api.md "Watch", spec §20) behind the API facade, with two replicas on one Consensus: order, no gaps, no
 * duplicates, whichever replica committed; delivery by commit notifications alone and by polling alone; resuming
 * after a killed connection; truncation; a client that stops reading; and the cache refresh that notifications
 * bring. A backend's subclass supplies the storage and the notification bus (PostgreSQL's LISTEN/NOTIFY, or an
 * in-JVM bus for memory storage).
 */
abstract class WatchTest {

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    /** A replica's connection to the other replicas' commit notifications, receiving once returned. */
    protected abstract CommitBus newBus();

    static final Duration POLL = Duration.ofSeconds(5);
    static final Duration FALLBACK_POLL = Duration.ofMillis(500);
    static final Duration STALL = Duration.ofSeconds(30);

    /** A clock the tests move: polls and stall timeouts happen only when a test says so. */
    private final AtomicLong nanos = new AtomicLong(1_000_000_000L);
    private final List<CommitBus> buses = new ArrayList<>();

    @AfterEach
    void closeBuses() {
        buses.forEach(CommitBus::close);
    }

    /** One replica: its own state layer, cached machines, watches and service, hooked up as the service does. */
    record Replica(ShardService service, Machines machines, Watches watches, AtomicInteger casMismatches,
            Counting watchMetrics) {}

    Replica replica(String hostname, CommitBus bus) {
        return replica(hostname, bus, 10_000);
    }

    Replica replica(String hostname, CommitBus bus, int maxWatchers) {
        buses.add(bus);
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(CFG, consensus(), blob(), retries, StateVersionsMetrics.NONE,
                System::currentTimeMillis, hostname);
        Counting watchMetrics = new Counting();
        Watches watches = new Watches(sv, consensus(), bus,
                new Watches.Settings(POLL, FALLBACK_POLL, STALL, Duration.ofSeconds(15), maxWatchers), nanos::get,
                watchMetrics);
        AtomicInteger mismatches = new AtomicInteger();
        MachineMetrics metrics = new MachineMetrics() {
            @Override
            public void casMismatch() {
                mismatches.incrementAndGet();
            }
        };
        Machines machines = new Machines(sv, config(256), System::currentTimeMillis, hostname, watches, metrics);
        bus.addListener((shard, seqno) -> machines.learned(shard, seqno));
        ShardService service = new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), consensus(), config(256), MAINTENANCE_DEFAULTS, watches);
        return new Replica(service, machines, watches, mismatches, watchMetrics);
    }

    /** Counts what watchers read and send. */
    static final class Counting implements WatchMetrics {
        final AtomicInteger fetched = new AtomicInteger();
        final AtomicInteger sent = new AtomicInteger();

        @Override
        public void versionsFetched(int count) {
            fetched.addAndGet(count);
        }

        @Override
        public void versionsSent(int count) {
            sent.addAndGet(count);
        }
    }

    /**
     * A client's stream as the watcher sees it: records what it is sent, can stop taking events (a full transport)
     * and can die (a killed connection: what is sent after is lost).
     */
    static final class RecordingSink implements WatchSink {
        final List<Long> seqnos = Collections.synchronizedList(new ArrayList<>());
        final Map<Long, Long> receivedNanos = new ConcurrentHashMap<>();
        final CompletableFuture<SeqNo[]> truncated = new CompletableFuture<>();
        final CompletableFuture<Watcher.End> ended = new CompletableFuture<>();
        final CompletableFuture<SeqNo> endedAt = new CompletableFuture<>();
        volatile boolean ready = true;
        volatile boolean dead;
        /** Stop taking events after this many (a transport whose buffer filled up). */
        volatile int capacity = Integer.MAX_VALUE;
        final AtomicInteger batchesAppended = new AtomicInteger();
        final AtomicInteger keepalives = new AtomicInteger();

        @Override
        public void keepalive() {
            keepalives.incrementAndGet();
        }

        @Override
        public boolean ready() {
            return ready && !dead && seqnos.size() < capacity;
        }

        @Override
        public void version(WatchedVersion version) {
            if (dead) {
                return;
            }
            seqnos.add(version.seqno().value());
            receivedNanos.put(version.seqno().value(), System.nanoTime());
            if (!version.diff().batches().isEmpty()) {
                batchesAppended.incrementAndGet();
            }
        }

        @Override
        public void truncated(SeqNo next, SeqNo earliest) {
            truncated.complete(new SeqNo[] {next, earliest});
        }

        @Override
        public void end(Watcher.End reason, SeqNo lastDelivered) {
            endedAt.complete(lastDelivered);
            ended.complete(reason);
        }

        List<Long> snapshot() {
            synchronized (seqnos) {
                return List.copyOf(seqnos);
            }
        }

        long last() {
            List<Long> s = snapshot();
            return s.isEmpty() ? -1 : s.get(s.size() - 1);
        }
    }

    Watcher watch(Replica replica, ShardId shard, Optional<SeqNo> after, RecordingSink sink) {
        Watcher watcher = join(replica.service().watch(shard, after, sink));
        watcher.start();
        return watcher;
    }

    /** Appends {@code n} batches through {@code replica}; returns the seqno after each and when it was acked. */
    static List<long[]> append(Replica replica, ShardId shard, WriterId writer, long fromTs, int n) {
        List<long[]> acks = new ArrayList<>();
        for (long ts = fromTs; ts < fromTs + n; ts++) {
            ShardApi.Appended a = join(replica.service().compareAndAppend(shard, writer, IdempotencyToken.random(),
                    batch(ts, ts + 1, writer)));
            assertThat(a.upper()).isEqualTo(Frontier.of(ts + 1));
            acks.add(new long[] {a.seqno().value(), System.nanoTime()});
        }
        return acks;
    }

    static List<Long> range(long firstInclusive, long lastInclusive) {
        return LongStream.rangeClosed(firstInclusive, lastInclusive).boxed().toList();
    }

    ShardId openShard(Replica replica) {
        ShardId shard = ShardId.random();
        join(replica.service().openShard(shard, CODECS));
        return shard;
    }

    long current(Replica replica, ShardId shard) {
        return join(replica.service().getState(shard)).seqno().value();
    }

    @Test
    void versions_committed_here_reach_a_watcher_in_order_without_gaps() {
        Replica a = replica("replica-a", CommitBus.NONE);
        ShardId shard = openShard(a);
        long start = current(a, shard);
        RecordingSink sink = new RecordingSink();
        watch(a, shard, Optional.empty(), sink);

        List<long[]> acks = append(a, shard, WriterId.random(), 0, 50);

        long last = acks.get(acks.size() - 1)[0];
        await().atMost(Duration.ofSeconds(20)).until(() -> sink.last() == last);
        assertThat(sink.snapshot()).isEqualTo(range(start + 1, last));
        assertThat(sink.batchesAppended.get()).isEqualTo(50);
        // Every version came from the commits themselves: nothing was read back from Consensus.
        assertThat(a.watchMetrics().fetched.get()).isZero();
    }

    @Test
    void a_watcher_behind_by_less_than_the_recent_window_catches_up_from_it_without_reading_consensus() {
        Replica a = replica("replica-a", CommitBus.NONE);
        ShardId shard = openShard(a);
        long start = current(a, shard);
        RecordingSink lagging = new RecordingSink();
        lagging.capacity = 10; // its transport is full after 10 events
        Watcher watcher = watch(a, shard, Optional.empty(), lagging);

        List<long[]> acks = append(a, shard, WriterId.random(), 0, 40);
        long last = acks.get(acks.size() - 1)[0];
        await().atMost(Duration.ofSeconds(20)).until(() -> lagging.snapshot().size() == 10);
        lagging.capacity = Integer.MAX_VALUE;
        watcher.ready(); // the transport drained

        await().atMost(Duration.ofSeconds(20)).until(() -> lagging.last() == last);
        assertThat(lagging.snapshot()).isEqualTo(range(start + 1, last));
        // The 30 it missed while full came from the replica's recent versions, not from Consensus.
        assertThat(a.watchMetrics().fetched.get()).isZero();
    }

    @Test
    void another_replicas_commits_reach_a_watcher_by_notifications_alone_and_refresh_the_cached_state() {
        Replica a = replica("replica-a", newBus());
        Replica b = replica("replica-b", newBus());
        ShardId shard = openShard(a);
        long start = current(b, shard);
        RecordingSink sink = new RecordingSink();
        watch(b, shard, Optional.empty(), sink);
        WriterId writer = WriterId.random();

        // No tick runs in this test: only notifications can tell replica b of a's commits.
        List<long[]> acks = append(a, shard, writer, 0, 100);

        long last = acks.get(acks.size() - 1)[0];
        await().atMost(Duration.ofSeconds(20)).until(() -> sink.last() == last);
        assertThat(sink.snapshot()).isEqualTo(range(start + 1, last));
        assertThat(sink.batchesAppended.get()).isEqualTo(100);
        List<Long> latencies = new ArrayList<>();
        for (long[] ack : acks) {
            latencies.add(Math.max(0, sink.receivedNanos.get(ack[0]) - ack[1]));
        }
        Collections.sort(latencies);
        System.out.printf("%s: commit on replica a -> event on replica b's watcher, %d appends: p50 %.2f ms,"
                + " p99 %.2f ms, max %.2f ms%n", getClass().getSimpleName(), latencies.size(),
                latencies.get(latencies.size() / 2) / 1e6, latencies.get(latencies.size() * 99 / 100) / 1e6,
                latencies.get(latencies.size() - 1) / 1e6);

        // The same notifications brought b's cached state up to date without a command on b...
        ShardMachine machineB = join(b.machines().get(shard));
        await().atMost(Duration.ofSeconds(20)).until(() -> machineB.cached().seqno().value() == last);
        // ...so b's next command commits at its first compare-and-set.
        int before = b.casMismatches().get();
        append(b, shard, writer, 100, 1);
        assertThat(b.casMismatches().get()).isEqualTo(before);
    }

    @Test
    void without_notifications_a_watcher_catches_up_at_the_next_poll() {
        Replica a = replica("replica-a", newBus());
        Replica b = replica("replica-b", CommitBus.NONE);
        ShardId shard = openShard(a);
        long start = current(b, shard);
        RecordingSink sink = new RecordingSink();
        watch(b, shard, Optional.empty(), sink);

        List<long[]> acks = append(a, shard, WriterId.random(), 0, 20);
        long last = acks.get(acks.size() - 1)[0];
        // Nothing told replica b: its watcher has sent nothing.
        b.watches().tick();
        assertThat(sink.snapshot()).isEmpty();

        nanos.addAndGet(FALLBACK_POLL.toNanos());
        b.watches().tick();

        await().atMost(Duration.ofSeconds(20)).until(() -> sink.last() == last);
        assertThat(sink.snapshot()).isEqualTo(range(start + 1, last));
    }

    @Test
    void a_watch_resumed_after_its_connection_died_has_no_gap_and_no_duplicate() throws Exception {
        Replica a = replica("replica-a", newBus());
        Replica b = replica("replica-b", newBus());
        ShardId shard = openShard(a);
        long start = current(b, shard);
        RecordingSink first = new RecordingSink();
        first.capacity = 60; // slower than the appends: it dies mid-stream
        Watcher watcher = watch(b, shard, Optional.empty(), first);
        WriterId writer = WriterId.random();
        java.util.concurrent.ExecutorService appender = java.util.concurrent.Executors.newSingleThreadExecutor();
        CompletableFuture<List<long[]>> appends = CompletableFuture.supplyAsync(() -> append(a, shard, writer, 0, 200),
                appender);
        appender.shutdown();

        await().atMost(Duration.ofSeconds(20)).until(() -> first.snapshot().size() >= 50);
        first.dead = true; // the connection dies: whatever is sent from now on is lost
        watcher.cancel();
        List<Long> got = first.snapshot();

        RecordingSink second = new RecordingSink();
        watch(b, shard, Optional.of(SeqNo.of(got.get(got.size() - 1))), second);
        long last = appends.get().get(199)[0];
        await().atMost(Duration.ofSeconds(20)).until(() -> second.last() == last);

        List<Long> all = new ArrayList<>(got);
        all.addAll(second.snapshot());
        assertThat(all).isEqualTo(range(start + 1, last));
    }

    @Test
    void a_watch_from_a_truncated_version_gets_a_truncated_event_and_ends() {
        Replica a = replica("replica-a", CommitBus.NONE);
        ShardId shard = openShard(a);
        append(a, shard, WriterId.random(), 0, 10);
        join(a.service().writeRollup(shard));
        ShardApi.GcRun gc = join(a.service().runGc(shard));
        assertThat(gc.truncatedBelow().value()).isGreaterThan(1);
        long earliest = join(a.service().listVersions(shard, Optional.empty(), 10)).earliest().value();

        RecordingSink sink = new RecordingSink();
        Watcher watcher = watch(a, shard, Optional.of(SeqNo.of(0)), sink);

        SeqNo[] truncated = join(sink.truncated);
        assertThat(truncated[0]).isEqualTo(SeqNo.of(1));
        assertThat(truncated[1]).isEqualTo(SeqNo.of(earliest));
        assertThat(sink.snapshot()).isEmpty();
        assertThat(watcher.closed()).isTrue();
        assertThat(a.watches().active()).isZero();

        // From a live version the same shard streams normally.
        RecordingSink live = new RecordingSink();
        watch(a, shard, Optional.of(SeqNo.of(earliest)), live);
        long current = current(a, shard);
        await().atMost(Duration.ofSeconds(20)).until(() -> live.last() == current);
        assertThat(live.snapshot()).isEqualTo(range(earliest + 1, current));
    }

    @Test
    void a_client_that_stops_reading_holds_a_bounded_page_and_is_disconnected_when_stalled_then_resumes() {
        Replica a = replica("replica-a", newBus());
        Replica b = replica("replica-b", newBus());
        ShardId shard = openShard(a);
        long start = current(b, shard);
        RecordingSink slow = new RecordingSink();
        slow.capacity = 10; // its transport takes 10 events, then is full for good
        watch(b, shard, Optional.empty(), slow);

        List<long[]> acks = append(a, shard, WriterId.random(), 0, 300);
        long last = acks.get(acks.size() - 1)[0];
        await().atMost(Duration.ofSeconds(20)).until(() -> slow.snapshot().size() == 10);
        // Every notification woke the watcher, but with nowhere to send it reads nothing more: what it holds is
        // one page at most, however far behind its client is.
        b.watches().tick();
        assertThat(slow.snapshot()).isEqualTo(range(start + 1, start + 10));
        assertThat(b.watchMetrics().fetched.get()).isLessThanOrEqualTo(2 * 64);
        assertThat(slow.ended).isNotDone();

        nanos.addAndGet(STALL.toNanos() + 1);
        b.watches().tick();
        assertThat(join(slow.ended)).isEqualTo(Watcher.End.STALLED);
        assertThat(join(slow.endedAt)).isEqualTo(SeqNo.of(start + 10));
        assertThat(b.watches().active()).isZero();

        RecordingSink resumed = new RecordingSink();
        watch(b, shard, Optional.of(join(slow.endedAt)), resumed);
        await().atMost(Duration.ofSeconds(20)).until(() -> resumed.last() == last);
        assertThat(resumed.snapshot()).isEqualTo(range(start + 11, last));
    }

    @Test
    void a_caught_up_watcher_is_not_stalled_however_long_it_waits() {
        Replica a = replica("replica-a", CommitBus.NONE);
        ShardId shard = openShard(a);
        RecordingSink idle = new RecordingSink();
        idle.ready = false; // not writable, but nothing waits for it either
        watch(a, shard, Optional.empty(), idle);

        nanos.addAndGet(STALL.toNanos() * 10);
        a.watches().tick();

        assertThat(idle.ended).isNotDone();
        assertThat(a.watches().active()).isEqualTo(1);
    }

    @Test
    void an_idle_stream_gets_a_keepalive_each_interval_and_a_busy_one_none() {
        Replica a = replica("replica-a", CommitBus.NONE);
        ShardId shard = openShard(a);
        RecordingSink idle = new RecordingSink();
        watch(a, shard, Optional.empty(), idle);

        a.watches().tick();
        assertThat(idle.keepalives.get()).isZero();
        nanos.addAndGet(Duration.ofSeconds(15).toNanos() + 1);
        a.watches().tick();
        assertThat(idle.keepalives.get()).isEqualTo(1);
        a.watches().tick();
        assertThat(idle.keepalives.get()).isEqualTo(1); // not again until another interval passed

        // A version sent counts as traffic: the next keepalive is due an interval after it.
        append(a, shard, WriterId.random(), 0, 1);
        await().atMost(Duration.ofSeconds(20)).until(() -> idle.snapshot().size() == 1);
        nanos.addAndGet(Duration.ofSeconds(10).toNanos());
        a.watches().tick();
        assertThat(idle.keepalives.get()).isEqualTo(1);
    }

    @Test
    void a_draining_replica_ends_every_watch_even_one_not_yet_started_and_refuses_new_ones() {
        Replica a = replica("replica-a", CommitBus.NONE, 4);
        ShardId shard = openShard(a);
        RecordingSink running = new RecordingSink();
        watch(a, shard, Optional.empty(), running);
        RecordingSink unstarted = new RecordingSink();
        Watcher registered = join(a.service().watch(shard, Optional.empty(), unstarted)); // its stream not yet open

        a.watches().shutdown();
        assertThat(running.ended).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(Watcher.End.SHUTDOWN);
        assertThat(unstarted.ended).as("nothing is sent before the transport starts").isNotDone();
        registered.start();
        assertThat(unstarted.ended).succeedsWithin(Duration.ofSeconds(10)).isEqualTo(Watcher.End.SHUTDOWN);
        assertThat(codeOf(a.service().watch(shard, Optional.empty(), new RecordingSink())))
                .isEqualTo(ErrorCode.WATCH_INTERRUPTED);
        assertThat(a.watches().active()).isZero();
    }

    @Test
    void watching_an_unknown_shard_or_a_future_version_or_beyond_the_limit_is_refused() {
        Replica a = replica("replica-a", CommitBus.NONE, 2);
        assertThat(codeOf(a.service().watch(ShardId.random(), Optional.empty(), new RecordingSink())))
                .isEqualTo(ErrorCode.SHARD_NOT_FOUND);
        ShardId shard = openShard(a);
        long current = current(a, shard);
        assertThat(codeOf(a.service().watch(shard, Optional.of(SeqNo.of(current + 1)), new RecordingSink())))
                .isEqualTo(ErrorCode.VERSION_NOT_FOUND);

        Watcher one = watch(a, shard, Optional.empty(), new RecordingSink());
        watch(a, shard, Optional.empty(), new RecordingSink());
        assertThat(codeOf(a.service().watch(shard, Optional.empty(), new RecordingSink())))
                .isEqualTo(ErrorCode.TOO_MANY_WATCHERS);
        one.cancel();
        watch(a, shard, Optional.empty(), new RecordingSink());
        assertThat(a.watches().active()).isEqualTo(2);
    }
}
