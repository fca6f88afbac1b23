package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.desc;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.inlinePart;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.rollup;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.testing.TestStates;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.Test;

class StateDiffTest {

    private static final LeasedReaderId READER = LeasedReaderId.random();

    private static LeasedReaderState reader(long heartbeatMs) {
        return new LeasedReaderState(SeqNo.of(1), Frontier.MIN, heartbeatMs, 1_000, DEBUG);
    }

    /** {@code from} and the same state one seqno later with {@code edit} applied. */
    private static StateDiff diff(State from, Consumer<StateCollections.Builder> edit) {
        return StateDiff.compute(from, at(with(from, edit), from.seqno().value() + 1));
    }

    /** Applying {@code diff} to {@code state} fails, and the message carries the diff. */
    private static AbstractThrowableAssert<?, ? extends Throwable> assertApplyFails(StateDiff diff, State state) {
        return assertThatThrownBy(() -> diff.apply(state))
                .isInstanceOf(DiffApplyException.class)
                .hasMessageContaining(diff.toString());
    }

    /** A hand-made diff from {@code from} with only these hostname, lastGcReq and batch diffs. */
    private static StateDiff handMade(State from, List<DiffValue<String>> hostname,
            List<DiffValue<SeqNo>> lastGcReq, List<DiffValue<HollowBatch>> batches, PartialRollupKey latest) {
        return new StateDiff(from.collections().version(), from.seqno(), from.seqno().next(), from.walltimeMs() + 1,
                latest, hostname, lastGcReq, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                List.of(), List.of(), batches, List.of());
    }

    // ---------------------------------------------------------------------------------------- compute

    @Test
    void aDiffSpansExactlyOneSeqnoOfOneShard() {
        State from = initial();

        assertThatThrownBy(() -> StateDiff.compute(from, at(from, 3))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> StateDiff.compute(from, at(initial(), 2)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("different shards");
    }

    @Test
    void aDiffCarriesTheNewWalltimeVersionAndLatestRollupKey() {
        State from = initial();
        HollowRollup r2 = rollup(2);
        State to = new State(from.shardId(), SeqNo.of(2), 5_000, "host-b", from.codecs(), withRollup(from, r2));

        StateDiff diff = StateDiff.compute(from, to);

        assertThat(diff.walltimeMs()).isEqualTo(5_000);
        assertThat(diff.applierVersion()).isEqualTo(Version.parse("0.2.0"));
        assertThat(diff.latestRollupKey()).isEqualTo(r2.key());
        assertThat(diff.hostname()).containsExactly(new DiffValue.Update<>(TestStates.HOST, "host-b"));
        assertThat(diff.rollups()).containsExactly(new FieldDiff<>(SeqNo.of(2), new DiffValue.Insert<>(r2)));
        assertThat(diff.apply(from)).isEqualTo(to);
    }

    private static StateCollections withRollup(State from, HollowRollup r2) {
        StateCollections.Builder b = from.collections().toBuilder().version(Version.parse("0.2.0"));
        b.mutableRollups().put(SeqNo.of(2), r2);
        return b.build();
    }

    @Test
    void mapsDiffAsInsertUpdateAndDelete() {
        LeasedReaderId kept = LeasedReaderId.random();
        LeasedReaderId gone = LeasedReaderId.random();
        LeasedReaderId added = LeasedReaderId.random();
        State from = with(initial(), c -> {
            c.mutableLeasedReaders().put(READER, reader(1));
            c.mutableLeasedReaders().put(kept, reader(1));
            c.mutableLeasedReaders().put(gone, reader(1));
        });

        StateDiff diff = diff(from, c -> {
            c.mutableLeasedReaders().put(READER, reader(2));
            c.mutableLeasedReaders().put(kept, reader(1));
            c.mutableLeasedReaders().remove(gone);
            c.mutableLeasedReaders().put(added, reader(3));
        });

        assertThat(diff.leasedReaders()).containsExactlyInAnyOrder(
                new FieldDiff<>(READER, new DiffValue.Update<>(reader(1), reader(2))),
                new FieldDiff<>(gone, new DiffValue.Delete<>(reader(1))),
                new FieldDiff<>(added, new DiffValue.Insert<>(reader(3))));
        assertThat(diff.isEmpty()).isFalse();
    }

    @Test
    void batchesDiffAsASetOfDeletesThenInserts() {
        State from = with(initial(), c -> c.trace(TestStates.trace(1, 1)));
        List<HollowBatch> old = from.collections().trace().batches();
        HollowBatch merged = batch(0, 20, 2);

        StateDiff diff = diff(from, c -> c.trace(new Trace(Frontier.MIN, List.of(merged))));

        assertThat(diff.batches()).containsExactly(new DiffValue.Delete<>(old.get(0)),
                new DiffValue.Delete<>(old.get(1)), new DiffValue.Insert<>(merged));
    }

    // ---------------------------------------------------------------------------------------- apply

    @Test
    void applyingToTheResultingSeqnoIsANoOp() {
        State from = initial();
        State to = at(with(from, c -> c.lastGcReq(SeqNo.of(1))), 2);
        StateDiff diff = StateDiff.compute(from, to);

        assertThat(diff.apply(to)).isSameAs(to);
    }

    @Test
    void applyingToAnotherSeqnoFails() {
        State from = at(initial(), 5);
        StateDiff diff = diff(from, c -> c.lastGcReq(SeqNo.of(1)));

        assertApplyFails(diff, at(from, 4)).hasMessageContaining("not at v5");
        assertApplyFails(diff, at(from, 7));
    }

    @Test
    void aSingleFieldMustMatchItsOldValue() {
        State from = initial();
        StateDiff diff = diff(from, c -> c.lastGcReq(SeqNo.of(1)));

        assertApplyFails(diff, with(from, c -> c.lastGcReq(SeqNo.of(3)))).hasMessageContaining("lastGcReq is v3");
    }

    @Test
    void aSingleFieldCanOnlyBeUpdated() {
        State from = initial();
        StateDiff diff = handMade(from, List.of(), List.of(new DiffValue.Insert<>(SeqNo.of(1))), List.of(),
                from.latestRollup().getValue().key());

        assertApplyFails(diff, from).hasMessageContaining("can only be updated");
    }

    @Test
    void theSinceMustMatchItsOldValue() {
        State from = initial();
        StateDiff diff = diff(from, c -> c.trace(c.trace().withSince(Frontier.of(5))));

        assertApplyFails(diff, with(from, c -> c.trace(c.trace().withSince(Frontier.of(2)))))
                .hasMessageContaining("since is {2}");
    }

    @Test
    void anOptionalFieldInsertRequiresItAbsent() {
        State from = initial();
        StateDiff diff = diff(from, c -> c.activeRollup(Optional.of(new ActiveMarker(SeqNo.of(2), 1))));

        assertApplyFails(diff, with(from, c -> c.activeRollup(Optional.of(new ActiveMarker(SeqNo.of(1), 1)))))
                .hasMessageContaining("already");
    }

    @Test
    void anOptionalFieldUpdateOrDeleteRequiresTheOldValue() {
        ActiveMarker marker = new ActiveMarker(SeqNo.of(1), 1);
        ActiveMarker other = new ActiveMarker(SeqNo.of(1), 2);
        State from = with(initial(), c -> c.activeGc(Optional.of(marker)));
        StateDiff update = diff(from, c -> c.activeGc(Optional.of(new ActiveMarker(SeqNo.of(2), 3))));
        StateDiff delete = diff(from, c -> c.activeGc(Optional.empty()));

        assertApplyFails(update, with(from, c -> c.activeGc(Optional.of(other)))).hasMessageContaining("activeGc");
        assertApplyFails(update, with(from, c -> c.activeGc(Optional.empty())));
        assertApplyFails(delete, with(from, c -> c.activeGc(Optional.of(other))));
        assertApplyFails(delete, with(from, c -> c.activeGc(Optional.empty())));
    }

    @Test
    void aMapInsertRequiresTheKeyAbsent() {
        State from = initial();
        StateDiff diff = diff(from, c -> c.mutableLeasedReaders().put(READER, reader(1)));

        assertApplyFails(diff, with(from, c -> c.mutableLeasedReaders().put(READER, reader(1))))
                .hasMessageContaining("leasedReaders[" + READER + "] already exists");
    }

    @Test
    void aMapUpdateRequiresTheOldValue() {
        State from = with(initial(), c -> c.mutableLeasedReaders().put(READER, reader(1)));
        StateDiff diff = diff(from, c -> c.mutableLeasedReaders().put(READER, reader(2)));

        assertApplyFails(diff, with(from, c -> c.mutableLeasedReaders().put(READER, reader(9))))
                .hasMessageContaining("leasedReaders[" + READER + "] is");
        assertApplyFails(diff, with(from, c -> c.mutableLeasedReaders().remove(READER)));
    }

    @Test
    void aMapDeleteRequiresTheOldValue() {
        State from = with(initial(), c -> c.mutableLeasedReaders().put(READER, reader(1)));
        StateDiff diff = diff(from, c -> c.mutableLeasedReaders().remove(READER));

        assertApplyFails(diff, with(from, c -> c.mutableLeasedReaders().put(READER, reader(9))));
        assertApplyFails(diff, with(from, c -> c.mutableLeasedReaders().remove(READER)));
    }

    @Test
    void aDeletedBatchMustBeInTheTrace() {
        State from = with(initial(), c -> c.trace(TestStates.trace(1, 1)));
        StateDiff diff = diff(from, c -> c.trace(new Trace(Frontier.MIN, List.of(batch(0, 20, 2)))));

        assertApplyFails(diff, with(from, c -> c.trace(new Trace(Frontier.MIN,
                List.of(batch(0, 10, 1), batch(10, 20, 1)))))).hasMessageContaining("not in the trace");
    }

    @Test
    void anInsertedBatchMustNotOverlapAKeptOne() {
        State from = initial();
        HollowBatch appended = batch(0, 10, 1);
        StateDiff diff = diff(from, c -> c.trace(new Trace(Frontier.MIN, List.of(appended))));

        assertApplyFails(diff, with(from, c -> c.trace(TestStates.trace(3)))).hasMessageContaining("overlaps");
    }

    @Test
    void theResultingTraceMustBeValid() {
        HollowBatch first = batch(0, 10, 1);
        State from = with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(first))));
        StateDiff diff = diff(from, c -> c.trace(c.trace().push(batch(10, 20, 1)).trace()));

        assertApplyFails(diff, with(from, c -> c.trace(Trace.EMPTY))).hasMessageContaining("trace is invalid");
    }

    @Test
    void batchesCanOnlyBeInsertedOrDeleted() {
        State from = with(initial(), c -> c.trace(TestStates.trace(1)));
        HollowBatch old = from.collections().trace().batches().get(0);
        StateDiff diff = handMade(from, List.of(), List.of(),
                List.of(new DiffValue.Update<>(old, batch(0, 10, 2))), from.latestRollup().getValue().key());

        assertApplyFails(diff, from).hasMessageContaining("inserted or deleted");
    }

    @Test
    void theLatestRollupKeyMustMatchTheResult() {
        State from = initial();
        StateDiff diff = handMade(from, List.of(), List.of(), List.of(), rollup(1).key());

        assertApplyFails(diff, from).hasMessageContaining("latest rollup");
    }

    @Test
    void aHostnameUpdateIsForceApplied() {
        State from = initial();
        StateDiff diff = handMade(from, List.of(new DiffValue.Update<>("somebody-else", "host-b")), List.of(),
                List.of(), from.latestRollup().getValue().key());
        long before = StateDiff.FORCE_APPLIED_HOSTNAME.sum();

        State applied = diff.apply(from);

        assertThat(applied.hostname()).isEqualTo("host-b");
        assertThat(StateDiff.FORCE_APPLIED_HOSTNAME.sum()).isGreaterThan(before);
    }

    @Test
    void aHostnameCanOnlyBeUpdated() {
        State from = initial();
        StateDiff diff = handMade(from, List.of(new DiffValue.Insert<>("host-b")), List.of(), List.of(),
                from.latestRollup().getValue().key());

        assertApplyFails(diff, from).hasMessageContaining("hostname can only be updated");
    }

    // ---------------------------------------------------------------------------------------- blob accounting

    @Test
    void partDeletesAreThePartsOfRemovedBatchesThatNoInsertedBatchKeeps() {
        BatchPart.Hollow p1 = part();
        BatchPart.Hollow p2 = part();
        BatchPart.Hollow p3 = part();
        BatchPart.Hollow p4 = part();
        HollowBatch b0 = HollowBatch.of(desc(0, 10), 2, List.of(p1, p2, inlinePart(4)));
        HollowBatch b1 = HollowBatch.of(desc(10, 20), 1, List.of(p3));
        State from = with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(b0, b1))));
        HollowBatch merged = HollowBatch.of(desc(0, 20), 3, List.of(p2, p4));

        StateDiff diff = diff(from, c -> c.trace(new Trace(Frontier.MIN, List.of(merged))));

        assertThat(diff.partDeletes()).containsExactlyInAnyOrder(p1.key(), p3.key());
        assertThat(diff.blobInserts()).containsExactly(new HollowBlobRef.Batch(merged));
    }

    @Test
    void blobInsertsAreInsertedBatchesAndRollupsInsertedOrUpdatedTo() {
        State initial = initial();
        HollowRollup r1 = initial.latestRollup().getValue();
        State from = with(initial, c -> c.mutableRollups().put(SeqNo.of(0), rollup(0)));
        HollowRollup r1b = new HollowRollup(r1.key(), OptionalLong.of(10));
        HollowRollup r2 = rollup(2);
        HollowBatch appended = batch(0, 10, 1);

        StateDiff diff = diff(from, c -> {
            c.mutableRollups().put(SeqNo.of(1), r1b);
            c.mutableRollups().put(SeqNo.of(2), r2);
            c.trace(new Trace(Frontier.MIN, List.of(appended)));
        });

        assertThat(diff.blobInserts()).containsExactly(new HollowBlobRef.Batch(appended),
                new HollowBlobRef.Rollup(r1b), new HollowBlobRef.Rollup(r2));
        assertThat(diff.partDeletes()).isEmpty();
        assertThat(diff.rollupDeletes()).containsExactly(r1);
    }

    @Test
    void rollupDeletesAreDeletedRollupsAndTheOldValuesOfUpdatedOnes() {
        HollowRollup r0 = rollup(0);
        State initial = initial();
        HollowRollup r1 = initial.latestRollup().getValue();
        State from = with(initial, c -> c.mutableRollups().put(SeqNo.of(0), r0));
        HollowRollup r1b = rollup(1);

        StateDiff diff = diff(from, c -> {
            c.mutableRollups().remove(SeqNo.of(0));
            c.mutableRollups().put(SeqNo.of(1), r1b);
        });

        assertThat(diff.rollupDeletes()).containsExactly(r0, r1);
        assertThat(diff.blobInserts()).containsExactly(new HollowBlobRef.Rollup(r1b));
    }
}
