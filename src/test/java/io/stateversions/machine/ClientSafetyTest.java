package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CFG;
import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.apiError;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.codeOf;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.codec.StateCodec;
import io.stateversions.core.ApplyMergeResult;
import io.stateversions.core.BatchPart;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.FaultyConsensus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * What the service enforces for network clients that persist's in-process handles enforce for their callers
 * (api.md 1.1): a compactor's result is matched by identity, one append per writer per version, writer leases that
 * outlive retries, reused idempotency tokens, compare-and-downgrade monotone across retries, a reader's outstanding
 * seqno, and the leaked-blob sweep's floor. Each test is a sequence a legal client may send; before these
 * guarantees each lost a referenced blob or turned "maybe committed" into "not committed". A backend's subclass
 * only supplies the storage; shards are fresh per test.
 */
abstract class ClientSafetyTest {

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    /** A replica over {@code consensus} (and the test's blob), with the tests' machine settings. */
    ShardService replica(Consensus consensus, PersistConfig cfg, MachineConfig config) {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(cfg, consensus, blob(), retries, StateVersionsMetrics.NONE,
                System::currentTimeMillis, "replica-a");
        Machines machines = new Machines(sv, config, System::currentTimeMillis, "replica-a",
                ShardMachine.CommitListener.NONE);
        return new ShardService(machines, new RollupWriter(sv), new GarbageCollector(sv, 4),
                new LeakedBlobSweeper(sv, 4), consensus, config, ShardServiceTest.MAINTENANCE_DEFAULTS,
                ShardServiceTest.watchesOf(sv, consensus));
    }

    ShardService replica(Consensus consensus) {
        return replica(consensus, CFG, config(256));
    }

    ShardId opened(ShardService service) {
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        return shard;
    }

    /** A batch of one part, written to Blob first, as a writer does before appending it. */
    HollowBatch uploaded(ShardId shard, long lower, long upper, WriterId writer) {
        HollowBatch b = batch(lower, upper, writer);
        join(blob().set(key(shard, b.parts().get(0)), new byte[] {1}));
        return b;
    }

    /**
     * Appends [0, 1), [1, 2), … one chunk of {@link Trace#MAX_MERGE_INPUTS} equal batches, each of one uploaded part:
     * the shard's first merge request merges them.
     */
    List<HollowBatch> appendChunk(ShardService service, ShardId shard, WriterId writer) {
        List<HollowBatch> appended = new ArrayList<>();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) {
            HollowBatch b = uploaded(shard, i, i + 1, writer);
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), b));
            appended.add(b);
        }
        return appended;
    }

    static String key(ShardId shard, BatchPart part) {
        return ((BatchPart.Hollow) part).key().complete(shard);
    }

    List<VersionedData> versions(ShardId shard) {
        return join(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
    }

    // ------------------------------------------------------------------------------------------- 1. merges

    /**
     * Two compactors take the same merge request; the second one's output re-uses a part of an input that the first
     * merge released. Matched by time range, the stale result would replace the first output and bring the released
     * part back into state, and GC would then delete a part that state refers to.
     */
    @Test
    void a_stale_merge_result_is_not_applied_and_gc_never_deletes_a_part_state_refers_to() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        List<HollowBatch> appended = appendChunk(service, shard, writer);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        HollowBatch first = uploaded(shard, 0, 2, writer).withDesc(req.desc());
        HollowBatch reusing = HollowBatch.of(req.desc(), 2, List.of(appended.get(0).parts().get(0)));

        ShardApi.MergeApplied applied = join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(first,
                req.inputs())));
        assertThat(applied.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        int before = versions(shard).size();
        ShardApi.MergeApplied stale = join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(reusing,
                req.inputs())));
        ShardApi.MergeApplied repeated = join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(first,
                req.inputs())));
        ShardApi.MergeApplied fabricated = join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(first,
                List.of(batch(0, 1, writer), batch(1, 2, writer)))));

        assertThat(List.of(stale.result(), repeated.result(), fabricated.result()))
                .containsOnly(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(versions(shard)).as("nothing committed").hasSize(before);
        State state = join(service.getState(shard));
        assertThat(state.collections().trace().batches()).containsExactly(first);

        join(service.writeRollup(shard));
        ShardApi.GcRun gc = join(service.runGc(shard));
        assertThat(gc.partsDeleted()).as("the merged inputs' parts").isEqualTo(Trace.MAX_MERGE_INPUTS);
        assertThat(join(blob().get(key(shard, first.parts().get(0))))).isPresent();
        ShardInvariants.check(shard, consensus(), blob(), CFG, "stale merge", join(service.getState(shard)));
    }

    /** A result that does apply may re-use a part of its own inputs (spec §5.4): GC keeps that part. */
    @Test
    void a_merge_output_that_reuses_an_input_part_applies_and_keeps_the_part() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        List<HollowBatch> appended = appendChunk(service, shard, writer);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        BatchPart reused = appended.get(0).parts().get(0);
        HollowBatch output = HollowBatch.of(req.desc(), 2, List.of(reused,
                uploaded(shard, 1, 2, writer).parts().get(0)));

        assertThat(join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(output, req.inputs()))).result())
                .isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        join(service.writeRollup(shard));
        assertThat(join(service.runGc(shard)).partsDeleted()).as("every input's part but the reused one")
                .isEqualTo(Trace.MAX_MERGE_INPUTS - 1);
        assertThat(join(blob().get(key(shard, reused)))).isPresent();
        assertThat(join(blob().get(key(shard, appended.get(1).parts().get(0))))).isEmpty();
    }

    /** The batch {@code [at, at + 1)} holding {@code part}, a part key the shard holds or held: a client's mistake. */
    static HollowBatch withPart(BatchPart part, long at) {
        return HollowBatch.of(new Description(Frontier.of(at), Frontier.of(at + 1), Frontier.MIN), 1, List.of(part));
    }

    /** Appends {@link #withPart}. */
    HollowBatch appendPartAgain(ShardService service, ShardId shard, WriterId writer, BatchPart part, long at) {
        HollowBatch again = withPart(part, at);
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), again));
        return again;
    }

    /** Applies {@code req} with an uploaded output of one part, then writes a rollup: a truncation point after it. */
    void mergeAndRollUp(ShardService service, ShardId shard, WriterId writer, FueledMergeReq req) {
        HollowBatch output = uploaded(shard, 0, 1, writer).withDesc(req.desc());
        assertThat(join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(output, req.inputs()))).result())
                .isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        join(service.writeRollup(shard));
    }

    /** Appends a chunk ({@link #appendChunk}), merges it and rolls up: returns a part the merge released. */
    BatchPart releasedByAMerge(ShardService service, ShardId shard, WriterId writer) {
        BatchPart part = appendChunk(service, shard, writer).get(0).parts().get(0);
        mergeAndRollUp(service, shard, writer, join(service.listMergeRequests(shard)).get(0));
        return part;
    }

    /**
     * A client appends a part key again after a merge released it (part keys should be fresh, but a client chooses
     * them). GC deletes a released part once it truncates the release, deciding so from the versions it has read: an
     * append of the key committed while GC deletes would be left pointing at a deleted blob, on any replica. So the
     * shard refuses the append from the release until GC has collected the part, on every replica (the released
     * parts are part of the state, and a replica that loads the shard from a rollup has them), and commits nothing.
     */
    @Test
    void a_part_key_released_by_a_merge_is_refused_on_every_replica_until_gc_has_collected_it() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        long n = Trace.MAX_MERGE_INPUTS;
        BatchPart reused = releasedByAMerge(service, shard, writer);
        State merged = join(service.getState(shard));
        SeqNo mergedAt = merged.collections().rollups().lastKey();
        assertThat(merged.collections().releasedParts()).hasSize((int) n).containsEntry(
                ((BatchPart.Hollow) reused).key(), mergedAt);
        int before = versions(shard).size();

        ApiException refused = apiError(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                withPart(reused, n)));
        ShardService other = replica(consensus()); // loads the shard from the rollup written after the merge
        ApiException refusedThere = apiError(other.compareAndAppend(shard, writer, IdempotencyToken.random(),
                withPart(reused, n)));

        assertThat(List.of(refused.code(), refusedThere.code())).containsOnly(ErrorCode.INVALID_REQUEST);
        assertThat(refused.getMessage()).contains(((BatchPart.Hollow) reused).key().toString())
                .contains("seqno " + mergedAt.value()).contains("Nothing was changed");
        assertThat(versions(shard)).as("nothing committed").hasSize(before);

        ShardApi.GcRun gc = join(service.runGc(shard));

        assertThat(gc.partsDeleted()).as("every released part").isEqualTo(n);
        assertThat(join(blob().get(key(shard, reused)))).isEmpty();
        assertThat(join(other.getState(shard)).collections().releasedParts()).as("collected: no longer held")
                .isEmpty();
        ShardInvariants.check(shard, consensus(), blob(), CFG, "released part refused",
                join(service.getState(shard)));
    }

    /**
     * The shard invariants catch what the refusal above prevents: a version, written around the service, whose new
     * batch refers to a part a merge released. The check names the part and the seqno of its release.
     */
    @Test
    void the_invariant_check_finds_a_version_that_refers_again_to_a_released_part() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        BatchPart released = releasedByAMerge(service, shard, WriterId.random());
        State state = join(service.getState(shard));
        SeqNo releasedAt = state.collections().releasedParts().get(((BatchPart.Hollow) released).key());
        ShardInvariants.check(shard, consensus(), blob(), CFG, "before the forged version", state);

        commitAroundTheService(state, b -> b.push(withPart(released, Trace.MAX_MERGE_INPUTS)));

        assertThatThrownBy(() -> ShardInvariants.check(shard, consensus(), blob(), CFG, "forged"))
                .isInstanceOf(ShardInvariants.Violation.class)
                .hasMessageContaining("refers to part " + ((BatchPart.Hollow) released).key())
                .hasMessageContaining("released at seqno " + releasedAt);
    }

    /** A released part recorded at or below the oldest rollup (which GC would have forgotten) is a violation too. */
    @Test
    void the_invariant_check_finds_a_released_part_recorded_at_or_below_the_oldest_rollup() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        releasedByAMerge(service, shard, WriterId.random());
        State state = join(service.getState(shard));
        SeqNo oldest = state.collections().rollups().firstKey();
        PartialBatchKey forged = ((BatchPart.Hollow) batch(0, 1, WriterId.random()).parts().get(0)).key();

        commitAroundTheService(state, b -> b.mutableReleasedParts().put(forged, oldest));

        assertThatThrownBy(() -> ShardInvariants.check(shard, consensus(), blob(), CFG, "forged"))
                .isInstanceOf(ShardInvariants.Violation.class)
                .hasMessageContaining("lists part " + forged + " as released at seqno " + oldest);
    }

    /** Commits the next version of {@code state} as {@code edit} makes it, straight to Consensus. */
    void commitAroundTheService(State state, Consumer<StateCollections.Builder> edit) {
        StateCollections.Builder b = state.collections().toBuilder();
        edit.accept(b);
        State forged = new State(state.shardId(), state.seqno().next(), state.walltimeMs() + 1, state.hostname(),
                state.codecs(), b.build());
        byte[] diff = new StateCodec(CFG).encodeDiff(StateDiff.compute(state, forged));
        assertThat(join(consensus().compareAndSet(state.shardId().toString(), Optional.of(state.seqno()),
                new VersionedData(forged.seqno(), diff)))).isEqualTo(CasResult.COMMITTED);
    }

    /**
     * A merge output may keep parts of its own inputs, but not bring back a part that an earlier merge released: it
     * is refused as an append would be, and commits nothing.
     */
    @Test
    void a_merge_output_naming_a_part_an_earlier_merge_released_is_invalid_request_and_changes_nothing() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        BatchPart released = releasedByAMerge(service, shard, writer);
        for (long i = Trace.MAX_MERGE_INPUTS; i < 2 * Trace.MAX_MERGE_INPUTS; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), uploaded(shard, i, i + 1, writer)));
        }
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        HollowBatch output = HollowBatch.of(req.desc(), 2, List.of(released));
        int before = versions(shard).size();

        ApiException refused = apiError(service.applyMergeRes(shard, req.id(), new FueledMergeRes(output,
                req.inputs())));

        assertThat(refused.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(refused.getMessage()).startsWith("merge output names blob part "
                + ((BatchPart.Hollow) released).key());
        assertThat(versions(shard)).as("nothing committed").hasSize(before);
        assertThat(join(service.getState(shard)).collections().trace().batches()).containsAll(req.inputs());
    }

    /**
     * The retry of an append that committed answers that it committed, even once a merge has released the parts it
     * named: the idempotency token is checked before the released parts.
     */
    @Test
    void the_retry_of_an_append_whose_parts_a_merge_released_since_answers_already_committed() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        List<HollowBatch> appended = new ArrayList<>();
        IdempotencyToken last = null;
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) {
            last = IdempotencyToken.random();
            appended.add(uploaded(shard, i, i + 1, writer));
            join(service.compareAndAppend(shard, writer, last, appended.get(i)));
        }
        mergeAndRollUp(service, shard, writer, join(service.listMergeRequests(shard)).get(0));

        ShardApi.Appended retried = join(service.compareAndAppend(shard, writer, last,
                appended.get(appended.size() - 1)));

        assertThat(retried.alreadyCommitted()).isTrue();
    }

    /**
     * A client appends a batch whose part key another batch of the trace holds. A merge then releases one of the two:
     * GC must neither delete the blob the other still refers to nor fail (a GC that failed on every run would never
     * truncate the shard again).
     */
    @Test
    void a_part_key_held_by_two_batches_is_kept_by_gc_while_either_refers_to_it() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        long n = Trace.MAX_MERGE_INPUTS;
        List<HollowBatch> appended = appendChunk(service, shard, writer);
        BatchPart shared = appended.get(0).parts().get(0);
        HollowBatch twin = appendPartAgain(service, shard, writer, shared, n);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        assertThat(req.inputs()).contains(appended.get(0)).doesNotContain(twin);
        mergeAndRollUp(service, shard, writer, req);

        ShardApi.GcRun gc = join(service.runGc(shard));

        assertThat(gc.truncatedBelow()).as("GC truncated").isNotEqualTo(SeqNo.MIN);
        assertThat(gc.partsDeleted()).as("the released parts but the shared one").isEqualTo(n - 1);
        assertThat(join(blob().get(key(shard, shared)))).as("still held by %s", twin.desc()).isPresent();
        ShardInvariants.check(shard, consensus(), blob(), CFG, "part key held twice",
                join(service.getState(shard)));
    }

    /**
     * A merge output may not hold more inline bytes than its inputs: appends are capped on the shard's inline bytes,
     * and a merge whose output brought more would lift the cap (every rollup and diff then carrying them).
     */
    @Test
    void a_merge_output_with_more_inline_bytes_than_its_inputs_is_invalid_request_and_changes_nothing() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        appendChunk(service, shard, writer);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        HollowBatch inline = HollowBatch.of(req.desc(), Trace.MAX_MERGE_INPUTS,
                List.of(BatchPart.Inline.of(io.stateversions.core.Bytes.wrap(new byte[3 << 20]))));
        int before = versions(shard).size();

        ApiException refused = apiError(service.applyMergeRes(shard, req.id(), new FueledMergeRes(inline,
                req.inputs())));

        assertThat(refused.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(refused.getMessage()).contains("inline").contains(Long.toString(3 << 20));
        assertThat(versions(shard)).as("nothing committed").hasSize(before);
        assertThat(join(service.getState(shard)).collections().trace().totals().inlineBytes()).isZero();
    }

    /** One blob part named twice in one batch is refused: GC deletes a released key once, for one part. */
    @Test
    void an_append_naming_a_part_twice_is_invalid_request_and_commits_nothing() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        BatchPart part = uploaded(shard, 0, 1, writer).parts().get(0);
        HollowBatch twice = HollowBatch.of(new Description(Frontier.of(0), Frontier.of(1), Frontier.MIN), 2,
                List.of(part, part));
        int before = versions(shard).size();

        assertThat(codeOf(service.compareAndAppend(shard, writer, IdempotencyToken.random(), twice)))
                .isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(versions(shard)).as("nothing committed").hasSize(before);
    }

    /**
     * A GC that ran (deleted blobs, truncated) and then failed to read the live range for its answer is answered
     * outcome_unknown (504), never storage_unavailable (503, "certainly not done"); the retry finds nothing to do.
     */
    @Test
    void a_gc_that_ran_but_could_not_read_its_answer_is_outcome_unknown_and_its_retry_finds_nothing_to_do() {
        java.util.concurrent.atomic.AtomicBoolean truncated = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
        Consensus flaky = new io.stateversions.testing.ForwardingConsensus(consensus()) {
            @Override
            public java.util.concurrent.CompletionStage<Long> truncate(String key, SeqNo seqno) {
                return delegate.truncate(key, seqno).thenApply(deleted -> {
                    truncated.set(true);
                    return deleted;
                });
            }

            @Override
            public java.util.concurrent.CompletionStage<Optional<VersionedData>> head(String key) {
                if (truncated.get() && failed.compareAndSet(false, true)) {
                    return CompletableFuture.failedFuture(new io.stateversions.location.Determinate("injected"));
                }
                return delegate.head(key);
            }
        };
        ShardService service = replica(flaky);
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        appendChunk(service, shard, writer);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(
                uploaded(shard, 0, Trace.MAX_MERGE_INPUTS, writer).withDesc(req.desc()), req.inputs())));
        join(service.writeRollup(shard));

        assertThat(codeOf(service.runGc(shard))).isEqualTo(ErrorCode.OUTCOME_UNKNOWN);
        assertThat(failed).as("the read after the truncation failed").isTrue();
        ShardApi.GcRun retry = join(service.runGc(shard));
        assertThat(retry.partsDeleted()).as("done by the first call").isZero();
        assertThat(versions(shard).get(0).seqno()).isEqualTo(retry.truncatedBelow());
    }

    /**
     * The compare-and-set of a merge lands but its reply is lost; the machine's re-run finds the inputs gone. "Not
     * applied" would make the compactor delete an output that state refers to.
     */
    @Test
    void a_merge_whose_reply_is_lost_is_answered_applied() {
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        ShardService service = replica(faulty);
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        appendChunk(service, shard, writer);
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        HollowBatch output = uploaded(shard, 0, 2, writer).withDesc(req.desc());
        faulty.loseReplyOfNextCas(shard.toString(), () -> {});

        ShardApi.MergeApplied applied = join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(output,
                req.inputs())));

        assertThat(faulty.disarm()).as("the lost reply was injected").isFalse();
        assertThat(applied.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(join(service.getState(shard)).collections().trace().batches()).containsExactly(output);
    }

    // ------------------------------------------------------------------------------------------ 2. appends

    /**
     * A client pipelines two appends of one writer; the compare-and-set that commits the first fails
     * indeterminately although it landed. Had both been in that transition, the re-run would find the second's
     * token recorded and answer the first an upper mismatch (and the client's retry of it a definite 409).
     */
    @Test
    void pipelined_appends_of_one_writer_are_never_in_one_version_so_a_lost_reply_answers_each_correctly() {
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        ShardService service = replica(faulty);
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        join(service.registerWriter(shard, writer, "pipelining", OptionalLong.empty()));
        String key = shard.toString();
        // Hold a first command's CaS until both appends are queued; the CaS after it (the appends') loses its reply.
        CompletableFuture<Void> gate = new CompletableFuture<>();
        faulty.beforeNextCas(key, () -> {
            faulty.loseReplyOfNextCas(key, () -> {});
            return gate;
        }, () -> {});
        CompletableFuture<SeqNo> holder = service.heartbeatWriter(shard, writer).toCompletableFuture();
        IdempotencyToken t1 = IdempotencyToken.random();
        IdempotencyToken t2 = IdempotencyToken.random();
        HollowBatch b1 = batch(0, 1, writer);
        HollowBatch b2 = batch(1, 2, writer);
        CompletableFuture<ShardApi.Appended> a1 = service.compareAndAppend(shard, writer, t1, b1)
                .toCompletableFuture();
        CompletableFuture<ShardApi.Appended> a2 = service.compareAndAppend(shard, writer, t2, b2)
                .toCompletableFuture();
        gate.complete(null);

        join(holder);
        assertThat(join(a1).upper()).isEqualTo(Frontier.of(1));
        assertThat(join(a2).upper()).isEqualTo(Frontier.of(2));
        assertThat(faulty.disarm()).as("the lost reply was injected").isFalse();
        assertThat(join(a2).seqno()).as("each append in a version of its own").isGreaterThan(join(a1).seqno());
        assertThat(join(service.getState(shard)).collections().trace().batches()).containsExactly(b1, b2);
    }

    // ------------------------------------------------------------------------------------------ 3. leases

    @Test
    void a_writer_lease_below_the_minimum_is_refused_at_registration_and_on_an_append_and_commits_nothing() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        long min = 3 * config(256).requestTimeout().toMillis(); // above the configured 60 s

        ApiException registering = apiError(service.registerWriter(shard, writer, "w", OptionalLong.of(min - 1)));
        ApiException appending = apiError(service.compareAndAppend(shard, writer, IdempotencyToken.random(),
                batch(0, 1, writer), OptionalLong.of(1_000)));

        for (ApiException refused : List.of(registering, appending)) {
            assertThat(refused.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
            assertThat(refused.members()).containsEntry("minLeaseDurationMs", min);
            assertThat(refused.detail()).contains(Long.toString(min));
        }
        assertThat(versions(shard)).hasSize(1);
        assertThat(join(service.registerWriter(shard, writer, "w", OptionalLong.of(min))).leaseDurationMs())
                .isEqualTo(min);
        ShardApi.Appended appended = join(service.compareAndAppend(shard, WriterId.random(),
                IdempotencyToken.random(), batch(0, 1, writer), OptionalLong.of(2 * min)));
        State state = join(service.getState(shard));
        assertThat(state.collections().writers().values()).extracting(w -> w.leaseDurationMs())
                .containsExactlyInAnyOrder(min, 2 * min);
        assertThat(appended.upper()).isEqualTo(Frontier.of(1));
    }

    @Test
    void a_default_writer_lease_below_the_minimum_fails_start_up() {
        PersistConfig shortDefault = CFG.toBuilder().writerLeaseDurationMs(120_000).build();
        assertThatThrownBy(() -> replica(consensus(), shortDefault, config(256)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("stateversions.state.writer-lease-duration")
                .hasMessageContaining("180000");
        assertThatThrownBy(() -> CFG.toBuilder().writerLeaseMinMs(120_000).writerLeaseDurationMs(60_000).build())
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------------------------------ 4. tokens

    @Test
    void a_token_reused_for_another_batch_is_idempotency_token_reused_and_changes_nothing() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch first = batch(0, 1, writer);
        join(service.compareAndAppend(shard, writer, token, first));
        int before = versions(shard).size();

        for (HollowBatch other : List.of(batch(1, 2, writer), batch(0, 1, writer))) {
            ApiException reused = apiError(service.compareAndAppend(shard, writer, token, other));
            assertThat(reused.code()).isEqualTo(ErrorCode.IDEMPOTENCY_TOKEN_REUSED);
            assertThat(reused.members()).containsEntry("writerId", writer.toString())
                    .containsEntry("idempotencyToken", token.toString());
        }
        assertThat(versions(shard)).hasSize(before);
        assertThat(join(service.compareAndAppend(shard, writer, token, first)).alreadyCommitted()).isTrue();
    }

    // -------------------------------------------------------------------------------------- 5. CaDS retries

    @Test
    void a_resent_compare_and_downgrade_that_applied_answers_as_it_did_without_a_new_version() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        CriticalReaderId reader = CriticalReaderId.random();
        join(service.registerCriticalReader(shard, reader, "c", "u64", 0));
        ShardApi.CriticalDowngraded first = join(service.compareAndDowngradeSince(shard, reader, 0, 1,
                Frontier.of(5)));
        int before = versions(shard).size();

        ShardApi.CriticalDowngraded resent = join(service.compareAndDowngradeSince(shard, reader, 0, 1,
                Frontier.of(5)));
        ShardApi.CriticalDowngraded older = join(service.compareAndDowngradeSince(shard, reader, 0, 1,
                Frontier.of(3)));

        assertThat(resent.since()).isEqualTo(first.since()).isEqualTo(Frontier.of(5));
        assertThat(resent.opaque()).isEqualTo(1);
        assertThat(older.since()).isEqualTo(Frontier.of(5));
        assertThat(versions(shard)).hasSize(before);
        // Asking for more than the reader holds is no retry: still a mismatch.
        assertThat(codeOf(service.compareAndDowngradeSince(shard, reader, 0, 1, Frontier.of(7))))
                .isEqualTo(ErrorCode.OPAQUE_MISMATCH);
        assertThat(codeOf(service.compareAndDowngradeSince(shard, reader, 0, 2, Frontier.of(5))))
                .isEqualTo(ErrorCode.OPAQUE_MISMATCH);
    }

    /** The machine itself retries after the lost reply; the retry must not report a mismatch either. */
    @Test
    void a_compare_and_downgrade_whose_reply_is_lost_succeeds() {
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        ShardService service = replica(faulty);
        ShardId shard = opened(service);
        CriticalReaderId reader = CriticalReaderId.random();
        join(service.registerCriticalReader(shard, reader, "c", "u64", 7));
        faulty.loseReplyOfNextCas(shard.toString(), () -> {});

        ShardApi.CriticalDowngraded downgraded = join(service.compareAndDowngradeSince(shard, reader, 7, 8,
                Frontier.of(4)));

        assertThat(faulty.disarm()).isFalse();
        assertThat(downgraded.since()).isEqualTo(Frontier.of(4));
        assertThat(downgraded.opaque()).isEqualTo(8);
    }

    // ---------------------------------------------------------------------------------- 6. outstanding seqno

    /**
     * A reader takes a snapshot, the snapshot's batches are merged away and rolled up, and the reader downgrades its
     * since while it still fetches the snapshot's parts: with the snapshot's seqno as its outstanding seqno, GC
     * keeps every part; without it, GC may delete them (and does here).
     */
    @Test
    void a_reader_that_downgrades_with_its_snapshots_seqno_keeps_every_part_of_the_snapshot_through_gc() {
        for (boolean outstanding : List.of(true, false)) {
            ShardService service = replica(consensus());
            ShardId shard = opened(service);
            WriterId writer = WriterId.random();
            appendChunk(service, shard, writer);
            ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(),
                    "reader", OptionalLong.empty()));
            // As of the last batch's lower: the snapshot is every batch of the chunk that the merge replaces.
            ShardApi.Snapshot snapshot = join(service.snapshot(shard, Trace.MAX_MERGE_INPUTS - 1));
            FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
            join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(uploaded(shard, 0, 2, writer)
                    .withDesc(req.desc()), req.inputs())));
            join(service.writeRollup(shard));

            ShardApi.SinceDowngraded downgraded = join(service.downgradeSince(shard, reader.readerId(),
                    Frontier.of(1), outstanding ? Optional.of(snapshot.seqno()) : Optional.empty()));
            join(service.writeRollup(shard));
            join(service.runGc(shard));

            State state = join(service.getState(shard));
            SeqNo hold = state.collections().leasedReaders().get(reader.readerId()).seqno();
            List<String> present = snapshot.batches().stream().flatMap(b -> b.parts().stream())
                    .filter(p -> join(blob().get(key(shard, p))).isPresent()).map(p -> key(shard, p)).toList();
            if (outstanding) {
                assertThat(hold).isEqualTo(snapshot.seqno());
                assertThat(present).as("parts of the snapshot at %s", snapshot.seqno()).hasSize(Trace.MAX_MERGE_INPUTS);
                assertThat(join(service.getVersion(shard, snapshot.seqno())).collections().trace().batches())
                        .containsExactlyElementsOf(snapshot.batches());
            } else {
                assertThat(hold).isEqualTo(downgraded.seqno());
                assertThat(present).as("parts of the snapshot, unprotected").isEmpty();
            }
        }
    }

    /**
     * A reader registers with its own id and reads the snapshot of its registration; its register request arrives a
     * second time (its HTTP library retried it, or a delayed duplicate) after the snapshot's batches were merged away.
     * The repeat must leave the reader's hold where it was: moved to the repeat's version, GC would delete the parts
     * the reader is still fetching.
     */
    @Test
    void a_repeated_register_of_a_leased_reader_keeps_its_hold_so_gc_keeps_the_parts_it_reads() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        appendChunk(service, shard, writer);
        LeasedReaderId id = LeasedReaderId.random();
        ShardApi.LeasedReaderRegistered first = join(service.registerLeasedReader(shard, Optional.of(id), "reader",
                OptionalLong.of(60_000)));
        ShardApi.Snapshot snapshot = join(service.snapshot(shard, Trace.MAX_MERGE_INPUTS - 1));
        FueledMergeReq req = join(service.listMergeRequests(shard)).get(0);
        join(service.applyMergeRes(shard, req.id(), new FueledMergeRes(uploaded(shard, 0, 2, writer)
                .withDesc(req.desc()), req.inputs())));
        join(service.writeRollup(shard));

        ShardApi.LeasedReaderRegistered repeated = join(service.registerLeasedReader(shard, Optional.of(id), "reader",
                OptionalLong.of(120_000)));
        join(service.writeRollup(shard));
        join(service.runGc(shard));

        assertThat(repeated.seqno()).as("the seqno the reader holds").isEqualTo(first.seqno());
        assertThat(repeated.since()).isEqualTo(first.since());
        assertThat(repeated.leaseDurationMs()).isEqualTo(120_000);
        LeasedReaderState held = join(service.getState(shard)).collections().leasedReaders().get(id);
        assertThat(held.seqno()).isEqualTo(first.seqno());
        assertThat(held.leaseDurationMs()).as("the repeat's lease").isEqualTo(120_000);
        assertThat(snapshot.batches().stream().flatMap(b -> b.parts().stream())
                .filter(p -> join(blob().get(key(shard, p))).isEmpty()).map(p -> key(shard, p)).toList())
                .as("parts of the snapshot at %s deleted", snapshot.seqno()).isEmpty();
        ShardInvariants.check(shard, consensus(), blob(), CFG, "repeated register", join(service.getState(shard)));
    }

    // ---------------------------------------------------------------------------------------- handle limit

    /**
     * A client that registers handles and never expires them (a reader per query, a writer per task) would grow the
     * shard's state, every rollup and every replica's copy without bound: past {@code maxHandles} a new handle is
     * {@code too_many_handles} and commits nothing, while the handles the shard holds keep working, and room is made
     * by expiring handles or by leases that lapse.
     */
    @Test
    void a_handle_beyond_the_shards_limit_is_too_many_handles_and_commits_nothing() {
        ShardService service = replica(consensus(), CFG.withMaxHandles(3), config(256));
        ShardId shard = opened(service);
        WriterId writer = WriterId.random();
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), uploaded(shard, 0, 1, writer)));
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(), "r",
                OptionalLong.empty()));
        join(service.registerCriticalReader(shard, CriticalReaderId.random(), "c", "u64", 0));
        int versions = versions(shard).size();

        ApiException leased = apiError(service.registerLeasedReader(shard, Optional.empty(), "r", OptionalLong.empty()));
        ApiException critical = apiError(service.registerCriticalReader(shard, CriticalReaderId.random(), "c", "u64",
                0));
        WriterId other = WriterId.random();
        ApiException writerRegistered = apiError(service.registerWriter(shard, other, "w", OptionalLong.empty()));
        ApiException appended = apiError(service.compareAndAppend(shard, other, IdempotencyToken.random(),
                uploaded(shard, 1, 2, other)));

        for (ApiException e : List.of(leased, critical, writerRegistered, appended)) {
            assertThat(e.code()).isEqualTo(ErrorCode.TOO_MANY_HANDLES);
            assertThat(e.members()).containsEntry("handles", 3).containsEntry("maxHandles", 3);
        }
        assertThat(versions(shard)).as("nothing committed").hasSize(versions);
        // The handles it holds keep working, a repeated registration included.
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), uploaded(shard, 1, 2, writer)));
        join(service.registerLeasedReader(shard, Optional.of(reader.readerId()), "r", OptionalLong.empty()));
        join(service.heartbeatLeasedReader(shard, reader.readerId()));

        join(service.expireLeasedReader(shard, reader.readerId()));
        join(service.compareAndAppend(shard, other, IdempotencyToken.random(), uploaded(shard, 2, 3, other)));
        assertThat(join(service.getState(shard)).collections().writers()).containsKeys(writer, other);
    }

    @Test
    void an_outstanding_seqno_below_the_readers_hold_is_refused_and_one_above_current_holds_current() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(), "r",
                OptionalLong.empty()));
        int before = versions(shard).size();

        ApiException below = apiError(service.downgradeSince(shard, reader.readerId(), Frontier.of(1),
                Optional.of(SeqNo.of(reader.seqno().value() - 1))));
        assertThat(below.code()).isEqualTo(ErrorCode.INVALID_REQUEST);
        assertThat(below.detail()).contains("outstandingSeqno").contains(Long.toString(reader.seqno().value()));
        assertThat(versions(shard)).hasSize(before);

        ShardApi.SinceDowngraded above = join(service.downgradeSince(shard, reader.readerId(), Frontier.of(1),
                Optional.of(SeqNo.of(1_000))));
        assertThat(join(service.getState(shard)).collections().leasedReaders().get(reader.readerId()).seqno())
                .isEqualTo(above.seqno());
        ShardApi.SinceDowngraded same = join(service.downgradeSince(shard, reader.readerId(), Frontier.of(1),
                Optional.of(above.seqno())));
        assertThat(join(service.getState(shard)).collections().leasedReaders().get(reader.readerId()).seqno())
                .isEqualTo(above.seqno()).isLessThan(same.seqno());
    }

    /** Persist's rule: a retried downgrade with the same outstanding seqno is not below the hold it set. */
    @Test
    void a_resent_downgrade_with_an_outstanding_seqno_is_accepted() {
        ShardService service = replica(consensus());
        ShardId shard = opened(service);
        ShardApi.LeasedReaderRegistered reader = join(service.registerLeasedReader(shard, Optional.empty(), "r",
                OptionalLong.empty()));
        Optional<SeqNo> hold = Optional.of(reader.seqno());
        join(service.downgradeSince(shard, reader.readerId(), Frontier.of(2), hold));
        assertThat(join(service.downgradeSince(shard, reader.readerId(), Frontier.of(2), hold)).since())
                .isEqualTo(Frontier.of(2));
    }
}
