package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.core.ApplyMergeResult;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.Consensus;
import io.stateversions.stateversions.EncodedRollup;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsIter;
import io.stateversions.stateversions.StateVersionsMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The leaked-blob sweep ({@link LeakedBlobSweeper}) on real storage semantics: it deletes exactly the blobs no
 * live version refers to once they are old enough, and nothing a live version, a reader's hold or a writer about to
 * link needs. A backend's subclass only supplies the storage; shards are fresh per test.
 */
abstract class LeakedBlobSweepTest {

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    private static final long DAY_MS = Duration.ofDays(1).toMillis();

    /** Run once when the next listing has read its keys, before it completes: "meanwhile, a writer...". */
    private final AtomicReference<Supplier<CompletionStage<?>>> afterNextList = new AtomicReference<>();

    /** One replica over the storage, with direct access to the sweeper (the service always sweeps at "now"). */
    record Replica(ShardService service, Machines machines, StateVersions stateVersions, LeakedBlobSweeper sweeper) {

        LeakedBlobSweeper.Result sweep(ShardId shard, Duration grace, long nowMs) {
            return join(machines.get(shard).thenCompose(machine -> sweeper.sweep(machine, grace, nowMs)));
        }
    }

    Replica replica() {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(ShardServiceTest.CFG, consensus(), new HookedBlob(blob()), retries,
                StateVersionsMetrics.NONE, System::currentTimeMillis, "replica-a");
        Machines machines = new Machines(sv, config(256), System::currentTimeMillis, "replica-a",
                ShardMachine.CommitListener.NONE);
        LeakedBlobSweeper sweeper = new LeakedBlobSweeper(sv, 2);
        ShardService service = new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4), sweeper,
                consensus(), config(256), ShardServiceTest.MAINTENANCE_DEFAULTS,
                ShardServiceTest.watchesOf(sv, consensus()));
        return new Replica(service, machines, sv, sweeper);
    }

    static String partKey(ShardId shard, HollowBatch batch) {
        return ((BatchPart.Hollow) batch.parts().get(0)).key().complete(shard);
    }

    /** A batch whose part is written to Blob, as a writer does before appending it. */
    HollowBatch uploaded(ShardId shard, long lower, long upper, WriterId writer) {
        HollowBatch b = batch(lower, upper, writer);
        join(blob().set(partKey(shard, b), new byte[] {1}));
        return b;
    }

    String plant(String key) {
        join(blob().set(key, new byte[] {7}));
        return key;
    }

    static String leakedPart(ShardId shard) {
        return new PartialBatchKey(WriterKey.of(WriterId.random()), PartId.random()).complete(shard);
    }

    static String leakedRollup(ShardId shard, SeqNo seqno) {
        return new PartialRollupKey(seqno, RollupId.random()).complete(shard);
    }

    TreeSet<String> listed(String prefix) {
        TreeSet<String> keys = new TreeSet<>();
        join(blob().list(prefix, metadata -> keys.add(metadata.key())));
        return keys;
    }

    /** Every blob that some live version of {@code shard} refers to exists. */
    void assertEveryLiveVersionIsWhole(Replica r, ShardId shard) {
        StateVersionsIter states = join(r.stateVersions().fetchAllLiveStates(shard)).orElseThrow();
        List<String> missing = new ArrayList<>();
        Consumer<HollowBlobRef> check = ref -> keys(shard, ref).forEach(key -> {
            if (join(blob().get(key)).isEmpty()) {
                missing.add(key);
            }
        });
        while (states.next(step -> step.referencedBlobs(check)).isPresent()) {
            // every live state
        }
        assertThat(missing).as("blobs that live versions of %s refer to", shard).isEmpty();
    }

    static List<String> keys(ShardId shard, HollowBlobRef ref) {
        if (ref instanceof HollowBlobRef.Rollup rollup) {
            return List.of(rollup.rollup().key().complete(shard));
        }
        return ((HollowBlobRef.Batch) ref).batch().parts().stream()
                .filter(p -> p instanceof BatchPart.Hollow)
                .map(p -> ((BatchPart.Hollow) p).key().complete(shard)).toList();
    }

    @Test
    void a_sweep_deletes_exactly_the_orphans_and_keeps_every_blob_a_live_version_refers_to() {
        Replica r = replica();
        ShardService service = r.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        // One chunk of the merge policy, which the merge request below merges.
        List<HollowBatch> chunk = new ArrayList<>();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) {
            HollowBatch batch = uploaded(shard, i, i + 1, writer);
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch));
            chunk.add(batch);
        }
        HollowBatch first = chunk.get(0);
        HollowBatch second = chunk.get(1);
        PartialRollupKey initialRollup = join(service.getState(shard)).collections().rollups().firstEntry().getValue()
                .key();
        assertThat(join(service.writeRollup(shard)).rollupKey()).isPresent();
        // The reader holds a version whose batches the merge below replaces: only older live versions name them.
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(), "hold",
                OptionalLong.empty()));
        List<FueledMergeReq> reqs = join(service.listMergeRequests(shard));
        assertThat(reqs).hasSize(1);
        HollowBatch merged = batch(0, 2, writer).withDesc(reqs.get(0).desc());
        join(blob().set(partKey(shard, merged), new byte[] {2}));
        assertThat(join(service.applyMergeRes(shard, reqs.get(0).id(), new FueledMergeRes(merged,
                reqs.get(0).inputs()))).result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        HollowBatch third = uploaded(shard, Trace.MAX_MERGE_INPUTS, Trace.MAX_MERGE_INPUTS + 1, writer);
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), third));
        SeqNo latestRollup = join(service.writeRollup(shard)).rollupKey().orElseThrow().seqno();
        ShardApi.GcRun gc = join(service.runGc(shard));
        assertThat(gc.truncatedBelow().value()).as("GC truncated up to the reader's hold").isGreaterThan(1)
                .isLessThanOrEqualTo(reader.seqno().value());
        State current = join(service.getState(shard));
        assertThat(current.collections().rollups()).as("GC removed the initial rollup from state")
                .doesNotContainKey(SeqNo.of(1));

        String leakedPart = plant(leakedPart(shard));
        String unlinkedRollup = plant(leakedRollup(shard, SeqNo.of(2))); // v2 never got a rollup
        String losingRollup = plant(leakedRollup(shard, latestRollup)); // lost the race to link at a linked seqno
        String notABlobKey = plant(shard + "/not-a-blob-key");
        String nonCanonical = plant(shard + "/v2/r" + UUID.randomUUID().toString().toUpperCase(Locale.ROOT));
        String otherShard = plant(leakedPart(ShardId.random()));
        TreeSet<String> before = listed(shard + "/");

        LeakedBlobSweeper.Result result = r.sweep(shard, Duration.ZERO, System.currentTimeMillis() + DAY_MS);

        // A rollup at or above the earliest live version is kept however old: it may still be linked.
        SeqNo earliest = gc.truncatedBelow();
        assertThat(SeqNo.of(2)).as("the unlinked rollup's seqno").isLessThan(earliest);
        TreeSet<String> orphans = new TreeSet<>(List.of(leakedPart, unlinkedRollup));
        assertThat(result.deletedKeys()).containsExactlyElementsOf(orphans);
        assertThat(result.seqno()).isEqualTo(current.seqno());
        assertThat(result.listed()).isEqualTo(before.size());
        assertThat(result.deleted()).isEqualTo(2);
        assertThat(result.unrecognized()).isEqualTo(2);
        assertThat(result.tooYoung()).as("the losing rollup, at or above earliest").isEqualTo(1);
        assertThat(result.referenced()).isEqualTo(before.size() - 5);
        TreeSet<String> expected = new TreeSet<>(before);
        expected.removeAll(orphans);
        assertThat(listed(shard + "/")).isEqualTo(expected).contains(losingRollup, notABlobKey, nonCanonical,
                partKey(shard, first), partKey(shard, second), partKey(shard, merged), partKey(shard, third),
                initialRollup.complete(shard));
        assertThat(join(blob().get(otherShard))).isPresent();
        assertEveryLiveVersionIsWhole(r, shard);
        assertThat(join(service.getVersion(shard, reader.seqno())).collections().trace().batches())
                .containsExactlyElementsOf(chunk);

        // Nothing is left to delete.
        LeakedBlobSweeper.Result again = r.sweep(shard, Duration.ZERO, System.currentTimeMillis() + DAY_MS);
        assertThat(again.deleted()).isZero();
        assertThat(again.deletedKeys()).isEmpty();
        assertThat(again.referenced()).isEqualTo(result.referenced());
        assertThat(listed(shard + "/")).isEqualTo(expected);

        // Once GC has moved earliest past it, the losing rollup can never be linked, and the sweep deletes it.
        join(service.expireLeasedReader(shard, reader.readerId()));
        SeqNo rolledUp = join(service.writeRollup(shard)).rollupKey().orElseThrow().seqno();
        assertThat(join(service.runGc(shard)).truncatedBelow()).isEqualTo(rolledUp).isGreaterThan(latestRollup);
        LeakedBlobSweeper.Result after = r.sweep(shard, Duration.ZERO, System.currentTimeMillis() + DAY_MS);
        assertThat(after.deletedKeys()).contains(losingRollup);
        assertThat(join(blob().get(losingRollup))).isEmpty();
        assertEveryLiveVersionIsWhole(r, shard);
    }

    @Test
    void blobs_younger_than_the_grace_survive_and_are_safe_once_linked() {
        Replica r = replica();
        ShardService service = r.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), uploaded(shard, 0, 1, writer)));
        // A writer uploaded a part but has not appended it yet; a rollup is written but not linked yet.
        HollowBatch pending = uploaded(shard, 1, 2, writer);
        ShardMachine machine = join(r.machines().get(shard));
        State state = join(machine.read());
        EncodedRollup rollup = join(r.stateVersions().writeRollupForState(state, RollupId.random())).orElseThrow();

        ShardApi.LeakedBlobsSwept young = join(service.sweepLeakedBlobs(shard, OptionalLong.empty()));
        assertThat(young.deleted()).isZero();
        assertThat(young.tooYoung()).isEqualTo(2);
        assertThat(young.seqno()).isEqualTo(state.seqno());
        assertThat(young.listed()).isEqualTo(young.referenced() + 2);

        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), pending));
        assertThat(join(machine.apply(Command.ADD_ROLLUP, Commands.addRollup(rollup.seqno(), rollup.toHollow())))
                .value().applied()).isTrue();
        LeakedBlobSweeper.Result linked = r.sweep(shard, Duration.ZERO, System.currentTimeMillis() + DAY_MS);
        assertThat(linked.deleted()).isZero();
        assertThat(linked.tooYoung()).isZero();
        assertThat(linked.referenced()).isEqualTo(young.referenced() + 2);
        assertThat(join(blob().get(partKey(shard, pending)))).isPresent();
        assertThat(join(blob().get(rollup.key().complete(shard)))).isPresent();
        assertEveryLiveVersionIsWhole(r, shard);
    }

    @Test
    void an_orphan_is_deleted_once_it_is_as_old_as_the_grace() {
        Replica r = replica();
        ShardId shard = ShardId.random();
        join(r.service().openShard(shard, CODECS));
        String orphan = plant(leakedPart(shard));
        long writtenMs = lastModifiedMs(orphan);

        assertThat(r.sweep(shard, Duration.ofHours(1), writtenMs + Duration.ofHours(1).toMillis() - 1).tooYoung())
                .isEqualTo(1);
        assertThat(join(blob().get(orphan))).isPresent();
        LeakedBlobSweeper.Result old = r.sweep(shard, Duration.ofHours(1), writtenMs + Duration.ofHours(1).toMillis());
        assertThat(old.deletedKeys()).containsExactly(orphan);
        assertThat(join(blob().get(orphan))).isEmpty();
    }

    long lastModifiedMs(String key) {
        List<BlobMetadata> listed = new ArrayList<>();
        join(blob().list(key, listed::add));
        assertThat(listed).hasSize(1);
        return listed.get(0).lastModifiedMs();
    }

    /**
     * Listing first: a part that is uploaded before the listing and appended before the state is read is seen as
     * referenced, even with no grace at all (had the state been read first, it would look leaked).
     */
    @Test
    void a_part_appended_while_the_sweep_lists_is_kept_even_without_grace() {
        Replica r = replica();
        ShardService service = r.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        WriterId writer = WriterId.random();
        HollowBatch racing = uploaded(shard, 0, 1, writer);
        afterNextList.set(() -> service.compareAndAppend(shard, writer, IdempotencyToken.random(), racing));

        LeakedBlobSweeper.Result result = r.sweep(shard, Duration.ZERO, System.currentTimeMillis() + DAY_MS);

        assertThat(afterNextList.get()).as("the append ran during the listing").isNull();
        assertThat(result.deleted()).isZero();
        assertThat(result.referenced()).isEqualTo(2); // the initial rollup and the part
        assertThat(join(blob().get(partKey(shard, racing)))).isPresent();
        assertThat(join(service.getState(shard)).collections().trace().batches()).containsExactly(racing);
    }

    @Test
    void unknown_shards_and_negative_graces_are_refused() {
        Replica r = replica();
        assertThat(ShardServiceTest.codeOf(r.service().sweepLeakedBlobs(ShardId.random(), OptionalLong.empty())))
                .isEqualTo(io.stateversions.api.ErrorCode.SHARD_NOT_FOUND);
        ShardId shard = ShardId.random();
        join(r.service().openShard(shard, CODECS));
        assertThat(ShardServiceTest.codeOf(r.service().sweepLeakedBlobs(shard, OptionalLong.of(-1))))
                .isEqualTo(io.stateversions.api.ErrorCode.INVALID_REQUEST);
    }

    /** The grace is all that protects a part uploaded and not yet appended: a call may not ask for less than the floor. */
    @Test
    void a_grace_below_the_minimum_is_refused_and_deletes_nothing() {
        Replica r = replica();
        ShardId shard = ShardId.random();
        join(r.service().openShard(shard, CODECS));
        String uploaded = plant(leakedPart(shard));
        long min = ShardServiceTest.MAINTENANCE_DEFAULTS.leakedBlobMinGrace().toMillis();

        io.stateversions.api.ApiException refused = ShardServiceTest.apiError(
                r.service().sweepLeakedBlobs(shard, OptionalLong.of(min - 1)));
        assertThat(refused.code()).isEqualTo(io.stateversions.api.ErrorCode.INVALID_REQUEST);
        assertThat(refused.members()).containsEntry("minGraceMs", min);
        assertThat(refused.detail()).contains(Long.toString(min));
        assertThat(ShardServiceTest.codeOf(r.service().sweepLeakedBlobs(shard, OptionalLong.of(0))))
                .isEqualTo(io.stateversions.api.ErrorCode.INVALID_REQUEST);
        assertThat(join(blob().get(uploaded))).isPresent();
        assertThat(join(r.service().sweepLeakedBlobs(shard, OptionalLong.of(min))).tooYoung()).isEqualTo(1);
        assertThat(join(blob().get(uploaded))).isPresent();
    }

    /** The storage's blob, running {@link #afterNextList} once between a listing and its completion. */
    private final class HookedBlob extends io.stateversions.testing.ForwardingBlob {

        HookedBlob(Blob delegate) {
            super(delegate);
        }

        @Override
        public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
            return delegate.list(prefix, consumer).thenCompose(listed -> {
                Supplier<CompletionStage<?>> hook = afterNextList.getAndSet(null);
                return hook == null ? CompletableFuture.<Void>completedFuture(null)
                        : hook.get().thenApply(ignored -> (Void) null);
            });
        }
    }
}
