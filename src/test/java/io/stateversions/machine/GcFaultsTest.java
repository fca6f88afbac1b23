package io.stateversions.machine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.BatchPart;
import io.stateversions.core.BlobKey;
import io.stateversions.core.Codecs;
import io.stateversions.core.CriticalReaderId;
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
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.Chaos;
import io.stateversions.testing.ChaosBlob;
import io.stateversions.testing.ChaosConsensus;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Garbage collection and maintenance under storage faults (spec §11.4: every step idempotent, resumable, safe to
 * run twice at once). GCs are killed at each of their steps (a storage call that never returns) and finished by a
 * fresh replica; two GCs run at once, or one stalls while another collects past it; a rollup link's reply is lost
 * while GC moves on; a reader's seqno hold keeps its versions; seeded workloads run while storage fails at random,
 * and while a replica dies at random points. After each, the shard's invariants (spec §3.7) are checked on raw
 * storage by {@link ShardInvariants}, and no blob a live state refers to may be missing. Batch parts are real blobs,
 * written before they are appended, so that their existence can be checked. A backend's subclass only supplies the
 * storage; shards are fresh per test.
 */
abstract class GcFaultsTest {

    static final Codecs CODECS = new Codecs("bytes", "bytes", "u64", "i64");
    /** Rollup threshold 3, transitions validated. */
    static final PersistConfig CFG = StateVersionsScriptDriver.defaultConfig();
    /** The seed of the random workload unless {@code -Dchaos.seed} replays another. */
    static final long DEFAULT_SEED = 20_261_124L;

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    /** Kill every {@code killStride()}-th call of each kind (1: every one); slower backends sample. */
    protected int killStride() {
        return 1;
    }

    /** How many times the two-GCs-at-once race is run. */
    protected int repetitions() {
        return 3;
    }

    /** The number of client operations of the random workloads. */
    protected int workloadOperations() {
        return 150;
    }

    /** The odds of a fault of every kind of storage call during the random workload. */
    protected Chaos.Odds workloadOdds() {
        return new Chaos.Odds(0.04, 0.04, 0);
    }

    // ------------------------------------------------------------------------------------------- replicas

    /** One replica over the given storage: its own state layer, caches and service, and maintenance if on. */
    record Replica(ShardService service, Optional<Maintenance> maintenance) {

        void idle(ShardId shard) {
            maintenance.ifPresent(m -> join(m.idle(shard), "maintenance of " + shard + " to go idle"));
        }
    }

    static Replica replica(Consensus consensus, Blob blob, String hostname, boolean maintained) {
        return replica(consensus, blob, hostname, maintained, Duration.ofMinutes(10));
    }

    static Replica replica(Consensus consensus, Blob blob, String hostname, boolean maintained,
            Duration requestTimeout) {
        return replica(consensus, blob, hostname, maintained, requestTimeout, System::currentTimeMillis,
                ShardServiceTest.MAINTENANCE_DEFAULTS);
    }

    /** A replica whose clock (leases, walltimes, the sweep's "now") is {@code clock}. */
    static Replica replica(Consensus consensus, Blob blob, String hostname, boolean maintained,
            Duration requestTimeout, LongSupplier clock, MaintenanceConfig maintenanceConfig) {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(CFG, consensus, blob, retries, StateVersionsMetrics.NONE, clock,
                hostname);
        RollupWriter rollups = new RollupWriter(sv);
        GarbageCollector gc = new GarbageCollector(sv, 4);
        Maintenance maintenance = maintained ? new Maintenance(rollups, gc, ForkJoinPool.commonPool()) : null;
        MachineConfig config = ShardServiceTest.config(256, 10_000, requestTimeout);
        Machines machines = new Machines(sv, config, clock, hostname,
                maintained ? maintenance : ShardMachine.CommitListener.NONE);
        return new Replica(new ShardService(machines, rollups, gc, new LeakedBlobSweeper(sv, 4), consensus, config,
                maintenanceConfig, ShardServiceTest.watchesOf(sv, consensus)), Optional.ofNullable(maintenance));
    }

    Replica fresh(String hostname) {
        return replica(consensus(), blob(), hostname, false);
    }

    static <T> T join(CompletionStage<T> stage, Object context) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (TimeoutException e) {
            throw new AssertionError("no answer within 60 s: " + context, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    static <T> T join(CompletionStage<T> stage) {
        return join(stage, "a call");
    }

    // ------------------------------------------------------------------------------------ blobs and history

    /** A batch of one hollow part whose blob is written now, as a client writes it before appending. */
    HollowBatch writtenBatch(ShardId shard, WriterId writer, Description desc, long len, Set<PartialBatchKey> written) {
        PartialBatchKey key = new PartialBatchKey(WriterKey.of(writer), PartId.random());
        join(blob().set(key.complete(shard), ("part " + key).getBytes(java.nio.charset.StandardCharsets.UTF_8)),
                "writing part " + key);
        written.add(key);
        return HollowBatch.of(desc, len, List.of(BatchPart.Hollow.of(key, 10)));
    }

    static Description desc(long lower, long upper) {
        return new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN);
    }

    /** The shard's history, as built by one client that knows every part it wrote. */
    final class History {
        final ShardId shard = ShardId.random();
        final WriterId writer = WriterId.random();
        final Set<PartialBatchKey> written = Collections.synchronizedSet(new LinkedHashSet<>());
        long upper;

        /** Appends of equal batches that form one merge request: a chunk of the merge policy. */
        static final int CHUNK = Trace.MAX_MERGE_INPUTS;

        void append(ShardService service, int count) {
            for (int i = 0; i < count; i++) {
                HollowBatch batch = writtenBatch(shard, writer, desc(upper, upper + 1), 1, written);
                ShardApi.Appended appended = join(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                        batch));
                upper = appended.upper().element();
            }
        }

        /** Applies merge requests until there are none: each replaces its inputs' parts by one new part. */
        int mergeAll(ShardService service) {
            int merged = 0;
            for (List<FueledMergeReq> reqs = join(service.listMergeRequests(shard)); !reqs.isEmpty();
                    reqs = join(service.listMergeRequests(shard))) {
                FueledMergeReq req = reqs.get(0);
                long len = req.inputs().stream().mapToLong(HollowBatch::len).sum();
                HollowBatch output = writtenBatch(shard, writer, req.desc(), len, written);
                ShardApi.MergeApplied applied = join(service.applyMergeRes(shard, req.id(),
                        new FueledMergeRes(output, req.inputs())));
                assertThat(applied.result().applied()).as("merge %s", req.id()).isTrue();
                merged++;
            }
            return merged;
        }

        SeqNo rollup(ShardService service) {
            return join(service.writeRollup(shard)).rollupKey().orElseThrow().seqno();
        }

        /**
         * Phase one: appends, merges and rollups, collected by a complete GC (which removes the older rollups from
         * state, so that the next GC deletes their blobs). Phase two: more of the same, ending with a rollup, so
         * that the next GC truncates in three steps and deletes parts at each and rollups at the first.
         *
         * @return the seqno of the last rollup: where the next GC must truncate to
         */
        SeqNo build(ShardService service) {
            join(service.openShard(shard, CODECS));
            for (int round = 0; round < 2; round++) {
                append(service, CHUNK);
                mergeAll(service);
                rollup(service);
            }
            ShardApi.GcRun first = join(service.runGc(shard));
            assertThat(first.partsDeleted()).as("parts deleted by the first GC").isPositive();
            SeqNo last = null;
            for (int round = 0; round < 3; round++) {
                append(service, CHUNK);
                mergeAll(service);
                last = rollup(service);
            }
            return last;
        }
    }

    // ------------------------------------------------------------------------------------- GC killed at a step

    /** A step of GC at which the process can die: a storage call of a kind, on some keys. */
    enum Step {
        PART_DELETE(Chaos.Op.BLOB_DELETE, key -> BlobKey.parse(key) instanceof BlobKey.BatchPart),
        ROLLUP_DELETE(Chaos.Op.BLOB_DELETE, key -> BlobKey.parse(key) instanceof BlobKey.Rollup),
        TRUNCATE(Chaos.Op.CONSENSUS_TRUNCATE, key -> true),
        REMOVE_ROLLUPS_CAS(Chaos.Op.CONSENSUS_CAS, key -> true);

        final Chaos.Op op;
        final Predicate<String> keys;

        Step(Chaos.Op op, Predicate<String> keys) {
            this.op = op;
            this.keys = keys;
        }
    }

    @Test
    void gc_killed_at_any_step_is_finished_by_a_fresh_replica_and_keeps_every_referenced_blob() {
        List<String> killed = new ArrayList<>();
        for (Step step : Step.values()) {
            for (Chaos.When when : Chaos.When.values()) {
                int fired = 0;
                for (int nth = 1; ; nth += killStride()) {
                    if (!killAndResume(step, when, nth)) {
                        break;
                    }
                    fired++;
                    killed.add(step + "#" + nth + "/" + when);
                }
                assertThat(fired).as("GC calls of step %s (%s)", step, when).isPositive();
            }
        }
        System.out.println("GC killed and resumed at " + killed.size() + " points: " + killed);
    }

    /**
     * Builds a history on a replica whose storage will hang the {@code nth} call of {@code step}, runs GC there and,
     * if it hung, finishes it from a fresh replica over the same storage.
     *
     * @return whether the trap caught a call (false: that GC makes fewer such calls, it completed)
     */
    private boolean killAndResume(Step step, Chaos.When when, int nth) {
        Chaos chaos = new Chaos("kill-" + step + "-" + nth + "-" + when, 0);
        Replica doomed = replica(new ChaosConsensus(consensus(), chaos), new ChaosBlob(blob(), chaos), "doomed", false);
        History history = new History();
        SeqNo expectedEarliest = history.build(doomed.service());
        Chaos.Trap trap = chaos.hang(step.op, step.keys, step.name(), nth, when);
        String context = trap + " of " + history.shard;

        CompletableFuture<ShardApi.GcRun> gc = doomed.service().runGc(history.shard).toCompletableFuture();
        join(CompletableFuture.anyOf(gc, trap.reached()), "GC or " + context);
        if (!trap.fired()) {
            ShardApi.GcRun run = join(gc);
            assertThat(run.truncatedBelow()).as("GC that completed, %s", context).isEqualTo(expectedEarliest);
            return false;
        }
        assertThat(gc).as("GC killed at %s", context).isNotDone();
        // While a GC is dead half way, the state readers may hold (from seqnoSince on) is intact.
        ShardInvariants.checkDuringGc(history.shard, consensus(), blob(), CFG, context);

        Replica rescuer = fresh("rescuer");
        ShardApi.GcRun resumed = join(rescuer.service().runGc(history.shard), "the resumed GC, " + context);
        assertThat(resumed.truncatedBelow()).as("earliest after the resumed GC, %s", context)
                .isEqualTo(expectedEarliest);
        State state = join(rescuer.service().getState(history.shard));
        ShardInvariants.Report report = ShardInvariants.check(history.shard, consensus(), blob(), CFG, context, state);
        assertThat(report.earliest()).as("earliest, %s", context).isEqualTo(expectedEarliest);
        assertThat(state.collections().rollups().keySet()).as("rollups in state, %s", context)
                .containsExactly(expectedEarliest);
        assertThat(report.referencedParts()).as("parts referenced, %s", context).isSubsetOf(history.written);
        assertCollected(report, history.written, context);
        // The rescuer carries on: the shard is fully usable.
        history.append(rescuer.service(), 1);
        assertThat(join(rescuer.service().getState(history.shard)).upper()).isEqualTo(Frontier.of(history.upper));
        return true;
    }

    // -------------------------------------------------------------------------------- two GCs at once

    @Test
    void two_gcs_on_two_replicas_at_once_both_finish_and_keep_the_invariants() {
        for (int round = 0; round < repetitions(); round++) {
            Replica a = fresh("replica-a");
            Replica b = fresh("replica-b");
            History history = new History();
            SeqNo expectedEarliest = history.build(a.service());
            join(b.service().getState(history.shard));

            CompletableFuture<ShardApi.GcRun> ga = a.service().runGc(history.shard).toCompletableFuture();
            CompletableFuture<ShardApi.GcRun> gb = b.service().runGc(history.shard).toCompletableFuture();
            String context = "two GCs at once, round " + round + ", shard " + history.shard;
            assertThat(join(ga, context).truncatedBelow()).isEqualTo(expectedEarliest);
            assertThat(join(gb, context).truncatedBelow()).isEqualTo(expectedEarliest);

            State state = join(a.service().getState(history.shard));
            ShardInvariants.Report report = ShardInvariants.check(history.shard, consensus(), blob(), CFG, context,
                    state);
            assertThat(report.earliest()).isEqualTo(expectedEarliest);
            assertThat(join(b.service().getState(history.shard))).isEqualTo(state);
            assertCollected(report, history.written, context);
        }
    }

    /**
     * GC on replica A stalls at a step (a slow process, not a dead one); meanwhile replica B collects everything,
     * the shard moves on and B collects again; then A wakes up with its stale plan and finishes. A's late deletes
     * and truncation must not touch what the newer states refer to.
     */
    @Test
    void a_gc_that_stalls_while_another_collects_past_it_finishes_harmlessly() {
        for (Step step : Step.values()) {
            for (Chaos.When when : Chaos.When.values()) {
                Chaos chaos = new Chaos("stall-" + step + "-" + when, 0);
                Replica a = replica(new ChaosConsensus(consensus(), chaos), new ChaosBlob(blob(), chaos), "slow-a",
                        false);
                Replica b = fresh("replica-b");
                History history = new History();
                history.build(a.service());
                CompletableFuture<Void> wake = new CompletableFuture<>();
                Chaos.Trap trap = chaos.trap(step.op, step.keys, step.name(), 1, when, () -> wake);
                String context = trap + " of " + history.shard;

                CompletableFuture<ShardApi.GcRun> slow = a.service().runGc(history.shard).toCompletableFuture();
                join(trap.reached(), context);
                join(b.service().runGc(history.shard), context);
                history.append(b.service(), History.CHUNK);
                history.mergeAll(b.service());
                SeqNo latest = history.rollup(b.service());
                assertThat(join(b.service().runGc(history.shard), context).truncatedBelow()).isEqualTo(latest);

                wake.complete(null);
                join(slow, "the stalled GC, " + context);
                State state = join(b.service().getState(history.shard));
                ShardInvariants.Report report = ShardInvariants.check(history.shard, consensus(), blob(), CFG,
                        context, state);
                assertThat(report.earliest()).as(context).isEqualTo(latest);
                assertThat(join(a.service().getState(history.shard))).isEqualTo(state);
            }
        }
    }

    /**
     * A rollup's {@code add_rollup} lands but its reply is lost, and before the machine retries it another replica
     * rolls up past it and collects twice: the first GC removes the rollup from state, the second deletes its blob.
     * The retried {@code add_rollup} must not link that rollup again: current state would refer to a deleted blob
     * (spec §3.7.8), and with validation on, the live diffs would insert it twice, which fails every later GC.
     */
    @Test
    void a_rollup_link_retried_after_a_lost_reply_does_not_bring_back_a_rollup_that_gc_removed_meanwhile() {
        Replica b = fresh("replica-b");
        History history = new History();
        history.build(b.service());
        Chaos chaos = new Chaos("lost-add-rollup", 0);
        Replica a = replica(new ChaosConsensus(consensus(), chaos), new ChaosBlob(blob(), chaos), "replica-a", false);
        join(a.service().getState(history.shard));
        history.append(b.service(), 1);
        CompletableFuture<Void> reply = new CompletableFuture<>();
        Chaos.Trap trap = chaos.loseReply(Chaos.Op.CONSENSUS_CAS, key -> true, "add_rollup", 1, () -> reply);
        String context = trap + " of " + history.shard;

        CompletableFuture<ShardApi.RollupWritten> written = a.service().writeRollup(history.shard)
                .toCompletableFuture();
        join(trap.reached(), context);
        State linked = join(b.service().getState(history.shard));
        var ours = linked.collections().rollups().lastEntry().getValue();
        // Replica b rolls up past it and collects twice: ours leaves state, then its blob goes.
        for (int i = 0; i < 2; i++) {
            history.append(b.service(), 2);
            SeqNo latest = history.rollup(b.service());
            assertThat(join(b.service().runGc(history.shard)).truncatedBelow()).isEqualTo(latest);
        }
        assertThat(join(b.service().getState(history.shard)).collections().rollups()).doesNotContainValue(ours);
        assertThat(join(blob().get(ours.key().complete(history.shard)))).as("blob of %s", ours.key()).isEmpty();

        reply.complete(null);
        join(written, "the rollup write whose reply was lost, " + context);
        State state = join(a.service().getState(history.shard));
        assertThat(state.collections().rollups()).as("rollups after the retried add_rollup, %s", context)
                .doesNotContainValue(ours);
        ShardInvariants.check(history.shard, consensus(), blob(), CFG, context, state);
        // GC still works on the shard.
        history.append(b.service(), 2);
        SeqNo latest = history.rollup(b.service());
        assertThat(join(b.service().runGc(history.shard), context).truncatedBelow()).isEqualTo(latest);
        ShardInvariants.check(history.shard, consensus(), blob(), CFG, context, join(b.service().getState(history.shard)));
    }

    // ------------------------------------------------------------------------------------- reader holds

    @Test
    void a_reader_holding_an_old_seqno_keeps_every_version_from_it_through_gc_until_it_expires() {
        Replica replica = replica(consensus(), blob(), "maintained", true);
        ShardService service = replica.service();
        History history = new History();
        join(service.openShard(history.shard, CODECS));
        for (int i = 0; i < 4; i++) {
            history.append(service, History.CHUNK);
            history.mergeAll(service);
            replica.idle(history.shard);
        }
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(history.shard, Optional.empty(),
                "hold", OptionalLong.empty()));
        SeqNo held = reader.seqno();
        State atHold = join(service.getVersion(history.shard, held));
        int merges = 0;
        for (int i = 0; i < 6; i++) {
            history.append(service, History.CHUNK);
            merges += history.mergeAll(service);
            replica.idle(history.shard);
            assertThat(earliest(history.shard)).as("earliest while %s holds %s", reader.readerId(), held)
                    .isLessThanOrEqualTo(held);
        }
        assertThat(merges).as("merges that removed parts the held version refers to").isPositive();
        join(service.runGc(history.shard));
        // GC's own commit may be assigned a rollup, which this replica's maintenance writes in the background: let it
        // finish, or a fresh replica may load a version after the head the check read.
        replica.idle(history.shard);
        State current = join(service.getState(history.shard));
        ShardInvariants.check(history.shard, consensus(), blob(), CFG, "held at " + held, current);
        assertThat(join(service.getVersion(history.shard, held))).isEqualTo(atHold);
        for (long s = held.value(); s <= current.seqno().value(); s++) {
            assertThat(join(service.getVersion(history.shard, SeqNo.of(s))).seqno()).isEqualTo(SeqNo.of(s));
        }

        join(service.expireLeasedReader(history.shard, reader.readerId()));
        history.append(service, 3);
        replica.idle(history.shard);
        await().atMost(Duration.ofSeconds(30)).until(() -> {
            replica.idle(history.shard);
            return earliest(history.shard).isAfter(held);
        });
        State after = join(service.getState(history.shard));
        ShardInvariants.Report report = ShardInvariants.check(history.shard, consensus(), blob(), CFG,
                "after expiring the holder of " + held, after);
        assertThat(report.earliest()).isGreaterThan(held);
        CompletionException truncated = org.junit.jupiter.api.Assertions.assertThrows(CompletionException.class,
                () -> join(service.getVersion(history.shard, held)));
        assertThat(((ApiException) truncated.getCause()).code()).isEqualTo(ErrorCode.VERSION_TRUNCATED);
    }

    /**
     * {@link Maintenance#idle} means quiescent: the maintenance it waits for may assign more (GC's
     * {@code remove_rollups} a rollup, a rollup's {@code add_rollup} a GC), and it waits for that too. So right after
     * it completes, with no client commits meanwhile, nothing is running and the log does not move.
     */
    @Test
    void maintenance_idle_waits_for_the_follow_up_work_that_maintenance_assigns() {
        Replica replica = replica(consensus(), blob(), "maintained", true);
        ShardService service = replica.service();
        Maintenance maintenance = replica.maintenance().orElseThrow();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        List<String> moved = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            // No writers: every commit, maintenance's own included, may be assigned GC as well as rollups.
            join(service.registerCriticalReader(shard, CriticalReaderId.random(), "c", "u64", 0));
            join(maintenance.idle(shard), "maintenance to go idle after commit " + i);
            SeqNo idleAt = join(service.getState(shard)).seqno();
            CompletableFuture<Void> again = maintenance.idle(shard);
            SeqNo head = join(consensus().head(shard.toString())).orElseThrow().seqno();
            if (!again.isDone() || !head.equals(idleAt)) {
                moved.add("after commit " + i + ": idle again " + (again.isDone() ? "done" : "pending") + ", head "
                        + idleAt + " -> " + head);
            }
            join(again, "maintenance to go idle again after commit " + i);
        }
        assertThat(moved).as("maintenance still at work after idle() completed").isEmpty();
    }

    private SeqNo earliest(ShardId shard) {
        List<VersionedData> first = join(consensus().scan(shard.toString(), SeqNo.MIN, 1));
        return first.get(0).seqno();
    }

    // ------------------------------------------------------------------------------------ random workload

    /** The seeds of a workload run: {@code -Dchaos.seeds=N} runs N random ones, else the one seed. */
    static List<Long> seeds() {
        String runs = System.getProperty("chaos.seeds");
        if (runs == null || runs.isBlank()) {
            return List.of(Chaos.seed(DEFAULT_SEED));
        }
        Random seeds = new Random(Chaos.seed(System.nanoTime()));
        List<Long> list = new ArrayList<>();
        for (int i = Integer.parseInt(runs.trim()); i > 0; i--) {
            list.add(seeds.nextLong());
        }
        return list;
    }

    /**
     * The least grace of a leaked-blob sweep in the workload: above the second by which S3 stamps may precede a
     * write (see {@link ChaosWorkload}); stores that stamp exactly may go lower.
     */
    protected Duration workloadMinGrace() {
        return Duration.ofSeconds(2);
    }

    /** Workload replicas: maintenance on, the workload's clock, request timeout and least leaked-blob grace. */
    Replica workloadReplica(Consensus consensus, Blob blob, String hostname, Duration requestTimeout,
            ChaosWorkload.Clock clock) {
        return replica(consensus, new ChaosWorkload.ClockedBlob(blob, clock), hostname, true, requestTimeout, clock,
                ShardServiceTest.maintenance(workloadMinGrace()));
    }

    /**
     * Two replicas with maintenance on, over storage that fails at random (determinately, or indeterminately after
     * the call took effect), serve one client ({@link ChaosWorkload}). Then the faults stop, maintenance drains, GC
     * runs, and the shard must be whole.
     */
    @TestFactory
    Stream<DynamicTest> a_workload_under_random_storage_failures_keeps_the_invariants() {
        return seeds().stream().map(seed -> DynamicTest.dynamicTest("seed " + seed, () -> workload(seed)));
    }

    private void workload(long seed) {
        Chaos chaos = new Chaos("workload", seed).oddsForAll(workloadOdds());
        Consensus consensus = new ChaosConsensus(consensus(), chaos);
        Blob blob = new ChaosBlob(blob(), chaos);
        ChaosWorkload.Clock clock = new ChaosWorkload.Clock();
        List<Replica> replicas = List.of(
                workloadReplica(consensus, blob, "replica-a", ChaosWorkload.REQUEST_TIMEOUT, clock),
                workloadReplica(consensus, blob, "replica-b", ChaosWorkload.REQUEST_TIMEOUT, clock));
        ChaosWorkload workload = new ChaosWorkload(consensus(), blob(), clock, workloadMinGrace(), replicas, null,
                new Random(seed), chaos);
        chaos.enable();
        workload.run(workloadOperations());
        chaos.disable();
        workload.settle();
        assertThat(chaos.toString()).as("faults were injected")
                .doesNotContain("injected 0 determinate, 0 indeterminate");
    }

    /**
     * Like the workload above, with a third replica whose storage calls hang at random, before or after they take
     * effect: a process that dies at a random point of a command, a rollup or a GC, with its commit possibly landed.
     * The client gives up on it at its first failure (a request timeout) and goes on through the others; its
     * maintenance stays dead, and a new mortal replica (a restart) takes its place, a few times. What the dead left
     * half done, the others must finish.
     */
    @TestFactory
    Stream<DynamicTest> a_replica_that_dies_at_random_points_leaves_nothing_the_others_cannot_finish() {
        return seeds().stream().map(seed -> DynamicTest.dynamicTest("seed " + seed, () -> mortalWorkload(seed)));
    }

    private void mortalWorkload(long seed) {
        Chaos chaos = new Chaos("workload", seed).oddsForAll(workloadOdds());
        Consensus consensus = new ChaosConsensus(consensus(), chaos);
        Blob blob = new ChaosBlob(blob(), chaos);
        ChaosWorkload.Clock clock = new ChaosWorkload.Clock();
        List<Chaos> incarnations = Collections.synchronizedList(new ArrayList<>());
        List<Replica> replicas = List.of(
                workloadReplica(consensus, blob, "replica-a", ChaosWorkload.REQUEST_TIMEOUT, clock),
                workloadReplica(consensus, blob, "replica-b", ChaosWorkload.REQUEST_TIMEOUT, clock));
        Object context = new Object() {
            @Override
            public String toString() {
                return chaos + ", " + incarnations;
            }
        };
        ChaosWorkload workload = new ChaosWorkload(consensus(), blob(), clock, workloadMinGrace(), replicas, () -> {
            int n = incarnations.size();
            Chaos death = new Chaos("mortal-" + n, seed + 1 + n).oddsForAll(new Chaos.Odds(0, 0, 0.04)).enable();
            incarnations.add(death);
            return new ChaosWorkload.Mortal(workloadReplica(new ChaosConsensus(consensus(), death),
                    new ChaosBlob(blob(), death), "mortal-" + n, Duration.ofMillis(300), clock), death);
        }, new Random(seed), context);
        chaos.enable();
        workload.run(workloadOperations());
        chaos.disable();
        workload.settle();
        assertThat(workload.deaths).as("deaths of the mortal replica [%s]", context).isNotEmpty();
    }

    /** Fails unless every written part that no live state refers to is gone: GC finished its work. */
    private static void assertCollected(ShardInvariants.Report report, Set<PartialBatchKey> written, Object context) {
        Set<PartialBatchKey> notCollected = new TreeSet<>(report.unreferencedParts());
        notCollected.retainAll(written);
        assertThat(notCollected).as("parts that no live state refers to are still in Blob (%s) [%s]", report, context)
                .isEmpty();
        assertThat(report.unreferencedRollups()).as("rollups that no live state refers to are still in Blob (%s) [%s]",
                report, context).isEmpty();
    }
}
