package io.stateversions.machine;

import static io.stateversions.machine.GcFaultsTest.CFG;
import static io.stateversions.machine.GcFaultsTest.CODECS;
import static io.stateversions.machine.GcFaultsTest.desc;
import static io.stateversions.machine.GcFaultsTest.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.BatchPart;
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
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.Consensus;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.testing.Chaos;
import io.stateversions.testing.ForwardingBlob;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * One client's random operations on one shard through a set of replicas, as a network client may legally send
 * them: appends with real part blobs (one at a time, or two of one writer pipelined), merges (sometimes two
 * compactors of one request, the second re-using an input part), leased readers that register, read a snapshot
 * while downgrading with its seqno outstanding, and expire, a critical reader's compare-and-downgrades, writers with
 * the shortest lease allowed whose lease then lapses, reused idempotency tokens, explicit GCs and rollups, and
 * leaked-blob sweeps at the least grace allowed racing the rollup writer and an append.
 *
 * <p>Every call is retried, with the same ids and token, until it gets an answer other than a storage error. A
 * storage error from a mortal replica means it died: the client turns to the others for good. Whatever the faults,
 * the answers must be the ones a sequential model of the client predicts, every snapshot's parts must exist until
 * its reader is done, and {@link #settle} checks the shard on raw storage: the invariants, every acknowledged append
 * present exactly once, and no blob that a live state refers to missing.
 */
final class ChaosWorkload {

    /** A replica whose process can die, and the chaos of its storage calls. */
    record Mortal(GcFaultsTest.Replica replica, Chaos chaos) {}

    static final int MAX_RESPAWNS = 5;
    /** How often the clock jumps past a writer's lease: each jump ages every lease by about a minute. */
    static final int MAX_LAPSES = 5;
    /** The request timeout of the stable replicas: the shortest writer lease is then 60 s (3 timeouts, floored). */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(20);

    /** The workload's wall clock: real time plus the jumps it makes to let leases lapse. */
    static final class Clock implements LongSupplier {
        private final AtomicLong offsetMs = new AtomicLong();

        @Override
        public long getAsLong() {
            return System.currentTimeMillis() + offsetMs.get();
        }

        void jump(long ms) {
            offsetMs.addAndGet(ms);
        }
    }

    /**
     * The blob store as its replicas see it: its last-modified times on the workload's clock. Listing adds the
     * jumps made so far, which makes every blob look at most as old as it is, never older: the sweep's grace holds
     * as it would with agreeing clocks.
     */
    static final class ClockedBlob extends ForwardingBlob {
        private final Clock clock;

        ClockedBlob(Blob delegate, Clock clock) {
            super(delegate);
            this.clock = clock;
        }

        @Override
        public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
            long offset = clock.offsetMs.get();
            return delegate.list(prefix, m -> consumer.accept(new BlobMetadata(m.key(), m.sizeBytes(),
                    m.lastModifiedMs() + offset)));
        }
    }

    private final Consensus consensus;
    private final Blob blob;
    private final Clock clock;
    /**
     * The least grace of a leaked-blob sweep on the workload's replicas, at which it sweeps. It must exceed the time
     * this client takes from writing a blob to linking it, plus how much earlier than its write the blob store may
     * stamp it: the client links each part by the call right after writing it, and a sweep started before a part
     * was written sees it as younger than the sweep's start, so only the stamp matters (S3 stamps whole seconds).
     */
    private final Duration minGrace;
    final ShardId shard = ShardId.random();
    final WriterId writer = WriterId.random();
    final Set<PartialBatchKey> written = Collections.synchronizedSet(new LinkedHashSet<>());
    /** Parts that may be in Blob without any live state naming them: outputs of merges not (known to be) applied. */
    final Set<PartialBatchKey> possiblyLeaked = new TreeSet<>();
    private final List<GcFaultsTest.Replica> stable;
    private final List<GcFaultsTest.Replica> alive;
    private final Map<GcFaultsTest.Replica, Chaos> mortal = new HashMap<>();
    private final Supplier<Mortal> respawn;
    private int respawns;
    private final Random random;
    private final Object context;
    private final List<LeasedReaderId> readers = new ArrayList<>();
    /** The snapshot each reader is reading, until it has checked every part. */
    private final Map<LeasedReaderId, ShardApi.Snapshot> reading = new LinkedHashMap<>();
    private final CriticalReaderId critical = CriticalReaderId.random();
    private long criticalOpaque;
    private Frontier criticalSince = Frontier.MIN;
    private boolean criticalRegistered;
    /** The main writer's last append, for the token-reuse probe. */
    private IdempotencyToken lastToken;
    final List<String> deaths = new ArrayList<>();
    /** The shard's upper as this (only) client made it: every append it got acknowledged is below it. */
    long upper;
    int lapses;
    int abandonedUploads;
    int snapshotsRead;
    int sweepsDeleted;

    /**
     * @param stable  replicas that never die, built over {@code clock}
     * @param respawn a new mortal replica (a restarted process), or null for none; at most
     *                {@link #MAX_RESPAWNS} are started after the first
     */
    ChaosWorkload(Consensus consensus, Blob blob, Clock clock, Duration minGrace, List<GcFaultsTest.Replica> stable,
            Supplier<Mortal> respawn, Random random, Object context) {
        this.consensus = consensus;
        this.blob = blob;
        this.clock = clock;
        this.minGrace = minGrace;
        this.stable = List.copyOf(stable);
        this.alive = new ArrayList<>(stable);
        this.respawn = respawn;
        this.random = random;
        this.context = context;
        if (respawn != null) {
            spawn();
        }
    }

    // ------------------------------------------------------------------------------------------- calls

    /**
     * An answer: a value, or an API error that is not a storage failure; {@code afterStorageFailure}: an earlier
     * attempt of the call failed with one (so it may have taken effect then).
     */
    private record Answer<T>(T value, ApiException error, boolean afterStorageFailure) {
        ErrorCode code() {
            return error == null ? null : error.code();
        }
    }

    private static boolean storageFailure(Throwable e) {
        return e instanceof ApiException api
                && (api.code() == ErrorCode.STORAGE_UNAVAILABLE || api.code() == ErrorCode.OUTCOME_UNKNOWN);
    }

    /** Calls until the answer is not a storage failure; a mortal replica that fails is dead from then on. */
    <T> Answer<T> attempt(String what, Function<ShardService, CompletionStage<T>> call) {
        for (int attempt = 1; ; attempt++) {
            GcFaultsTest.Replica replica = alive.get(random.nextInt(alive.size()));
            try {
                return new Answer<>(join(call.apply(replica.service()), what), null, attempt > 1);
            } catch (CompletionException e) {
                if (!storageFailure(e.getCause())) {
                    if (e.getCause() instanceof ApiException api) {
                        return new Answer<>(null, api, attempt > 1);
                    }
                    throw new AssertionError(what + " failed [" + context + "]: " + e.getCause(), e.getCause());
                }
                if (attempt == 100) {
                    throw new AssertionError(what + " failed 100 times [" + context + "]: " + e.getCause(),
                            e.getCause());
                }
                died(replica, what);
            }
        }
    }

    <T> T call(String what, Function<ShardService, CompletionStage<T>> call) {
        Answer<T> answer = attempt(what, call);
        if (answer.error() != null) {
            throw new AssertionError(what + " failed [" + context + "]: " + answer.error(), answer.error());
        }
        return answer.value();
    }

    /** Expects the call to fail with {@code code} (after any storage failures). */
    <T> ApiException refused(String what, ErrorCode code, Function<ShardService, CompletionStage<T>> call) {
        Answer<T> answer = attempt(what, call);
        assertThat(answer.code()).as("%s [%s]: %s", what, context, answer.value()).isEqualTo(code);
        return answer.error();
    }

    private void died(GcFaultsTest.Replica replica, String what) {
        Chaos death = mortal.get(replica);
        if (death != null && alive.remove(replica)) {
            // A request timed out: the process is dead, none of its work goes on.
            join(death.kill(), "the last storage calls of a dead replica");
            deaths.add(what);
            if (respawns++ < MAX_RESPAWNS) {
                spawn();
            }
        }
    }

    private void spawn() {
        Mortal next = respawn.get();
        mortal.put(next.replica(), next.chaos());
        alive.add(next.replica());
    }

    // ------------------------------------------------------------------------------------------- blobs

    /** A batch of one hollow part whose blob is written now, as a client writes it before appending. */
    HollowBatch writtenBatch(WriterId by, Description desc, long len) {
        PartialBatchKey key = new PartialBatchKey(WriterKey.of(by), PartId.random());
        join(blob.set(key.complete(shard), ("part " + key).getBytes(StandardCharsets.UTF_8)),
                "writing part " + key);
        written.add(key);
        return HollowBatch.of(desc, len, List.of(BatchPart.Hollow.of(key, 10)));
    }

    // ------------------------------------------------------------------------------------------- run

    void run(int operations) {
        call("open", service -> service.openShard(shard, CODECS));
        // If chance has not killed the mortal replica by then, a point in the second half kills it, so that every
        // run of a workload with a mortal replica has a death to recover from.
        int forcedDeath = operations / 2 + random.nextInt(Math.max(1, operations / 4));
        for (int op = 0; op < operations; op++) {
            if (op == forcedDeath && deaths.isEmpty() && !mortal.isEmpty()) {
                for (Map.Entry<GcFaultsTest.Replica, Chaos> m : mortal.entrySet()) {
                    if (alive.contains(m.getKey())) {
                        m.getValue().kill(); // its calls hang from now on; the client finds out at its next one
                    }
                }
            }
            step(op);
        }
    }

    private void step(int op) {
        int dice = random.nextInt(100);
        String what = "operation " + op + " (dice " + dice + ")";
        if (dice < 36) {
            append(what);
        } else if (dice < 42) {
            pipelinedAppends(what);
        } else if (dice < 52) {
            merge(what);
        } else if (dice < 58) {
            LeasedReaderId id = LeasedReaderId.random();
            String purpose = "reader of operation " + op;
            call(what + ": register " + id,
                    service -> service.registerLeasedReader(shard, Optional.of(id), purpose, OptionalLong.empty()));
            readers.add(id);
        } else if (dice < 64 && !readers.isEmpty()) {
            downgrade(what, readers.get(random.nextInt(readers.size())));
        } else if (dice < 70 && !readers.isEmpty()) {
            readSnapshot(what, readers.get(random.nextInt(readers.size())));
        } else if (dice < 74 && !readers.isEmpty()) {
            LeasedReaderId id = readers.remove(random.nextInt(readers.size()));
            reading.remove(id);
            call(what + ": expire " + id, service -> service.expireLeasedReader(shard, id));
        } else if (dice < 79) {
            compareAndDowngrade(what);
        } else if (dice < 83) {
            call(what + ": run GC", service -> service.runGc(shard));
        } else if (dice < 87) {
            call(what + ": write rollup", service -> service.writeRollup(shard));
        } else if (dice < 92) {
            sweepRacingRollupsAndAnAppend(what);
        } else if (dice < 96 && lapses < MAX_LAPSES) {
            lapsingWriter(what);
        } else if (lastToken != null) {
            reuseToken(what);
        } else {
            append(what);
        }
    }

    private void append(String what) {
        if (random.nextInt(20) == 0) {
            // A writer that dies after uploading its part, before appending it: a leaked part, the sweep's to delete.
            HollowBatch abandoned = writtenBatch(WriterId.random(), desc(upper, upper + 1), 1);
            possiblyLeaked.add(((BatchPart.Hollow) abandoned.parts().get(0)).key());
            abandonedUploads++;
        }
        HollowBatch batch = writtenBatch(writer, desc(upper, upper + 1), 1);
        IdempotencyToken token = IdempotencyToken.random();
        ShardApi.Appended appended = call(what + ": append",
                service -> service.compareAndAppend(shard, writer, token, batch));
        assertThat(appended.upper()).as("upper after %s [%s]", what, context).isEqualTo(Frontier.of(upper + 1));
        upper++;
        lastToken = token;
    }

    /**
     * Two appends of the writer sent at once to one replica (the second's lower is the first's upper). On a replica
     * that stays alive, lost compare-and-set replies or not, each is answered 200, or the second (had it overtaken
     * the first) a definite upper mismatch, after which the client sends it again: never outcome-unknown, since the
     * machine never puts both in one version and so its own retry recognizes each by its token.
     */
    private void pipelinedAppends(String what) {
        GcFaultsTest.Replica replica = alive.get(random.nextInt(alive.size()));
        List<HollowBatch> batches = List.of(writtenBatch(writer, desc(upper, upper + 1), 1),
                writtenBatch(writer, desc(upper + 1, upper + 2), 1));
        List<IdempotencyToken> tokens = List.of(IdempotencyToken.random(), IdempotencyToken.random());
        List<CompletableFuture<ShardApi.Appended>> answers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            HollowBatch batch = batches.get(i);
            IdempotencyToken token = tokens.get(i);
            answers.add(replica.service().compareAndAppend(shard, writer, token, batch).toCompletableFuture());
        }
        boolean dead = false;
        List<Integer> resend = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            try {
                ShardApi.Appended appended = join(answers.get(i), what + ": pipelined append");
                assertThat(appended.upper()).as("%s: append %d [%s]", what, i, context)
                        .isEqualTo(batches.get(i).desc().upper());
            } catch (CompletionException e) {
                if (mortal.containsKey(replica) && storageFailure(e.getCause())) {
                    dead = true;
                } else if (i == 1 && e.getCause() instanceof ApiException api && api.code() == ErrorCode.UPPER_MISMATCH
                        && ((Frontier) api.members().get("writerUpper")).lessThan(batches.get(1).desc().upper())) {
                    resend.add(i); // it overtook the first: certainly not committed
                } else {
                    throw new AssertionError(what + ": pipelined append " + i + " on a live replica failed ["
                            + context + "]: " + e.getCause(), e.getCause());
                }
            }
        }
        if (dead) {
            // The replica died with the appends in flight: whatever landed is in state; append the rest anew.
            died(replica, what + ": pipelined appends");
            State state = call(what + ": state after a death", service -> service.getState(shard));
            long landed = state.upper().element() - upper;
            assertThat(landed).as("appends landed of a pipelined pair [%s]", context).isBetween(0L, 2L);
            upper += landed;
            lastToken = null;
            for (int i = (int) landed; i < 2; i++) {
                possiblyLeaked.add(((BatchPart.Hollow) batches.get(i).parts().get(0)).key());
                append(what + ": re-append");
            }
            return;
        }
        for (int i : resend) {
            ShardApi.Appended appended = call(what + ": resend " + i,
                    service -> service.compareAndAppend(shard, writer, tokens.get(i), batches.get(i)));
            assertThat(appended.upper()).isEqualTo(batches.get(i).desc().upper());
        }
        assertThat(answers.get(0).join().seqno()).as("%s: one append per version [%s]", what, context)
                .isLessThan(resend.isEmpty() ? answers.get(1).join().seqno() : SeqNo.of(Long.MAX_VALUE));
        upper += 2;
        lastToken = tokens.get(1);
    }

    /**
     * A merge of an outstanding request; half the time a second compactor of the same request answers too, with an
     * output that re-uses one of the inputs' parts. Only the first may apply. Like persist's compactor, the client
     * deletes an output that was not applied, unless an attempt of its call failed with a storage error (then "not
     * applied" may describe a retry of a result that did apply, and the output is left to the leaked-blob sweep): a
     * "not applied" answered for a result that did apply loses a blob that state refers to.
     */
    private void merge(String what) {
        List<FueledMergeReq> reqs = call(what + ": list merges", service -> service.listMergeRequests(shard));
        if (reqs.isEmpty()) {
            return;
        }
        FueledMergeReq req = reqs.get(random.nextInt(reqs.size()));
        long len = req.inputs().stream().mapToLong(HollowBatch::len).sum();
        List<HollowBatch> outputs = new ArrayList<>();
        outputs.add(writtenBatch(writer, req.desc(), len));
        Optional<BatchPart> inputPart = req.inputs().stream().flatMap(b -> b.parts().stream()).findFirst();
        if (random.nextBoolean() && inputPart.isPresent()) {
            outputs.add(random.nextInt(outputs.size() + 1),
                    HollowBatch.of(req.desc(), len, List.of(inputPart.get())));
        }
        boolean anyApplied = false;
        for (HollowBatch output : outputs) {
            Answer<ShardApi.MergeApplied> answer = attempt(what + ": merge " + req.id(),
                    service -> service.applyMergeRes(shard, req.id(), new FueledMergeRes(output, req.inputs())));
            assertThat(answer.error()).as("%s: merge [%s]", what, context).isNull();
            boolean applied = answer.value().result().applied();
            if (anyApplied) {
                assertThat(applied).as("%s: a stale result applied [%s]", what, context).isFalse();
            }
            anyApplied |= applied;
            if (applied) {
                continue;
            }
            for (BatchPart part : output.parts()) {
                PartialBatchKey key = ((BatchPart.Hollow) part).key();
                if (inputPart.map(p -> ((BatchPart.Hollow) p).key().equals(key)).orElse(false)) {
                    continue; // an input's part: not the compactor's to delete
                }
                if (answer.afterStorageFailure()) {
                    possiblyLeaked.add(key);
                } else {
                    join(blob.delete(key.complete(shard)), "deleting the unapplied output " + key);
                }
            }
        }
    }

    /** A downgrade; a reader reading a snapshot holds the snapshot's seqno. */
    private void downgrade(String what, LeasedReaderId id) {
        Frontier since = Frontier.of(random.nextLong(upper + 1));
        Optional<SeqNo> outstanding = Optional.ofNullable(reading.get(id)).map(ShardApi.Snapshot::seqno);
        call(what + ": downgrade " + id + " holding " + outstanding,
                service -> service.downgradeSince(shard, id, since, outstanding));
    }

    /**
     * Starts reading a snapshot, or finishes: then every part of the snapshot must still exist, however the shard
     * was merged, rolled up and collected meanwhile.
     */
    private void readSnapshot(String what, LeasedReaderId id) {
        ShardApi.Snapshot snapshot = reading.remove(id);
        if (snapshot != null) {
            List<String> missing = new ArrayList<>();
            for (HollowBatch batch : snapshot.batches()) {
                for (BatchPart part : batch.parts()) {
                    String key = ((BatchPart.Hollow) part).key().complete(shard);
                    if (join(blob.get(key), "reading " + key).isEmpty()) {
                        missing.add(key);
                    }
                }
            }
            assertThat(missing).as("%s: parts of the snapshot at %s that reader %s read [%s]", what,
                    snapshot.seqno(), id, context).isEmpty();
            snapshotsRead++;
            return;
        }
        if (upper == 0) {
            return;
        }
        long asOf = random.nextLong(upper);
        Answer<ShardApi.Snapshot> answer = attempt(what + ": snapshot as of " + asOf,
                service -> service.snapshot(shard, asOf));
        if (answer.error() != null) {
            assertThat(answer.code()).as("%s [%s]", what, context).isEqualTo(ErrorCode.AS_OF_BEFORE_SINCE);
            return;
        }
        reading.put(id, answer.value());
    }

    /** A critical reader's compare-and-downgrade, its token always the one it holds: never a mismatch. */
    private void compareAndDowngrade(String what) {
        if (!criticalRegistered) {
            criticalSince = call(what + ": register critical", service -> service.registerCriticalReader(shard,
                    critical, "critical", "u64", criticalOpaque)).since();
            criticalRegistered = true;
        }
        Frontier since = Frontier.of(random.nextLong(upper + 1));
        long expected = criticalOpaque;
        ShardApi.CriticalDowngraded downgraded = call(what + ": compare-and-downgrade to " + since,
                service -> service.compareAndDowngradeSince(shard, critical, expected, expected + 1, since));
        criticalSince = criticalSince.join(since);
        assertThat(downgraded.opaque()).as("%s: opaque [%s]", what, context).isEqualTo(expected + 1);
        assertThat(downgraded.since()).as("%s: since [%s]", what, context).isEqualTo(criticalSince);
        criticalOpaque = expected + 1;
    }

    /**
     * A leaked-blob sweep at the least grace allowed, on a stable replica, racing a rollup and an append; then a
     * check that every part of a snapshot being read is still there is left to {@link #readSnapshot}.
     */
    private void sweepRacingRollupsAndAnAppend(String what) {
        GcFaultsTest.Replica replica = stable.get(random.nextInt(stable.size()));
        CompletableFuture<ShardApi.LeakedBlobsSwept> sweep = replica.service()
                .sweepLeakedBlobs(shard, OptionalLong.of(minGrace.toMillis())).toCompletableFuture();
        call(what + ": write rollup during a sweep", service -> service.writeRollup(shard));
        append(what + ": during a sweep");
        try {
            sweepsDeleted += join(sweep, what + ": sweep").deleted();
        } catch (CompletionException e) {
            if (!storageFailure(e.getCause())) {
                throw new AssertionError(what + ": sweep failed [" + context + "]: " + e.getCause(), e.getCause());
            }
        }
    }

    /**
     * A writer whose lease is the shortest allowed appends, and then the clock jumps past its lease: the next
     * commit expires it. (A shorter lease is refused: it could lapse between an append and its retry.)
     */
    private void lapsingWriter(String what) {
        WriterId lapsing = WriterId.random();
        long min = CFG.writerLeaseMinMs();
        refused(what + ": register with a lease below the minimum", ErrorCode.INVALID_REQUEST,
                service -> service.registerWriter(shard, lapsing, "lapsing", OptionalLong.of(min - 1)));
        HollowBatch batch = writtenBatch(lapsing, desc(upper, upper + 1), 1);
        IdempotencyToken token = IdempotencyToken.random();
        ShardApi.Appended appended = call(what + ": append by a writer with the shortest lease",
                service -> service.compareAndAppend(shard, lapsing, token, batch, OptionalLong.of(min)));
        assertThat(appended.upper()).as("upper after %s [%s]", what, context).isEqualTo(Frontier.of(upper + 1));
        upper++;
        clock.jump(min + 1_000);
        lapses++;
    }

    /** The writer's last token sent again with another batch: refused, nothing changes. */
    private void reuseToken(String what) {
        IdempotencyToken token = lastToken;
        HollowBatch other = HollowBatch.of(desc(upper, upper + 1), 1, List.of(BatchPart.Hollow.of(
                new PartialBatchKey(WriterKey.of(writer), PartId.random()), 10)));
        refused(what + ": reuse " + token, ErrorCode.IDEMPOTENCY_TOKEN_REUSED,
                service -> service.compareAndAppend(shard, writer, token, other));
    }

    // ------------------------------------------------------------------------------------------- settle

    /**
     * With the faults stopped: drains the maintenance of the live replicas, runs GC, checks the snapshots still
     * being read, and checks the shard on raw storage: the invariants, the appends, and that every part in Blob is
     * referenced or possibly leaked.
     */
    ShardInvariants.Report settle() {
        // Mortal replicas still running die now: from here on only the others may change the shard.
        for (Chaos death : mortal.values()) {
            join(death.kill(), "the last storage calls of a mortal replica");
        }
        alive.removeAll(mortal.keySet());
        for (GcFaultsTest.Replica r : alive) {
            r.idle(shard);
        }
        ShardService first = alive.get(0).service();
        join(first.runGc(shard), "GC after the faults stopped [" + context + "]");
        for (GcFaultsTest.Replica r : alive) {
            r.idle(shard);
        }
        for (LeasedReaderId id : new ArrayList<>(reading.keySet())) {
            readSnapshot("settle", id);
        }
        State state = join(first.getState(shard));
        ShardInvariants.Report report = ShardInvariants.check(shard, consensus, blob, CFG, context, state);
        System.out.println(context + ": " + report + "; rollups in Blob that no live state refers to: "
                + report.unreferencedRollups() + "; deaths: " + deaths + "; snapshots read: " + snapshotsRead
                + "; lapses: " + lapses + "; abandoned uploads: " + abandonedUploads + "; swept: " + sweepsDeleted);
        for (GcFaultsTest.Replica r : alive) {
            assertThat(join(r.service().getState(shard))).as("replica [%s]", context).isEqualTo(state);
        }
        assertThat(state.upper()).as("upper after every acknowledged append [%s]", context)
                .isEqualTo(Frontier.of(upper));
        assertThat(state.collections().trace().batches().stream().mapToLong(HollowBatch::len).sum())
                .as("updates: each acknowledged append once [%s]", context).isEqualTo(upper);
        assertThat(report.referencedParts()).as("parts referenced [%s]", context).isSubsetOf(written);
        Set<PartialBatchKey> uncollected = report.unreferencedParts();
        uncollected.removeAll(possiblyLeaked);
        assertThat(uncollected).as("parts no live state refers to, left in Blob after GC [%s]", context)
                .isEmpty();
        if (criticalRegistered) {
            assertThat(state.collections().criticalReaders().get(critical).opaque())
                    .as("the critical reader's opaque [%s]", context).isEqualTo(criticalOpaque);
        }
        return report;
    }
}
