package io.stateversions.core;

import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.batches;
import static io.stateversions.testing.TestStates.desc;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.trace;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TraceTest {

    /** Pushes batches of these update counts, 10 wide each, and returns the last push. */
    private static Trace.Pushed pushAll(long... lens) {
        Trace trace = Trace.EMPTY;
        Trace.Pushed pushed = null;
        for (int i = 0; i < lens.length; i++) {
            pushed = trace.push(batch(10L * i, 10L * (i + 1), lens[i]));
            trace = pushed.trace();
        }
        return pushed;
    }

    private static List<Long> lens(List<HollowBatch> batches) {
        return batches.stream().map(HollowBatch::len).toList();
    }

    // ---------------------------------------------------------------------------------------- structure

    @Test
    void anEmptyTraceHasUpperZero() {
        assertThat(Trace.EMPTY.upper()).isEqualTo(Frontier.MIN);
        assertThat(Trace.EMPTY.since()).isEqualTo(Frontier.MIN);
        assertThat(trace(1, 2).upper()).isEqualTo(Frontier.of(20));
    }

    @Test
    void batchesMustBeContiguousFromZeroWithNonEmptyRanges() {
        assertThatThrownBy(() -> new Trace(Frontier.MIN, List.of(batch(5, 10, 1))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("contiguous");
        assertThatThrownBy(() -> new Trace(Frontier.MIN, List.of(batch(0, 5, 1), batch(6, 10, 1))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("{6}");
        assertThatThrownBy(() -> new Trace(Frontier.MIN, List.of(batch(0, 0, 0))))
                .isInstanceOf(IllegalStateException.class);
        assertThat(new Trace(Frontier.MIN, List.of(batch(0, 5, 1),
                HollowBatch.empty(new Description(Frontier.of(5), Frontier.EMPTY, Frontier.MIN)))).upper())
                .isEqualTo(Frontier.EMPTY);
    }

    @Test
    void pushRequiresTheBatchToStartAtTheUpper() {
        Trace trace = trace(1);

        assertThatThrownBy(() -> trace.push(batch(11, 20, 1)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("{10}");
        assertThatThrownBy(() -> trace.push(batch(0, 20, 1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> trace.push(HollowBatch.empty(desc(10, 10))))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(trace.push(batch(10, 25, 1)).trace().upper()).isEqualTo(Frontier.of(25));
    }

    @Test
    void adjacentEmptyBatchesWithTheSameSinceCoalesce() {
        Trace.Pushed pushed = Trace.EMPTY.push(batch(0, 5, 0)).trace().push(batch(5, 10, 0));

        assertThat(pushed.trace().batches()).containsExactly(batch(0, 10, 0));
        assertThat(pushed.mergeRequests()).isEmpty();
    }

    @Test
    void emptyBatchesWithDifferentSincesStaySeparate() {
        HollowBatch second = HollowBatch.empty(new Description(Frontier.of(5), Frontier.of(10), Frontier.of(3)));

        Trace.Pushed pushed = Trace.EMPTY.push(batch(0, 5, 0)).trace().push(second);

        assertThat(pushed.trace().batches()).containsExactly(batch(0, 5, 0), second);
        assertThat(pushed.mergeRequests()).isEmpty();
    }

    @Test
    void anEmptyBatchAfterANonEmptyOneIsAppended() {
        Trace.Pushed pushed = trace(3).push(batch(10, 20, 0));

        assertThat(pushed.trace().batches()).hasSize(2);
    }

    // ---------------------------------------------------------------------------------------- merge policy

    private static final int CHUNK = Trace.MAX_MERGE_INPUTS;

    /** {@code count} copies of {@code len}. */
    private static long[] repeat(int count, long len) {
        long[] lens = new long[count];
        java.util.Arrays.fill(lens, len);
        return lens;
    }

    private static long[] concat(long[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToLong(java.util.Arrays::stream).toArray();
    }

    @Test
    void levelsAreLogBaseEightOfTheUpdates() {
        assertThat(Trace.level(0)).isZero();
        assertThat(Trace.level(1)).isZero();
        assertThat(Trace.level(7)).isZero();
        assertThat(Trace.level(8)).isEqualTo(1);
        assertThat(Trace.level(63)).isEqualTo(1);
        assertThat(Trace.level(64)).isEqualTo(2);
        assertThat(Trace.level(Long.MAX_VALUE)).isEqualTo(20);
    }

    @Test
    void thePushThatCompletesAChunkOfEqualBatchesFormsItsRequest() {
        Trace trace = Trace.EMPTY;
        for (int i = 0; i < CHUNK - 1; i++) {
            Trace.Pushed pushed = trace.push(batch(10L * i, 10L * (i + 1), 1));
            assertThat(pushed.mergeRequests()).as("push %s", i).isEmpty();
            trace = pushed.trace();
        }

        Trace.Pushed pushed = trace.push(batch(10L * (CHUNK - 1), 10L * CHUNK, 1));

        assertThat(pushed.mergeRequests()).singleElement().satisfies(req -> {
            assertThat(req.inputs()).isEqualTo(pushed.trace().batches());
            assertThat(req.desc()).isEqualTo(new Description(Frontier.MIN, Frontier.of(10L * CHUNK), Frontier.MIN));
            assertThat(req.id()).isEqualTo("0-" + 10L * CHUNK);
        });
        assertThat(pushed.trace().mergeRequests()).isEqualTo(pushed.mergeRequests());
        assertThat(pushed.trace().push(batch(10L * CHUNK, 10L * CHUNK + 10, 1)).mergeRequests())
                .as("the next push starts a new chunk").isEmpty();
    }

    @Test
    void aBatchOfAnotherLevelStartsANewChunk() {
        assertThat(pushAll(concat(new long[] {8}, repeat(CHUNK - 1, 1))).mergeRequests()).isEmpty();
        Trace.Pushed pushed = pushAll(concat(new long[] {8}, repeat(CHUNK, 1)));

        assertThat(pushed.mergeRequests()).singleElement()
                .satisfies(req -> assertThat(req.inputs()).isEqualTo(pushed.trace().batches().subList(1, CHUNK + 1)));
        assertThat(pushAll(concat(repeat(CHUNK - 1, 1), new long[] {8})).trace().mergeRequests())
                .as("a larger batch ends the run").isEmpty();
    }

    /** Chunks are cut from the start of a run, so a long run holds whole chunks and a rest at its end. */
    @Test
    void outstandingRequestsAreTheFullChunksOldestFirst() {
        Trace trace = trace(concat(repeat(CHUNK + 1, 1), repeat(CHUNK, 10), repeat(2, 1)));

        assertThat(trace.mergeRequests()).extracting(FueledMergeReq::inputs).containsExactly(
                trace.batches().subList(0, CHUNK), trace.batches().subList(CHUNK + 1, 2 * CHUNK + 1));
    }

    @Test
    void aRequestCarriesTheTraceSince() {
        Trace trace = new Trace(Frontier.of(7), batches(repeat(CHUNK - 1, 1)));

        assertThat(trace.push(batch(10L * (CHUNK - 1), 10L * CHUNK, 1)).mergeRequests()).singleElement()
                .satisfies(req -> assertThat(req.desc().since()).isEqualTo(Frontier.of(7)));
    }

    /** Empty batches with distinct sinces, which do not fold. */
    private static List<HollowBatch> emptyBatches(int count) {
        List<HollowBatch> empty = new java.util.ArrayList<>();
        for (int i = 0; i < count; i++) {
            empty.add(HollowBatch.empty(new Description(Frontier.of(10L * i), Frontier.of(10L * (i + 1)),
                    Frontier.of(i))));
        }
        return empty;
    }

    @Test
    void aChunkOfEmptyBatchesIsNoRequest() {
        Trace trace = new Trace(Frontier.MIN, emptyBatches(CHUNK - 1));

        Trace.Pushed pushed = trace.push(HollowBatch.empty(new Description(Frontier.of(10L * (CHUNK - 1)),
                Frontier.of(10L * CHUNK), Frontier.of(CHUNK))));

        assertThat(pushed.trace().batches()).hasSize(CHUNK);
        assertThat(pushed.mergeRequests()).isEmpty();
        assertThat(pushed.trace().mergeRequests()).isEmpty();
    }

    @Test
    void anEmptyBatchIsMergedWithNonEmptyOnes() {
        Trace trace = new Trace(Frontier.MIN, emptyBatches(CHUNK - 1));

        Trace.Pushed pushed = trace.push(batch(10L * (CHUNK - 1), 10L * CHUNK, 1));

        assertThat(pushed.mergeRequests()).singleElement()
                .satisfies(req -> assertThat(lens(req.inputs())).containsExactly(0L, 0L, 0L, 0L, 0L, 0L, 0L, 1L));
    }

    /** Folding an empty batch into the last input of an outstanding request would change the request under its compactor. */
    @Test
    void anEmptyBatchDoesNotFoldIntoTheLastInputOfARequest() {
        Trace.Pushed formed = pushAll(concat(repeat(CHUNK - 1, 1), new long[] {0}));
        assertThat(formed.mergeRequests()).hasSize(1);

        Trace.Pushed pushed = formed.trace().push(batch(10L * CHUNK, 10L * CHUNK + 10, 0));

        assertThat(pushed.trace().batches()).hasSize(CHUNK + 1);
        assertThat(pushed.trace().mergeRequests()).isEqualTo(formed.mergeRequests());
        assertThat(pushed.trace().push(batch(10L * CHUNK + 10, 10L * CHUNK + 20, 0)).trace().batches())
                .as("the next empty batch folds into the one after the chunk").hasSize(CHUNK + 1);
    }

    /** A merge output that completes a chunk of the run it joins forms that request: the carry of a counter. */
    @Test
    void aMergeOutputThatCompletesAChunkFormsItsRequest() {
        Trace trace = pushAll(concat(repeat(CHUNK - 1, 8), repeat(CHUNK, 1))).trace();
        FueledMergeReq ones = trace.mergeRequests().get(0);
        assertThat(lens(ones.inputs())).isEqualTo(List.of(1L, 1L, 1L, 1L, 1L, 1L, 1L, 1L));
        HollowBatch output = HollowBatch.of(ones.desc(), 8, List.of(part()));

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(output, ones.inputs()));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(merged.trace().batches()).hasSize(CHUNK);
        assertThat(merged.mergeRequests()).singleElement()
                .satisfies(req -> assertThat(req.inputs()).isEqualTo(merged.trace().batches()));
        assertThat(merged.trace().mergeRequests()).isEqualTo(merged.mergeRequests());
    }

    @Test
    void aMergeOutputThatStartsARunOfItsOwnFormsNothing() {
        Trace trace = trace(concat(repeat(CHUNK, 1), repeat(CHUNK, 1)));
        List<FueledMergeReq> before = trace.mergeRequests();
        assertThat(before).hasSize(2);
        HollowBatch output = HollowBatch.of(before.get(0).desc(), 8, List.of(part()));

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(output, before.get(0).inputs()));

        assertThat(merged.mergeRequests()).isEmpty();
        assertThat(merged.trace().mergeRequests()).as("the later chunk is untouched").containsExactly(before.get(1));
    }

    @Test
    void aMergeRequestNeedsTwoInputs() {
        assertThatThrownBy(() -> new FueledMergeReq(desc(0, 10), batches(1)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---------------------------------------------------------------------------------------- merge results

    private static HollowBatch output(long lower, long upper, long len) {
        return HollowBatch.of(desc(lower, upper), len, List.of(part()));
    }

    @Test
    void anOutputForExactlyTheInputsIsAppliedExact() {
        Trace trace = trace(5, 1, 1);
        HollowBatch out = output(10, 30, 2);

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(out, trace.batches().subList(1, 3)));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(merged.trace().batches()).containsExactly(trace.batches().get(0), out);
        assertThat(merged.trace().since()).isEqualTo(trace.since());
    }

    @Test
    void aStaleResultWhoseInputsWereAlreadyMergedIsNoMatchEvenOverTheSameTimes() {
        Trace trace = trace(5, 1, 1);
        List<HollowBatch> inputs = trace.batches().subList(1, 3);
        Trace compacted = trace.applyMergeRes(new FueledMergeRes(output(10, 30, 2), inputs)).trace();
        // The second compactor's output re-uses a part of an input that the first merge released.
        HollowBatch stale = HollowBatch.of(desc(10, 30), 2, List.of(inputs.get(0).parts().get(0)));

        Trace.Merged merged = compacted.applyMergeRes(new FueledMergeRes(stale, inputs));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(merged.trace()).isSameAs(compacted);
    }

    @Test
    void aRepeatedResultIsNoMatch() {
        Trace trace = trace(1, 1);
        FueledMergeRes res = new FueledMergeRes(output(0, 20, 2), trace.batches());
        Trace merged = trace.applyMergeRes(res).trace();

        assertThat(merged.applyMergeRes(res).result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
    }

    @Test
    void inputsThatDifferFromTheTraceInAnythingButTheirRangeAreNoMatch() {
        Trace trace = new Trace(Frontier.MIN, List.of(
                new HollowBatch(desc(0, 10), 4, List.of(part(), part()), List.of(1), List.of()),
                batch(10, 20, 1)));
        HollowBatch first = trace.batches().get(0);
        HollowBatch second = trace.batches().get(1);
        HollowBatch out = output(0, 20, 5);

        List<List<HollowBatch>> fabricated = List.of(
                List.of(batch(0, 10, 4), second), // other parts
                List.of(new HollowBatch(first.desc(), 4, first.parts(), List.of(), List.of()), second), // run splits
                List.of(new HollowBatch(first.desc(), 3, first.parts(), first.runSplits(), List.of()), second), // len
                List.of(first.withDesc(new Description(Frontier.MIN, Frontier.of(10), Frontier.of(1))), second),
                List.of(first), // does not span the output
                List.of(second, first)); // out of order
        for (List<HollowBatch> inputs : fabricated) {
            assertThat(trace.applyMergeRes(new FueledMergeRes(out, inputs)).result()).as("inputs %s", inputs)
                    .isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        }
        assertThat(trace.applyMergeRes(new FueledMergeRes(out, trace.batches())).result())
                .isEqualTo(ApplyMergeResult.APPLIED_EXACT);
    }

    @Test
    void anOutputThatReusesAnInputPartApplies() {
        Trace trace = trace(1, 1, 1);
        List<HollowBatch> inputs = trace.batches().subList(0, 2);
        HollowBatch out = HollowBatch.of(desc(0, 20), 2, List.of(inputs.get(0).parts().get(0), part()));

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(out, inputs));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(merged.trace().batches()).containsExactly(out, trace.batches().get(2));
    }

    @Test
    void anOutputNotAlignedWithTheBatchesIsNoMatch() {
        Trace trace = trace(1, 1, 1);
        List<HollowBatch> inputs = List.of(batch(5, 15, 1), batch(15, 20, 1));

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(output(5, 20, 1), inputs));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(merged.result().matched()).isFalse();
        assertThat(merged.trace()).isSameAs(trace);
    }

    @Test
    void inputsThatDoNotSpanTheOutputAreNoMatch() {
        Trace trace = trace(1, 1, 1);
        List<HollowBatch> gap = List.of(trace.batches().get(0), trace.batches().get(2));

        assertThat(trace.applyMergeRes(new FueledMergeRes(output(0, 30, 2), gap)).result())
                .isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(trace.applyMergeRes(new FueledMergeRes(output(0, 30, 2), List.of())).result())
                .isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(trace.applyMergeRes(new FueledMergeRes(output(0, 30, 2), trace.batches().subList(0, 2)))
                .result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
        assertThat(trace.applyMergeRes(new FueledMergeRes(output(30, 40, 1), List.of(batch(30, 40, 1))))
                .result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
    }

    @Test
    void anOutputCompactedBeyondTheSinceIsInvalidSince() {
        Trace trace = new Trace(Frontier.of(5), batches(1, 1));
        HollowBatch out = HollowBatch.of(new Description(Frontier.MIN, Frontier.of(20), Frontier.of(6)), 2,
                List.of(part()));

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(out, trace.batches()));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_INVALID_SINCE);
        assertThat(merged.trace()).isSameAs(trace);
        HollowBatch atSince = out.withDesc(new Description(Frontier.MIN, Frontier.of(20), Frontier.of(5)));
        assertThat(trace.applyMergeRes(new FueledMergeRes(atSince, trace.batches())).result())
                .isEqualTo(ApplyMergeResult.APPLIED_EXACT);
    }

    @Test
    void anOutputWithMoreUpdatesThanTheInputsIsTooManyUpdates() {
        Trace trace = trace(1, 1);

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(output(0, 20, 3), trace.batches()));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.NOT_APPLIED_TOO_MANY_UPDATES);
        assertThat(merged.result().matched()).isTrue();
        assertThat(merged.result().applied()).isFalse();
        assertThat(merged.trace()).isSameAs(trace);
    }

    @Test
    void inputsWhoseLensSumPastTheLargestTimestampStillTakeAnOutputOfFewerUpdates() {
        long half = Long.MAX_VALUE / 2 + 1; // two of them wrap a plain sum negative
        Trace trace = trace(half, half);

        Trace.Merged merged = trace.applyMergeRes(new FueledMergeRes(output(0, 20, 3), trace.batches()));

        assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
    }

    // ---------------------------------------------------------------------------------------- metrics

    @Test
    void spineMetricsSplitBatchesIntoCompactCompactingAndNoncompact() {
        HollowBatch twoRuns = new HollowBatch(desc(0, 10), 100, List.of(part(), part()), List.of(1), List.of());
        List<HollowBatch> batches = new java.util.ArrayList<>(List.of(twoRuns, batch(10, 20, 10)));
        for (int i = 0; i < CHUNK; i++) {
            batches.add(batch(20 + 10L * i, 30 + 10L * i, 1));
        }
        Trace trace = new Trace(Frontier.MIN, batches);

        assertThat(trace.spineMetrics()).isEqualTo(new Trace.SpineMetrics(1, CHUNK, 1));
        assertThat(Trace.EMPTY.spineMetrics()).isEqualTo(new Trace.SpineMetrics(0, 0, 0));
        assertThat(trace(0).spineMetrics()).isEqualTo(new Trace.SpineMetrics(1, 0, 0));
    }
}
