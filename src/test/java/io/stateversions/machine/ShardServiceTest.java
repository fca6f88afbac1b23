package io.stateversions.machine;

import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchMetrics;
import io.stateversions.watch.Watches;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.ApplyMergeResult;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Codecs;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsIter;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.FaultyConsensus;
import io.stateversions.testing.ForwardingConsensus;
import io.stateversions.testing.CountingBlob;
import io.stateversions.testing.CountingConsensus;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The per-shard machines behind {@link ShardService}, on real storage semantics: batching, two replicas (two
 * caches) on one Consensus, idempotent appends, indeterminate failures, and linearizable errors. A backend's
 * subclass only supplies the storage; shards are fresh per test.
 */
abstract class ShardServiceTest {

    static final Codecs CODECS = new Codecs("bytes", "bytes", "u64", "i64");
    static final PersistConfig CFG = StateVersionsScriptDriver.defaultConfig();

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    private final List<ExecutorService> pools = new ArrayList<>();

    @AfterEach
    void stopPools() {
        pools.forEach(ExecutorService::shutdownNow);
    }

    /** The service's maintenance defaults (the leaked-blob grace is what these tests use). */
    static final MaintenanceConfig MAINTENANCE_DEFAULTS = maintenance(Duration.ofMinutes(15));

    /** The service's maintenance defaults with another least grace of a leaked-blob sweep. */
    static MaintenanceConfig maintenance(Duration leakedBlobMinGrace) {
        return MaintenanceSettings.SWEEP_OFF.withLeakedBlobMinGrace(leakedBlobMinGrace);
    }

    /** The service's machine defaults, with the backoff between indeterminate retries shortened to 10 ms. */
    static final MachineSettings MACHINE_DEFAULTS = MachineSettings.DEFAULTS.withIndeterminateRetries(5, 10);

    static MachineSettings config(int maxBatch) {
        return config(maxBatch, 10_000, Duration.ofSeconds(60));
    }

    static MachineSettings config(int maxBatch, int maxQueued, Duration requestTimeout) {
        return MACHINE_DEFAULTS.withMaxBatchSize(maxBatch).withMaxQueuedCommands(maxQueued)
                .withRequestTimeout(requestTimeout);
    }

    /** One replica: its own state layer, machines (caches) and service, over the given storage. */
    ShardService replica(Consensus consensus, String hostname) {
        return replica(consensus, hostname, config(256));
    }

    ShardService replica(Consensus consensus, String hostname, MachineConfig config) {
        return replica(consensus, blob(), CFG, StateVersionsMetrics.NONE, hostname, config);
    }

    ShardService replica(Consensus consensus, Blob blob, PersistConfig cfg, StateVersionsMetrics metrics,
            String hostname, MachineConfig config) {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(cfg, consensus, blob, retries, metrics, System::currentTimeMillis,
                hostname);
        Machines machines = new Machines(sv, config, System::currentTimeMillis, hostname,
                ShardMachine.CommitListener.NONE);
        return new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), consensus, config, MAINTENANCE_DEFAULTS, watchesOf(sv, consensus));
    }

    static final Watches.Settings WATCH_DEFAULTS = new Watches.Settings(Duration.ofSeconds(5),
            Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(15), 10_000);

    /** Watches for a service whose tests do not watch: not told of commits, they would serve watchers by polls. */
    static Watches watchesOf(StateVersions sv, Consensus consensus) {
        return new Watches(sv, consensus, CommitBus.NONE, WATCH_DEFAULTS, System::nanoTime, WatchMetrics.NONE);
    }

    /** A replica that performs the maintenance its commits assign, as the service does, and can sweep. */
    record Maintained(ShardService service, Maintenance maintenance, StateVersions stateVersions,
            IdleSweeper sweeper, Machines machines) {}

    Maintained maintainedReplica(Consensus consensus, String hostname, PersistConfig cfg) {
        return maintainedReplica(consensus, hostname, cfg, System::currentTimeMillis);
    }

    Maintained maintainedReplica(Consensus consensus, String hostname, PersistConfig cfg,
            java.util.function.LongSupplier clock) {
        return maintainedReplica(consensus, blob(), hostname, cfg, clock);
    }

    Maintained maintainedReplica(Consensus consensus, Blob blob, String hostname, PersistConfig cfg,
            java.util.function.LongSupplier clock) {
        return maintainedReplica(consensus, blob, hostname, cfg, clock, config(256));
    }

    Maintained maintainedReplica(Consensus consensus, String hostname, PersistConfig cfg,
            java.util.function.LongSupplier clock, MachineConfig config) {
        return maintainedReplica(consensus, blob(), hostname, cfg, clock, config);
    }

    Maintained maintainedReplica(Consensus consensus, Blob blob, String hostname, PersistConfig cfg,
            java.util.function.LongSupplier clock, MachineConfig config) {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(cfg, consensus, blob, retries, StateVersionsMetrics.NONE, clock,
                hostname);
        RollupWriter rollups = new RollupWriter(sv);
        GarbageCollector gc = new GarbageCollector(sv, 4);
        Maintenance maintenance = new Maintenance(rollups, gc, java.util.concurrent.ForkJoinPool.commonPool());
        Machines machines = new Machines(sv, config, clock, hostname, maintenance);
        return new Maintained(new ShardService(machines, rollups, gc, new LeakedBlobSweeper(sv, 4), consensus,
                config, MAINTENANCE_DEFAULTS, watchesOf(sv, consensus)), maintenance, sv,
                new IdleSweeper(machines, consensus, rollups, gc, clock), machines);
    }

    /** A replica over a {@link FaultyConsensus}, with one freshly opened shard. */
    record Faulty(FaultyConsensus consensus, ShardService service, ShardId shard) {

        /** Holds the next CaS of the shard until the returned gate completes, so that commands queue behind it. */
        CompletableFuture<Void> holdNextCas() {
            CompletableFuture<Void> gate = new CompletableFuture<>();
            consensus.beforeNextCas(shard.toString(), () -> gate, () -> {});
            return gate;
        }
    }

    Faulty faulty(MachineConfig config) {
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        ShardService service = replica(faulty, "replica-a", config);
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        return new Faulty(faulty, service, shard);
    }

    static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static ErrorCode codeOf(CompletionStage<?> stage) {
        return apiError(stage).code();
    }

    /** The {@link ApiException} {@code stage} fails with. */
    static ApiException apiError(CompletionStage<?> stage) {
        try {
            stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            Throwable cause = e.getCause() instanceof CompletionException c ? c.getCause() : e.getCause();
            assertThat(cause).isInstanceOf(ApiException.class);
            return (ApiException) cause;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        throw new AssertionError("expected an ApiException, the call succeeded");
    }

    static HollowBatch batch(long lower, long upper, WriterId writer) {
        PartialBatchKey key = new PartialBatchKey(WriterKey.of(writer), PartId.random());
        return HollowBatch.of(new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN), 1,
                List.of(BatchPart.Hollow.of(key, 100)));
    }

    private long versions(ShardId shard) {
        List<VersionedData> all = join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
        return all.size();
    }

    /**
     * Reading an old version fetches the greatest live rollup at or below it and only the diffs after that rollup,
     * not every live diff and the rollup at earliest (and the latest rollup, to find that one's key); with that
     * rollup's blob gone it falls back to replaying from earliest, with the same answer.
     */
    @Test
    void reading_an_old_version_starts_from_the_greatest_rollup_at_or_below_it() {
        CountingConsensus consensus = new CountingConsensus(consensus());
        CountingBlob blob = new CountingBlob(blob());
        Maintained replica = maintainedReplica(consensus, blob, "replica-a", CFG, System::currentTimeMillis);
        ShardService service = replica.service();
        ShardId shard = ShardId.random();
        WriterId writer = WriterId.random();
        join(service.openShard(shard, CODECS));
        // A reader holding v2 keeps every version live, and every rollup in state.
        join(service.registerLeasedReader(shard, Optional.empty(), "hold", OptionalLong.empty()));
        for (int i = 0; i < 20; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
            join(replica.maintenance().idle(shard));
        }
        State current = join(service.getState(shard));
        long liveDiffs = versions(shard);
        SeqNo seqno = SeqNo.of(current.seqno().value() - 2);
        SeqNo rollup = current.collections().rollups().floorKey(seqno);
        assertThat(current.collections().rollups().size()).isGreaterThan(3);
        assertThat(rollup).isNotEqualTo(current.collections().rollups().firstKey());
        StateVersionsIter replay = join(replica.stateVersions().fetchAllLiveStates(shard)).orElseThrow();
        while (replay.state().seqno().isBefore(seqno)) {
            replay.next();
        }

        long scannedBefore = consensus.scanned();
        int getsBefore = blob.gets();
        State read = join(service.getVersion(shard, seqno));

        assertThat(read).isEqualTo(replay.state());
        assertThat(blob.gets() - getsBefore).as("rollups fetched").isEqualTo(1);
        assertThat(consensus.scanned() - scannedBefore).as("diffs fetched")
                .isEqualTo(seqno.value() - rollup.value() + 1).isLessThan(liveDiffs);

        // Its rollup gone (a GC elsewhere), the read replays from earliest instead, with the same answer.
        join(blob.delete(current.collections().rollups().get(rollup).key().complete(shard)));
        scannedBefore = consensus.scanned();
        getsBefore = blob.gets();
        assertThat(join(service.getVersion(shard, seqno))).isEqualTo(read);
        assertThat(blob.gets() - getsBefore).as("rollups fetched: the missing one, then earliest's").isEqualTo(2);
        assertThat(consensus.scanned() - scannedBefore).isGreaterThanOrEqualTo(liveDiffs);
    }

    /**
     * GC reads the diffs from earliest through its last truncation point and one rollup, the one at its first point
     * above earliest: no rollup to look up a key the machine holds, none at earliest, and no replay below the first
     * point (the further points are replayed to from it).
     */
    @Test
    void gc_reads_one_rollup_and_the_diffs_through_its_last_truncation_point() {
        CountingConsensus consensus = new CountingConsensus(consensus());
        CountingBlob blob = new CountingBlob(blob());
        ShardService service = replica(consensus, blob, CFG.withRollupThreshold(1_000), StateVersionsMetrics.NONE,
                "replica-a", config(256));
        ShardId shard = ShardId.random();
        WriterId writer = WriterId.random();
        join(service.openShard(shard, CODECS));
        List<SeqNo> rollups = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
            if (i % 4 == 3) {
                rollups.add(join(service.writeRollup(shard)).rollupKey().orElseThrow().seqno());
            }
        }
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(12, 13, writer)));
        SeqNo last = rollups.get(rollups.size() - 1);
        long live = versions(shard);

        long scannedBefore = consensus.scanned();
        int getsBefore = blob.gets();
        ShardApi.GcRun run = join(service.runGc(shard));

        assertThat(run.truncatedBelow()).isEqualTo(last);
        assertThat(blob.gets() - getsBefore).as("rollups fetched").isEqualTo(1);
        // The diffs v1..last, and the earliest one read after the GC to answer truncatedBelow.
        assertThat(consensus.scanned() - scannedBefore).as("diffs fetched").isEqualTo(last.value() + 1)
                .isLessThan(live);
        State after = join(service.getState(shard));
        assertThat(after.collections().rollups().firstKey()).isEqualTo(last);
    }

    @Test
    void concurrent_heartbeats_and_downgrades_share_versions_and_each_caller_gets_its_own_result() {
        Faulty f = faulty(config(256));
        ShardService service = f.service();
        ShardId shard = f.shard();
        int readers = 32;
        List<LeasedReaderId> ids = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            ids.add(join(service.registerLeasedReader(shard, Optional.empty(), "r" + i, OptionalLong.empty())).readerId());
        }
        long before = versions(shard);

        // Hold the next CaS until every other command is queued behind it, so the rest form one batch.
        CompletableFuture<Void> gate = f.holdNextCas();
        List<CompletableFuture<?>> calls = new ArrayList<>();
        List<CompletableFuture<ShardApi.SinceDowngraded>> downgrades = new ArrayList<>();
        for (int i = 0; i < readers; i++) {
            calls.add(service.heartbeatLeasedReader(shard, ids.get(i)).toCompletableFuture());
            CompletableFuture<ShardApi.SinceDowngraded> d =
                    service.downgradeSince(shard, ids.get(i), Frontier.of(i)).toCompletableFuture();
            downgrades.add(d);
            calls.add(d);
        }
        // One command for a reader that does not exist fails alone.
        CompletableFuture<SeqNo> missing =
                service.heartbeatLeasedReader(shard, LeasedReaderId.random()).toCompletableFuture();
        gate.complete(null);
        CompletableFuture.allOf(calls.toArray(CompletableFuture[]::new)).join();

        assertThat(codeOf(missing)).isEqualTo(ErrorCode.READER_EXPIRED);
        for (int i = 0; i < readers; i++) {
            assertThat(downgrades.get(i).join().since()).isEqualTo(Frontier.of(i));
        }
        long committed = versions(shard) - before;
        assertThat(committed).as("versions for %d commands", 2 * readers).isLessThanOrEqualTo(3);
        State state = join(service.getState(shard));
        for (int i = 0; i < readers; i++) {
            assertThat(state.collections().leasedReaders().get(ids.get(i)).since()).isEqualTo(Frontier.of(i));
        }
        assertThat(state.since()).isEqualTo(Frontier.MIN);
    }

    @Test
    void two_replicas_append_concurrently_into_one_contiguous_chain_without_losing_an_acknowledged_append()
            throws Exception {
        ShardService a = replica(consensus(), "replica-a");
        ShardService b = replica(consensus(), "replica-b");
        ShardId shard = ShardId.random();
        join(a.openShard(shard, CODECS));
        join(b.getState(shard));

        int clientsPerReplica = 3;
        int appendsPerClient = 15;
        ExecutorService pool = Executors.newFixedThreadPool(2 * clientsPerReplica);
        pools.add(pool);
        List<Description> acked = Collections.synchronizedList(new ArrayList<>());
        List<Integer> mismatches = Collections.synchronizedList(new ArrayList<>());
        List<java.util.concurrent.Future<?>> clients = new ArrayList<>();
        for (ShardService replica : List.of(a, b)) {
            for (int c = 0; c < clientsPerReplica; c++) {
                clients.add(pool.submit(() -> {
                    WriterId writer = WriterId.random();
                    long upper = 0;
                    int done = 0;
                    while (done < appendsPerClient) {
                        HollowBatch batch = batch(upper, upper + 1, writer);
                        try {
                            ShardApi.Appended ok = join(replica.compareAndAppend(shard, writer,
                                    IdempotencyToken.random(), batch));
                            assertThat(ok.alreadyCommitted()).isFalse();
                            acked.add(batch.desc());
                            upper = ok.upper().element();
                            done++;
                        } catch (CompletionException e) {
                            ApiException api = (ApiException) e.getCause();
                            assertThat(api.code()).isEqualTo(ErrorCode.UPPER_MISMATCH);
                            mismatches.add(1);
                            upper = ((Frontier) api.members().get("currentUpper")).element();
                        }
                    }
                    return null;
                }));
            }
        }
        for (var client : clients) {
            client.get(120, TimeUnit.SECONDS);
        }

        State state = join(a.getState(shard));
        List<HollowBatch> batches = state.collections().trace().batches();
        int total = 2 * clientsPerReplica * appendsPerClient;
        assertThat(acked).hasSize(total);
        assertThat(state.upper()).isEqualTo(Frontier.of(total));
        assertThat(batches.stream().map(HollowBatch::desc).toList())
                .containsExactlyInAnyOrderElementsOf(acked);
        for (int i = 0; i < batches.size(); i++) {
            assertThat(batches.get(i).desc().lower()).isEqualTo(Frontier.of(i));
        }
        assertThat(join(b.getState(shard))).isEqualTo(state);
    }

    @Test
    void an_append_retried_with_its_token_after_success_is_already_committed_and_changes_nothing() {
        ShardService service = replica(consensus(), "replica-a");
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch batch = batch(0, 5, writer);
        ShardApi.Appended first = join(service.compareAndAppend(shard, writer, token, batch));
        assertThat(first.alreadyCommitted()).isFalse();
        assertThat(first.upper()).isEqualTo(Frontier.of(5));

        ShardApi.Appended again = join(service.compareAndAppend(shard, writer, token, batch));
        assertThat(again.alreadyCommitted()).isTrue();
        assertThat(again.seqno()).isEqualTo(first.seqno());
        assertThat(join(service.getState(shard)).collections().trace().batches()).hasSize(1);
    }

    @Test
    void an_append_whose_cas_reply_is_lost_is_retried_by_token_and_lands_once() {
        Faulty f = faulty(config(256));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();
        f.consensus().loseReplyOfNextCas(shard.toString(), () -> {});

        ShardApi.Appended appended = join(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                batch(0, 3, writer)));

        assertThat(f.consensus().disarm()).isFalse();
        assertThat(appended.alreadyCommitted()).isFalse();
        assertThat(appended.upper()).isEqualTo(Frontier.of(3));
        assertThat(join(service.getState(shard)).collections().trace().batches()).hasSize(1);
    }

    /**
     * CockroachDB answers 57014 for a statement whose one-phase commit its statement timer overtook: a "determinate"
     * failure of a CaS that landed. The resent CaS loses to it; taken for another replica's commit, the re-run would
     * find the inputs gone and answer not_applied_no_match, and the compactor would delete an output that state
     * refers to.
     */
    @Test
    void a_merge_whose_cas_committed_but_was_answered_with_a_determinate_failure_is_reported_applied() {
        Faulty f = faulty(config(256));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), uploaded(shard, batch(i, i + 1,
                    writer))));
        }
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        HollowBatch output = uploaded(shard, batch(0, 2, writer).withDesc(req.desc()));
        f.consensus().failAfterNextCas(shard.toString(), () -> CompletableFuture.completedFuture(null),
                new Determinate("injected: query execution canceled due to statement timeout (57014)"));

        ShardApi.MergeApplied applied = join(service.applyMergeRes(shard, req.id(),
                new FueledMergeRes(output, req.inputs())));

        assertThat(f.consensus().disarm()).isFalse();
        assertThat(applied.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(join(service.getState(shard)).collections().trace().batches()).contains(output);
    }

    /** The same failure on an append: it landed once, and this call is the one that landed it. */
    @Test
    void an_append_whose_cas_committed_but_was_answered_with_a_determinate_failure_is_appended_not_already_committed() {
        Faulty f = faulty(config(256));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();
        f.consensus().failAfterNextCas(shard.toString(), () -> CompletableFuture.completedFuture(null),
                new Determinate("injected: query execution canceled due to statement timeout (57014)"));

        ShardApi.Appended appended = join(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                batch(0, 3, writer)));

        assertThat(f.consensus().disarm()).isFalse();
        assertThat(appended.alreadyCommitted()).isFalse();
        assertThat(join(service.getState(shard)).collections().trace().batches()).hasSize(1);
    }

    /** Consensus with a standby to fail over to: compare-and-sets, heads and scans go to the current one. */
    private static final class FailingOver extends ForwardingConsensus {
        volatile Consensus current;
        final AtomicInteger compareAndSets = new AtomicInteger();

        FailingOver(Consensus primary) {
            super(primary);
            current = primary;
        }

        @Override
        public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData data) {
            compareAndSets.incrementAndGet();
            return current.compareAndSet(key, expected, data);
        }

        @Override
        public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
            return current.scan(key, from, limit);
        }

        @Override
        public CompletionStage<Optional<VersionedData>> head(String key) {
            return current.head(key);
        }
    }

    /**
     * A failover to a standby that lacks the last acknowledged commit leaves the replica's cache ahead of Consensus:
     * every CaS would mismatch and every refresh find nothing newer, forever and without backoff. Instead the command
     * fails at once as a broken invariant (internal, with the seqnos), and the shard is reloaded from storage, so
     * that the writer can re-send the append that was lost.
     */
    @Test
    void a_cache_ahead_of_consensus_fails_the_command_as_internal_once_and_the_shard_then_serves_from_storage() {
        FailingOver failover = new FailingOver(consensus());
        ShardService service = replica(failover, "replica-a");
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        MemoryConsensus standby = new MemoryConsensus();
        for (VersionedData d : join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL))) {
            Optional<SeqNo> expected = d.seqno().equals(SeqNo.of(1)) ? Optional.empty()
                    : Optional.of(SeqNo.of(d.seqno().value() - 1));
            assertThat(join(standby.compareAndSet(shard.toString(), expected, d))).isEqualTo(CasResult.COMMITTED);
        }
        SeqNo standbyHead = join(standby.head(shard.toString())).orElseThrow().seqno();
        WriterId writer = WriterId.random();
        IdempotencyToken token = IdempotencyToken.random();
        ShardApi.Appended acknowledged = join(service.compareAndAppend(shard, writer, token, batch(0, 1, writer)));
        failover.current = standby; // the primary is gone, and its last acknowledged commit with it
        int before = failover.compareAndSets.get();

        ApiException error = apiError(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                batch(1, 2, writer)));

        assertThat(error.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(error.getCause()).hasMessageContaining("this replica saw " + acknowledged.seqno() + " committed")
                .hasMessageContaining("Consensus lost versions: its head is " + standbyHead);
        assertThat(failover.compareAndSets.get() - before).as("compare-and-sets after the failover").isEqualTo(1);
        ShardApi.Appended resent = join(service.compareAndAppend(shard, writer, token, batch(0, 1, writer)));
        assertThat(resent.alreadyCommitted()).isFalse();
        assertThat(resent.seqno()).isEqualTo(standbyHead.next());
        assertThat(join(service.getState(shard)).upper()).isEqualTo(Frontier.of(1));
    }

    private HollowBatch uploaded(ShardId shard, HollowBatch batch) {
        for (BatchPart part : batch.parts()) {
            join(blob().set(((BatchPart.Hollow) part).key().complete(shard), new byte[] {1}));
        }
        return batch;
    }

    @Test
    void a_replica_with_a_stale_cache_sees_what_another_replica_committed_before_answering_an_error() {
        ShardService a = replica(consensus(), "replica-a");
        ShardService b = replica(consensus(), "replica-b");
        ShardId shard = ShardId.random();
        join(a.openShard(shard, CODECS));
        join(b.getState(shard)); // b caches the shard now

        LeasedReaderId reader = join(a.registerLeasedReader(shard, Optional.empty(), "p", OptionalLong.empty()))
                .readerId();
        // b's cache lacks the reader: a heartbeat there must not answer reader_expired.
        SeqNo seqno = join(b.heartbeatLeasedReader(shard, reader));
        assertThat(seqno.value()).isGreaterThan(2);

        // And an append through b, whose cache has a stale upper, lands once a appended first.
        WriterId w = WriterId.random();
        join(a.compareAndAppend(shard, w, IdempotencyToken.random(), batch(0, 1, w)));
        ShardApi.Appended viaB = join(b.compareAndAppend(shard, w, IdempotencyToken.random(), batch(1, 2, w)));
        assertThat(viaB.upper()).isEqualTo(Frontier.of(2));
        // A reader that really is gone is reported as such, by both.
        assertThat(codeOf(b.heartbeatLeasedReader(shard, LeasedReaderId.random()))).isEqualTo(ErrorCode.READER_EXPIRED);
    }

    @Test
    void errors_of_one_command_in_a_batch_do_not_fail_its_neighbours() {
        Faulty f = faulty(config(256));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();

        CompletableFuture<Void> gate = f.holdNextCas();
        var first = service.registerWriter(shard, writer, "w", OptionalLong.empty()).toCompletableFuture();
        var good = service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(0, 4, writer))
                .toCompletableFuture();
        var badBounds = service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                HollowBatch.empty(new Description(Frontier.of(9), Frontier.of(4), Frontier.MIN))).toCompletableFuture();
        var wrongLower = service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(0, 7, writer))
                .toCompletableFuture();
        var schema = service.registerSchema(shard, io.stateversions.core.Bytes.copyOf(new byte[] {1}),
                io.stateversions.core.Bytes.copyOf(new byte[] {2})).toCompletableFuture();
        gate.complete(null);

        join(first);
        assertThat(join(good).upper()).isEqualTo(Frontier.of(4));
        assertThat(codeOf(badBounds)).isEqualTo(ErrorCode.INVALID_BOUNDS);
        assertThat(codeOf(wrongLower)).isEqualTo(ErrorCode.UPPER_MISMATCH);
        assertThat(join(schema).schemaId().value()).isZero();
        assertThat(join(good).seqno()).isEqualTo(join(schema).seqno());
    }

    @Test
    void commands_on_a_shard_that_was_never_opened_are_shard_not_found_and_create_nothing() {
        ShardService service = replica(consensus(), "replica-a");
        ShardId shard = ShardId.random();
        assertThat(codeOf(service.getState(shard))).isEqualTo(ErrorCode.SHARD_NOT_FOUND);
        assertThat(codeOf(service.registerWriter(shard, WriterId.random(), "w", OptionalLong.empty())))
                .isEqualTo(ErrorCode.SHARD_NOT_FOUND);
        assertThat(versions(shard)).isZero();
        // Opening afterwards works (the failed load is not cached).
        assertThat(join(service.openShard(shard, CODECS)).created()).isTrue();
        assertThat(join(service.openShard(shard, CODECS)).created()).isFalse();
        assertThat(codeOf(service.openShard(shard, new Codecs("a", "b", "c", "d")))).isEqualTo(ErrorCode.CODEC_MISMATCH);
    }

    @Test
    void finalize_then_tombstone_rules() {
        ShardService service = replica(consensus(), "replica-a");
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        assertThat(codeOf(service.finalizeShard(shard))).isEqualTo(ErrorCode.NOT_FINALIZABLE);
        WriterId w = WriterId.random();
        join(service.compareAndAppend(shard, w, IdempotencyToken.random(),
                HollowBatch.empty(new Description(Frontier.MIN, Frontier.EMPTY, Frontier.MIN))));
        LeasedReaderId r = join(service.registerLeasedReader(shard, Optional.empty(), "r", OptionalLong.empty()))
                .readerId();
        join(service.downgradeSince(shard, r, Frontier.EMPTY));
        State finalized = join(service.finalizeShard(shard));
        assertThat(finalized.isFinalized()).isTrue();
        SeqNo seqno = finalized.seqno();
        assertThat(join(service.finalizeShard(shard)).seqno()).isEqualTo(seqno);
        assertThat(codeOf(service.registerWriter(shard, w, "w", OptionalLong.empty())))
                .isEqualTo(ErrorCode.SHARD_TOMBSTONED);
        assertThat(codeOf(service.compareAndAppend(shard, w, IdempotencyToken.random(),
                batch(0, 1, w)))).isEqualTo(ErrorCode.UPPER_MISMATCH);
        assertThat(join(service.expireWriter(shard, w))).isEqualTo(seqno);
        assertThat(join(service.getState(shard)).seqno()).isEqualTo(seqno);
    }

    /**
     * A commit expires the leases that lapsed by the time it is computed, the very reader it registers or heartbeats
     * included: a reader whose lease is shorter than its command waited is answered reader_expired, not 200 with a
     * hold that GC no longer respects. Here every read of the clock is 10 ms later and the lease is 5 ms.
     */
    @Test
    void a_reader_whose_lease_lapses_before_its_command_commits_is_answered_reader_expired() {
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(1_000_000);
        ShardService service = maintainedReplica(consensus(), "replica-a", CFG, () -> now.addAndGet(10)).service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));

        ApiException lapsed = apiError(service.registerLeasedReader(shard, Optional.empty(), "short",
                OptionalLong.of(5)));

        assertThat(lapsed.code()).isEqualTo(ErrorCode.READER_EXPIRED);
        assertThat(lapsed.getMessage()).contains("5 ms");
        assertThat(join(service.getState(shard)).collections().leasedReaders()).isEmpty();

        LeasedReaderId lasting = join(service.registerLeasedReader(shard, Optional.empty(), "lasting",
                OptionalLong.of(60_000))).readerId();
        assertThat(join(service.getState(shard)).collections().leasedReaders()).containsKey(lasting);
    }

    @Test
    void gc_deletes_the_blobs_of_compacted_batches_truncates_to_the_latest_rollup_and_keeps_what_readers_hold() {
        ShardService service = replica(consensus(), "replica-a");
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        List<HollowBatch> appended = new ArrayList<>();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) { // one chunk of the merge policy: one merge request
            HollowBatch b = batch(i, i + 1, writer);
            for (BatchPart part : b.parts()) {
                join(blob().set(((BatchPart.Hollow) part).key().complete(shard), new byte[] {1}));
            }
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), b));
            appended.add(b);
        }
        // A reader registered now holds this version, whose batches the merge below replaces: GC must keep it readable.
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(), "hold",
                OptionalLong.empty()));
        List<io.stateversions.core.FueledMergeReq> reqs = join(service.listMergeRequests(shard));
        assertThat(reqs).hasSize(1);
        HollowBatch output = batch(0, 2, writer).withDesc(reqs.get(0).desc());
        join(blob().set(((BatchPart.Hollow) output.parts().get(0)).key().complete(shard), new byte[] {2}));
        assertThat(join(service.applyMergeRes(shard, reqs.get(0).id(),
                new io.stateversions.core.FueledMergeRes(output, reqs.get(0).inputs()))).result())
                .isEqualTo(io.stateversions.core.ApplyMergeResult.APPLIED_EXACT);

        ShardApi.RollupWritten r1 = join(service.writeRollup(shard));
        assertThat(r1.rollupKey()).isPresent();
        ShardApi.GcRun held = join(service.runGc(shard));
        assertThat(held.truncatedBelow().value()).isLessThanOrEqualTo(reader.seqno().value());
        assertThat(held.partsDeleted()).isZero();
        assertThat(join(service.getVersion(shard, reader.seqno())).seqno()).isEqualTo(reader.seqno());

        // Once the reader is gone, GC truncates up to the latest rollup and deletes the compacted inputs.
        join(service.expireLeasedReader(shard, reader.readerId()));
        ShardApi.RollupWritten r2 = join(service.writeRollup(shard));
        SeqNo rollupSeqno = r2.rollupKey().orElseThrow().seqno();
        ShardApi.GcRun gc = join(service.runGc(shard));
        assertThat(gc.truncatedBelow()).isEqualTo(rollupSeqno);
        assertThat(gc.partsDeleted()).isEqualTo(Trace.MAX_MERGE_INPUTS);
        for (HollowBatch b : appended) {
            String key = ((BatchPart.Hollow) b.parts().get(0)).key().complete(shard);
            assertThat(join(blob().get(key))).as(key).isEmpty();
        }
        assertThat(join(blob().get(((BatchPart.Hollow) output.parts().get(0)).key().complete(shard)))).isPresent();
        assertThat(codeOf(service.getVersion(shard, reader.seqno()))).isEqualTo(ErrorCode.VERSION_TRUNCATED);
        State state = join(service.getState(shard));
        assertThat(state.collections().rollups().firstKey()).isEqualTo(rollupSeqno);
        assertThat(join(blob().get(r2.rollupKey().get().complete(shard)))).isPresent();
        // A second GC has nothing left to do.
        ShardApi.GcRun again = join(service.runGc(shard));
        assertThat(again.partsDeleted()).isZero();
        assertThat(again.truncatedBelow()).isEqualTo(rollupSeqno);
    }

    @Test
    void a_shard_with_a_full_queue_refuses_more_commands_at_once_and_serves_the_queued_ones() {
        Faulty f = faulty(config(256, 3, Duration.ofSeconds(60)));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();
        join(service.registerWriter(shard, writer, "w", OptionalLong.empty()));

        // With the CaS held, commands pile up until the queue is full; the next is refused at once. (How many are
        // accepted depends on how many the machine took into the held batch before it stalled.)
        CompletableFuture<Void> gate = f.holdNextCas();
        List<CompletableFuture<SeqNo>> accepted = new ArrayList<>();
        CompletableFuture<SeqNo> refused = null;
        for (int i = 0; i < 1000 && refused == null; i++) {
            CompletableFuture<SeqNo> call = service.heartbeatWriter(shard, writer).toCompletableFuture();
            if (call.isCompletedExceptionally()) {
                refused = call;
            } else {
                accepted.add(call);
            }
        }
        assertThat(refused).as("a call refused once the queue is full").isNotNull();
        assertThat(codeOf(refused)).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
        assertThat(accepted).hasSizeGreaterThanOrEqualTo(3);
        gate.complete(null);

        for (CompletableFuture<SeqNo> call : accepted) {
            assertThat(join(call)).isGreaterThan(SeqNo.MIN);
        }
    }

    @Test
    void a_call_not_done_within_the_request_timeout_is_outcome_unknown_for_mutations_and_unavailable_for_reads() {
        Faulty f = faulty(config(256, 100, Duration.ofMillis(200)));
        ShardService service = f.service();
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();

        CompletableFuture<Void> gate = f.holdNextCas();
        var mutation = service.registerWriter(shard, writer, "w", OptionalLong.empty());
        var read = service.getState(shard);
        assertThat(codeOf(mutation)).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
        assertThat(codeOf(read)).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);
        gate.complete(null);

        // The held commit did land afterwards: exactly what outcome_unknown warned about.
        State state = join(service.getState(shard));
        assertThat(state.collections().writers()).containsKey(writer);
    }

    /**
     * A replica whose blob store lacks the rollup Consensus names (deleted by hand, or another store) answers
     * {@code internal} once its refetch budget is spent, well within the request timeout, and stops reading Blob.
     */
    @Test
    void a_fresh_replica_answers_internal_within_the_refetch_budget_when_the_latest_rollup_is_gone() {
        ShardId shard = ShardId.random();
        String rollup = openAndDeleteTheLatestRollup(shard);
        CountingBlob counted = new CountingBlob(blob());
        List<String> gaveUp = Collections.synchronizedList(new ArrayList<>());
        ShardService fresh = replica(consensus(), counted, CFG.withStaleRollupRefetchBudgetMs(200),
                recordingGiveUps(gaveUp), "replica-b", config(256));

        long start = System.nanoTime();
        Throwable error = catchThrowable(() -> join(fresh.getState(shard)));
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(error).cause().isInstanceOf(ApiException.class);
        ApiException api = (ApiException) error.getCause();
        assertThat(api.code()).isEqualTo(ErrorCode.INTERNAL);
        assertThat(api.getCause()).hasMessageContaining(rollup).hasMessageContaining(shard.toString())
                .hasMessageContaining("same blob store");
        assertThat(elapsedMs).isBetween(200L, 5_000L);
        assertThat(gaveUp).containsExactly("fetch_current_state, budget");
        counted.assertGetsStopped();
    }

    /** A read that times out before the refetch budget is spent stops the refetches it started. */
    @Test
    void a_read_that_times_out_while_a_rollup_is_missing_stops_its_refetches() {
        ShardId shard = ShardId.random();
        openAndDeleteTheLatestRollup(shard);
        CountingBlob counted = new CountingBlob(blob());
        List<String> gaveUp = Collections.synchronizedList(new ArrayList<>());
        ShardService fresh = replica(consensus(), counted, CFG.withStaleRollupRefetchBudgetMs(600_000),
                recordingGiveUps(gaveUp), "replica-b", config(256, 100, Duration.ofMillis(300)));

        assertThat(codeOf(fresh.getState(shard))).isEqualTo(ErrorCode.STORAGE_UNAVAILABLE);

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> !gaveUp.isEmpty());
        counted.assertGetsStopped();
        assertThat(gaveUp).containsExactly("fetch_current_state, caller_done");
    }

    /**
     * The load of a shard's machine is shared: when the caller that started it is done, the refetches stop, and a
     * caller that joined the load starts its own rather than fail for the other's timeout.
     */
    @Test
    void a_shared_load_stopped_for_the_caller_that_started_it_goes_on_for_a_caller_that_joined_it() {
        ShardId shard = ShardId.random();
        openAndDeleteTheLatestRollup(shard);
        List<String> gaveUp = Collections.synchronizedList(new ArrayList<>());
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(CFG.withStaleRollupRefetchBudgetMs(300), consensus(), blob(), retries,
                recordingGiveUps(gaveUp), System::currentTimeMillis, "replica-b");
        Machines machines = new Machines(sv, config(256), System::currentTimeMillis, "replica-b",
                ShardMachine.CommitListener.NONE);
        CompletableFuture<Void> starter = new CompletableFuture<>();

        CompletableFuture<ShardMachine> started = machines.get(shard, starter);
        CompletableFuture<ShardMachine> joined = machines.get(shard, new CompletableFuture<Void>());
        starter.cancel(false);

        assertThatThrownBy(started::join).hasCauseInstanceOf(java.util.concurrent.CancellationException.class);
        assertThatThrownBy(joined::join).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("same blob store");
        assertThat(gaveUp).containsExactly("fetch_current_state, caller_done", "fetch_current_state, budget");
    }

    /** Opens {@code shard} on one replica and deletes its only rollup from Blob; returns the rollup's key. */
    private String openAndDeleteTheLatestRollup(ShardId shard) {
        State state = join(replica(consensus(), "replica-a").openShard(shard, CODECS)).state();
        String key = state.latestRollup().getValue().key().complete(shard);
        join(blob().delete(key));
        return key;
    }

    private static StateVersionsMetrics recordingGiveUps(List<String> gaveUp) {
        return new StateVersionsMetrics() {
            @Override
            public void staleRollupGaveUp(String op, String reason) {
                gaveUp.add(op + ", " + reason);
            }
        };
    }

    @Test
    void with_maintenance_a_thousand_appends_keep_the_log_short_with_a_rollup_at_its_start() {
        int threshold = 32;
        Maintained replica = maintainedReplica(consensus(), "replica-a",
                PersistConfig.defaults(CFG.buildVersion()).withValidateTransitions(true).withRollupThreshold(threshold));
        ShardService service = replica.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        // Maintenance keeps pace with the writer here (each append waits for it), as it does when commits take
        // PostgreSQL's milliseconds; a writer racing ahead of it only delays the truncation.
        int maxLive = 0;
        for (int i = 0; i < 1000; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
            join(replica.maintenance().idle(shard));
            maxLive = Math.max(maxLive, join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL)).size());
        }
        assertThat(maxLive).as("most live versions during 1000 appends").isLessThanOrEqualTo(2 * threshold);

        List<VersionedData> live = join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
        State state = join(service.getState(shard));
        assertThat(live.size()).as("live versions of %s", state.seqno()).isLessThanOrEqualTo(maxLive);
        SeqNo earliest = live.get(0).seqno();
        assertThat(state.collections().rollups()).containsKey(earliest);
        assertThat(join(blob().get(state.collections().rollups().get(earliest).key().complete(shard)))).isPresent();
        assertThat(state.upper()).isEqualTo(Frontier.of(1000));
        assertThat(state.collections().trace().batches().stream().mapToLong(HollowBatch::len).sum()).isEqualTo(1000);
        // The state rebuilt from storage alone (a fresh replica) is the same.
        assertThat(join(replica(consensus(), "replica-b").getState(shard))).isEqualTo(state);
    }

    /** Sweeps one shard (sweepAll would sweep every shard of a shared database), idle after a minute. */
    static IdleSweeper.Result sweep(Maintained replica, ShardId shard) {
        IdleSweeper.Tally tally = new IdleSweeper.Tally();
        join(replica.sweeper().sweep(shard, 60_000, tally));
        return tally.result();
    }

    @Test
    void the_sweep_expires_the_lapsed_handles_of_a_quiet_shard_rolls_it_up_and_collects_it_then_leaves_it_alone() {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong(
                System.currentTimeMillis());
        Maintained replica = maintainedReplica(consensus(), "replica-a",
                PersistConfig.defaults(CFG.buildVersion()).withValidateTransitions(true), clock::get);
        ShardService service = replica.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        LeasedReaderId reader = join(service.registerLeasedReader(shard, Optional.empty(), "gone",
                OptionalLong.of(60_000))).readerId();
        WriterId writer = WriterId.random();
        for (int i = 0; i < 20; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
        }
        join(replica.maintenance().idle(shard));
        State before = join(service.getState(shard));
        assertThat(before.seqnoSince().value()).as("the reader holds the log").isLessThanOrEqualTo(3);

        // Busy (a commit just now): the sweep leaves the shard alone.
        IdleSweeper.Result busy = sweep(replica, shard);
        assertThat(busy.idle()).isZero();
        assertThat(join(service.getState(shard)).seqno()).isEqualTo(before.seqno());

        // Two hours later both leases lapsed: the sweep expires them, rolls the shard up and truncates its log.
        clock.addAndGet(2 * 3_600_000L);
        IdleSweeper.Result swept = sweep(replica, shard);
        join(replica.maintenance().idle(shard));
        assertThat(swept.failed()).isZero();
        assertThat(swept.handlesExpired()).isGreaterThanOrEqualTo(2);
        State after = join(service.getState(shard));
        assertThat(after.collections().leasedReaders()).doesNotContainKey(reader);
        assertThat(after.collections().writers()).doesNotContainKey(writer);
        assertThat(after.upper()).isEqualTo(Frontier.of(20));
        List<VersionedData> live = join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
        assertThat(live.size()).as("live versions after the sweep").isLessThanOrEqualTo(3);
        assertThat(after.collections().rollups()).containsKey(live.get(0).seqno());

        // Later sweeps find nothing to do: no version is committed for its own sake.
        clock.addAndGet(3_600_000L);
        IdleSweeper.Result again = sweep(replica, shard);
        join(replica.maintenance().idle(shard));
        assertThat(again.handlesExpired() + again.rollupsWritten() + again.gcRuns()).isZero();
        assertThat(join(service.getState(shard)).seqno()).isEqualTo(after.seqno());
    }

    @Test
    void a_rollup_that_loses_to_another_at_the_same_seqno_is_deleted_and_the_winner_kept() {
        Faulty f = faulty(config(256));
        ShardService a = f.service();
        ShardService b = replica(consensus(), "replica-b");
        ShardId shard = f.shard();
        WriterId writer = WriterId.random();
        join(a.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(0, 1, writer)));
        SeqNo s = join(b.getState(shard)).seqno();

        // a writes its rollup of s, and its add_rollup waits while b writes and links its own rollup of s.
        CompletableFuture<Void> gate = f.holdNextCas();
        CompletableFuture<ShardApi.RollupWritten> lost = a.writeRollup(shard).toCompletableFuture();
        ShardApi.RollupWritten won = join(b.writeRollup(shard));
        assertThat(won.rollupKey()).isPresent();
        assertThat(won.rollupKey().get().seqno()).isEqualTo(s);
        gate.complete(null);

        assertThat(join(lost).rollupKey()).isEmpty();
        State state = join(a.getState(shard));
        assertThat(state.collections().rollups().get(s).key()).isEqualTo(won.rollupKey().get());
        List<String> rollupBlobs = new ArrayList<>();
        join(blob().list(shard + "/" + s + "/", meta -> rollupBlobs.add(meta.key())));
        assertThat(rollupBlobs).containsExactly(won.rollupKey().get().complete(shard));
    }
}
