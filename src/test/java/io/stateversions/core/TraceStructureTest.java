package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.desc;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.inlinePart;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The structural promises of the trace: an append records and diffs only what it changed, a diff applied on another
 * replica shares every batch it did not change, totals follow every edit, and a cooperative compactor keeps the
 * batch count logarithmic. (No timing: the benchmark measures time.)
 */
class TraceStructureTest {

    private static final int BIG = 100_000;
    private static final WriterId WRITER = WriterId.random();
    private static final long LEASE_MS = 60_000;
    private static final int CHUNK = Trace.MAX_MERGE_INPUTS;

    /** A state whose trace holds {@link #BIG} batches of one update each, {@code [i, i+1)}. */
    private static State big() {
        List<HollowBatch> batches = new ArrayList<>(BIG);
        BatchPart part = part(); // shared: the test is about the trace, not the parts
        for (int i = 0; i < BIG; i++) {
            batches.add(HollowBatch.of(desc(i, i + 1), 1, List.of(part)));
        }
        return with(initial(), c -> c.trace(new Trace(Frontier.MIN, batches)));
    }

    private static Transition.Work<AppendResult> append(HollowBatch batch) {
        return Commands.compareAndAppend(batch, WRITER, IdempotencyToken.random(), DEBUG, 1_000, LEASE_MS,
                Long.MAX_VALUE);
    }

    private static <R> Transition.Committable<R> commit(State prev, Command cmd, Transition.Work<R> work) {
        // Validation off: it applies the diff and compares whole states, which is the point of other tests.
        Transition<R> next = Transition.computeNext(prev, config().withValidateTransitions(false), 1_000, HOST, cmd,
                work);
        assertThat(next).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<R>) next;
    }

    @Test
    void anAppendToATraceOf100000BatchesRecordsAndDiffsExactlyItsBatch() {
        State prev = big();
        HollowBatch appended = batch(BIG, BIG + 1, 1);

        StateCollections.Builder b = prev.collections().toBuilder();
        append(appended).apply(prev.seqno().next(), b);
        assertThat(b.batchEdits().toDiff(prev.collections().trace(), b.trace()))
                .containsExactly(new DiffValue.Insert<>(appended));

        Transition.Committable<AppendResult> next = commit(prev, Command.COMPARE_AND_APPEND, append(appended));
        assertThat(next.diff().batches()).containsExactly(new DiffValue.Insert<>(appended));
        assertThat(next.diff().batches()).isEqualTo(StateDiff.compute(prev, next.state()).batches());
        Trace trace = next.state().collections().trace();
        assertThat(trace.batches()).hasSize(BIG + 1);
        assertThat(trace.totals()).isEqualTo(recomputed(trace));
    }

    @Test
    void aDiffAppliedToA100000BatchTraceSharesEveryBatchItDidNotChange() {
        State prev = big();
        Trace before = prev.collections().trace();
        int first = BIG / 2 - 3; // a chunk that starts mid-way: the chunk positions after it shift
        FueledMergeRes res = new FueledMergeRes(HollowBatch.of(new Description(Frontier.of(first),
                Frontier.of(first + CHUNK), Frontier.MIN), CHUNK, List.of(part())),
                before.batches().subList(first, first + CHUNK));
        Transition.Committable<ApplyMergeResult> merged = commit(prev, Command.MERGE_RES, Commands.applyMergeRes(res));
        assertThat(merged.diff().batches()).hasSize(CHUNK + 1);

        State applied = merged.diff().apply(prev);

        assertThat(applied).isEqualTo(merged.state());
        List<HollowBatch> after = applied.collections().trace().batches();
        assertThat(after).hasSize(BIG - CHUNK + 1);
        for (int i = 0; i < BIG; i++) {
            int at = i < first ? i : i >= first + CHUNK ? i - CHUNK + 1 : -1;
            if (at >= 0 && after.get(at) != before.batches().get(i)) {
                throw new AssertionError("batch " + i + " is a copy after the diff: " + after.get(at));
            }
        }
        assertThat(applied.collections().trace().totals()).isEqualTo(recomputed(applied.collections().trace()));
        assertThat(applied.collections().trace().mergeRequests())
                .isEqualTo(new Trace(Frontier.MIN, after).mergeRequests());
    }

    @Test
    void inlineBackpressureCountsTheInlineBytesAlreadyInTheTrace() {
        HollowBatch inline = HollowBatch.of(desc(0, 1), 1, List.of(inlinePart(600)));
        State prev = with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(inline))));
        assertThat(prev.collections().trace().totals().inlineBytes()).isEqualTo(inline.inlineBytes());
        HollowBatch next = HollowBatch.of(desc(1, 2), 1, List.of(inlinePart(600)));

        Transition<AppendResult> refused = Transition.computeNext(prev, config(), 1_000, HOST,
                Command.COMPARE_AND_APPEND, Commands.compareAndAppend(next, WRITER, IdempotencyToken.random(), DEBUG,
                        1_000, LEASE_MS, inline.inlineBytes() + next.inlineBytes()));
        Transition<AppendResult> taken = Transition.computeNext(prev, config(), 1_000, HOST,
                Command.COMPARE_AND_APPEND, Commands.compareAndAppend(next, WRITER, IdempotencyToken.random(), DEBUG,
                        1_000, LEASE_MS, inline.inlineBytes() + next.inlineBytes() + 1));

        assertThat(refused.result()).isEqualTo(new AppendResult.InlineBackpressure());
        assertThat(taken.result()).isInstanceOf(AppendResult.Appended.class);
    }

    /** Every batch's parts and updates, summed from scratch. */
    static Trace.Totals recomputed(Trace trace) {
        Trace.Totals sum = Trace.Totals.ZERO;
        for (HollowBatch batch : trace.batches()) {
            sum = sum.plus(batch);
        }
        return sum;
    }

    // ----------------------------------------------------------------------------------- records of edits

    /** An empty batch at since {@code {0}}, which folds into an empty predecessor. */
    private static HollowBatch empty(long lower, long upper) {
        return HollowBatch.empty(desc(lower, upper));
    }

    private static Transition.Step<AppendResult> appendStep(HollowBatch batch) {
        return new Transition.Step<>(Command.COMPARE_AND_APPEND, Commands.compareAndAppend(batch, WriterId.random(),
                IdempotencyToken.random(), DEBUG, 1_000, LEASE_MS, Long.MAX_VALUE));
    }

    /**
     * In one batch of commands: an empty append, a step that appends and then throws, one that appends and then
     * breaks, and an empty append that folds into the first. The diff holds the folded batch only: the failed steps
     * left no edits, and the first batch, inserted and deleted within the transition, is in neither list.
     */
    @Test
    void aBatchOfStepsDiffsOnlyTheEditsOfTheStepsThatContinued() {
        HollowBatch first = batch(0, 10, 1);
        State prev = with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(first))));
        Transition.Step<Object> throwing = new Transition.Step<>(Command.COMPARE_AND_APPEND, (seqno, c) -> {
            c.push(batch(20, 30, 1));
            throw new IllegalStateException("boom");
        });
        Transition.Step<Object> breaking = new Transition.Step<>(Command.COMPARE_AND_APPEND, (seqno, c) -> {
            c.push(batch(20, 30, 1));
            return WorkResult.stop("no");
        });

        Transition.Batch batch = Transition.computeNextBatch(prev, config(), 1_000, HOST,
                List.of(appendStep(empty(10, 20)), throwing, breaking, appendStep(empty(20, 30))));

        State next = batch.commit().orElseThrow().state();
        assertThat(next.collections().trace().batches()).containsExactly(first, empty(10, 30));
        assertThat(batch.commit().get().diff().batches()).containsExactly(new DiffValue.Insert<>(empty(10, 30)));
        assertThat(batch.commit().get().diff()).isEqualTo(StateDiff.compute(prev, next));
    }

    /** A batch deleted and inserted again unchanged, or inserted and deleted again, is in neither list of the diff. */
    @Test
    void aBatchDeletedAndInsertedAgainIsNotInTheDiff() {
        HollowBatch kept = batch(0, 10, 1);
        BatchEdits edits = new BatchEdits();

        edits.delete(kept);
        edits.insert(kept);
        HollowBatch passing = batch(10, 20, 1);
        edits.insert(passing);
        edits.delete(passing);

        assertThat(edits.isEmpty()).isTrue();
    }

    @Test
    void replacingTheTraceFallsBackToComparingBothTraces() {
        State prev = with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(batch(0, 10, 1)))));
        StateCollections.Builder b = prev.collections().toBuilder();
        b.push(batch(10, 20, 1));
        b.trace(b.trace().withSince(Frontier.of(5)));
        assertThat(b.batchEdits()).as("a new since keeps the record").isNotNull();

        b.trace(new Trace(Frontier.of(5), List.of(batch(0, 20, 2))));

        assertThat(b.batchEdits()).as("other batches lose it").isNull();
        State closed = with(prev, c -> c.trace(new Trace(Frontier.EMPTY, List.of(batch(0, 10, 1),
                HollowBatch.empty(new Description(Frontier.of(10), Frontier.EMPTY, Frontier.MIN))))));
        Transition.Committable<BecomeTombstoneResult> next = commit(closed, Command.BECOME_TOMBSTONE,
                Commands.becomeTombstone());
        assertThat(next.diff().batches()).hasSize(3);
        assertThat(next.diff()).isEqualTo(StateDiff.compute(closed, next.state()));
    }

    // ----------------------------------------------------------------------------------- cooperative compaction

    /**
     * 10,000 appends of one update each, with a compactor that applies every request as it forms (the appends' and
     * the merges' own): the trace holds fewer than {@link Trace#MAX_MERGE_INPUTS} batches per level, and nothing is
     * left outstanding.
     */
    @Test
    void aCooperativeCompactorKeepsTheBatchCountLogarithmic() {
        Trace trace = Trace.EMPTY;
        int maxBatches = 0;
        int merges = 0;
        for (int i = 0; i < 10_000; i++) {
            Trace.Pushed pushed = trace.push(batch(i, i + 1, 1));
            trace = pushed.trace();
            List<FueledMergeReq> formed = new ArrayList<>(pushed.mergeRequests());
            while (!formed.isEmpty()) {
                FueledMergeReq req = formed.remove(0);
                long len = req.inputs().stream().mapToLong(HollowBatch::len).sum();
                Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(HollowBatch.of(req.desc(), len,
                        List.of(part())), req.inputs()));
                assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
                trace = merged.trace();
                formed.addAll(merged.mergeRequests());
                merges++;
            }
            assertThat(trace.mergeRequests()).as("outstanding after append %s", i).isEmpty();
            int levels = Trace.level(i + 1) + 1;
            assertThat(trace.batches().size()).as("batches after append %s", i)
                    .isLessThanOrEqualTo((CHUNK - 1) * levels);
            maxBatches = Math.max(maxBatches, trace.batches().size());
        }
        // 10,000 in base 8 is 23420: that many batches per level at the end, each merge 7 batches fewer.
        assertThat(lens(trace)).isEqualTo(List.of(4096L, 4096L, 512L, 512L, 512L, 64L, 64L, 64L, 64L, 8L, 8L));
        assertThat(merges).isEqualTo((10_000 - 11) / (CHUNK - 1));
        assertThat(maxBatches).isLessThanOrEqualTo((CHUNK - 1) * 5);
        assertThat(trace.totals().updates()).isEqualTo(10_000);
    }

    private static List<Long> lens(Trace trace) {
        return trace.batches().stream().map(HollowBatch::len).toList();
    }

    @Test
    void aMergeThatJoinsTheFollowingRunReChunksIt() {
        // 8 ones, then 8 batches of 8: merging the ones into a batch of 8 puts it first in the run of eights.
        long[] lens = new long[2 * CHUNK];
        for (int i = 0; i < CHUNK; i++) {
            lens[i] = 1;
            lens[CHUNK + i] = 8;
        }
        Trace trace = io.stateversions.testing.TestStates.trace(lens);
        List<FueledMergeReq> before = trace.mergeRequests();
        assertThat(before).hasSize(2);

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(HollowBatch.of(before.get(0).desc(), 8,
                List.of(part())), before.get(0).inputs()));

        List<FueledMergeReq> after = merged.trace().mergeRequests();
        assertThat(after).singleElement().satisfies(req -> assertThat(req.inputs())
                .isEqualTo(merged.trace().batches().subList(0, CHUNK)));
        assertThat(merged.mergeRequests()).isEqualTo(after);
        assertThat(after).isEqualTo(new Trace(Frontier.MIN, merged.trace().batches()).mergeRequests());
        assertThat(after).as("the old chunk of eights is gone").doesNotContain(before.get(1));
    }
}
