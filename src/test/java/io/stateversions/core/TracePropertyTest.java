package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.inlinePart;
import static io.stateversions.testing.TestStates.part;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.statistics.Statistics;
import net.jqwik.api.Tuple;

/**
 * Properties of the trace under random appends and merges: what it keeps incrementally (totals, chunk positions)
 * equals a recomputation from its batches, the diffs built from recorded edits equal a full comparison and apply
 * on another replica, and the merge policy's chunks are stable across pushes and never overlap.
 */
class TracePropertyTest {

    /**
     * One operation: {@code count} appends of batches of one level ({@code level} 3: empty batches), or a merge of a
     * chosen request whose output keeps {@code quartersKept / 4} of the inputs' updates (consolidation: a smaller
     * output may fall a level and join the run after it).
     */
    record Op(boolean merge, int level, int count, int since, boolean inline, int pick, long quartersKept) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        // Runs of appends of one level, so that chunks fill and runs of different levels meet; half are merges.
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 1).map(i -> i == 0),
                Arbitraries.integers().between(0, 3), Arbitraries.integers().between(1, 12),
                Arbitraries.integers().between(0, 1), Arbitraries.integers().between(0, 3).map(i -> i == 0),
                Arbitraries.integers().between(0, 1_000), Arbitraries.longs().between(1, 4))
                .as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(60);
    }

    /** The {@code k}th batch of append {@code op}, at {@code [lower, lower + 1)}. */
    private static HollowBatch batch(Op op, int k, long lower) {
        Description desc = new Description(Frontier.of(lower), Frontier.of(lower + 1), Frontier.of(op.since()));
        if (op.level() == 3) {
            return HollowBatch.empty(desc);
        }
        long least = 1L << (3 * op.level());
        long len = least + (op.pick() * 31L + k) % (7 * least);
        BatchPart part = op.inline() ? inlinePart(1 + (int) (len % 50)) : part();
        return HollowBatch.of(desc, len, List.of(part));
    }

    /** A compactor's output for {@code req}: one part, with {@code quartersKept / 4} of the inputs' updates. */
    private static FueledMergeRes output(FueledMergeReq req, long quartersKept) {
        long len = req.inputs().stream().mapToLong(HollowBatch::len).sum();
        return new FueledMergeRes(HollowBatch.of(req.desc(), Math.max(1, len * quartersKept / 4), List.of(part())),
                req.inputs());
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void totalsAndChunksFollowEveryPushAndMerge(@ForAll("ops") List<Op> ops) {
        Trace trace = Trace.EMPTY;
        long upper = 0;
        int merges = 0;
        for (Op op : ops) {
            List<FueledMergeReq> outstanding = trace.mergeRequests();
            if (op.merge() && !outstanding.isEmpty()) {
                FueledMergeReq req = outstanding.get(op.pick() % outstanding.size());
                Trace.Merged merged = trace.applyMergeRes(output(req, op.quartersKept()));
                assertThat(merged.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
                List<FueledMergeReq> after = merged.trace().mergeRequests();
                assertThat(after).as("the requests the merge formed are outstanding")
                        .containsAll(merged.mergeRequests());
                Set<FueledMergeReq> kept = new HashSet<>(outstanding);
                kept.retainAll(after);
                assertThat(merged.mergeRequests()).as("only new requests are formed").noneMatch(kept::contains);
                trace = merged.trace();
            } else {
                for (int k = 0; k < op.count(); k++) {
                    trace = trace.push(batch(op, k, upper++)).trace();
                }
            }
            assertThat(trace.totals()).isEqualTo(TraceStructureTest.recomputed(trace));
            Trace rebuilt = new Trace(trace.since(), new ArrayList<>(trace.batches()));
            assertThat(trace).isEqualTo(rebuilt);
            // The upper is kept, not derived (equals does not compare it): it must be the one the batches give.
            assertThat(trace.upper()).isEqualTo(rebuilt.upper());
            assertThat(trace.mergeRequests()).as("chunks as a fresh build cuts them")
                    .isEqualTo(rebuilt.mergeRequests());
            merges += op.merge() && !outstanding.isEmpty() ? 1 : 0;
        }
        Statistics.label("merges").collect(merges == 0 ? "none" : merges < 5 ? "1-4" : "5+");
        Statistics.label("merges").coverage(checker -> checker.check("none").percentage(p -> p <= 40));
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void pushesNeverChangeAChunkThatExistsAndChunksNeverOverlap(@ForAll("ops") List<Op> ops) {
        Trace trace = Trace.EMPTY;
        long upper = 0;
        for (Op op : ops) {
            for (int k = 0; k < op.count(); k++) {
                List<FueledMergeReq> before = trace.mergeRequests();
                Trace.Pushed pushed = trace.push(batch(op, k, upper++));
                List<FueledMergeReq> after = pushed.trace().mergeRequests();

                List<FueledMergeReq> expected = new ArrayList<>(before);
                expected.addAll(pushed.mergeRequests());
                assertThat(after).as("the requests before the push and the one it formed").isEqualTo(expected);
                assertThat(pushed.mergeRequests()).hasSizeLessThanOrEqualTo(1);
                Frontier end = Frontier.MIN;
                for (FueledMergeReq req : after) {
                    assertThat(req.desc().lower()).as("requests in order, disjoint").isGreaterThanOrEqualTo(end);
                    assertThat(req.inputs()).hasSize(Trace.MAX_MERGE_INPUTS);
                    end = req.desc().upper();
                }
                trace = pushed.trace();
            }
        }
    }

    /**
     * Random batches of commands (appends of several writers, merges of outstanding requests, now and then a merge
     * that no longer matches) through {@link Transition#computeNextBatch}: the diff built from the recorded edits is
     * the full comparison's, and applying it (as every other replica does) gives the committed state.
     */
    @Property(tries = 150, edgeCases = EdgeCasesMode.NONE)
    void diffsFromRecordedEditsEqualTheFullComparisonAndApply(@ForAll("ops") List<Op> ops) {
        State state = initial();
        long upper = 0;
        PersistConfig cfg = config().withValidateTransitions(false);
        int i = 0;
        while (i < ops.size()) {
            List<Transition.Step<?>> steps = new ArrayList<>();
            int size = 1 + ops.get(i).pick() % 4;
            List<FueledMergeReq> outstanding = state.collections().trace().mergeRequests();
            for (int k = 0; k < size && i < ops.size(); k++, i++) {
                Op op = ops.get(i);
                if (op.merge() && !outstanding.isEmpty()) {
                    // Two steps may merge the same request: the second then does not match and breaks.
                    FueledMergeReq req = outstanding.get(op.pick() % outstanding.size());
                    steps.add(new Transition.Step<>(Command.MERGE_RES,
                            Commands.applyMergeRes(output(req, op.quartersKept()))));
                } else {
                    for (int n = 0; n < op.count(); n++) {
                        steps.add(new Transition.Step<>(Command.COMPARE_AND_APPEND, Commands.compareAndAppend(
                                batch(op, n, upper++), WriterId.random(), IdempotencyToken.random(), DEBUG, 1_000,
                                60_000, Long.MAX_VALUE)));
                    }
                }
            }
            Transition.Batch batch = Transition.computeNextBatch(state, cfg, 1_000, HOST, steps);
            if (batch.commit().isEmpty()) {
                continue;
            }
            Transition.Committable<Void> commit = batch.commit().get();
            assertThat(commit.diff()).isEqualTo(StateDiff.compute(state, commit.state()));
            assertThat(commit.diff().apply(state)).isEqualTo(commit.state());
            state = commit.state();
        }
    }
}
