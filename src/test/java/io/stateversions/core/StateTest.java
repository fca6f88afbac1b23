package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.testing.TestStates;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class StateTest {

    private static LeasedReaderState reader(long seqno, Frontier since) {
        return new LeasedReaderState(SeqNo.of(seqno), since, 0, 1_000, DEBUG);
    }

    private static CriticalReaderState critical(Frontier since) {
        return new CriticalReaderState(since, 0, "u64", DEBUG);
    }

    private static WriterState writer() {
        return new WriterState(0, 1_000, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG);
    }

    /** since = upper = {} and no handles. */
    static State tombstone(long seqno) {
        State state = at(initial(), seqno);
        return with(state, c -> c.trace(new Trace(Frontier.EMPTY,
                List.of(HollowBatch.empty(new Description(Frontier.MIN, Frontier.EMPTY, Frontier.EMPTY))))));
    }

    // ---------------------------------------------------------------------------------------- derived

    @Test
    void theInitialStateIsEmptyWithOneRollup() {
        State state = initial();

        assertThat(state.seqno()).isEqualTo(SeqNo.of(1));
        assertThat(state.since()).isEqualTo(Frontier.MIN);
        assertThat(state.upper()).isEqualTo(Frontier.MIN);
        assertThat(state.collections().rollups()).containsOnlyKeys(SeqNo.of(1));
        assertThat(state.latestRollup().getValue().key().seqno()).isEqualTo(SeqNo.of(1));
    }

    @Test
    void seqnoSinceIsTheLeastLeasedReaderHoldOrTheSeqno() {
        State state = at(initial(), 10);
        assertThat(state.seqnoSince()).isEqualTo(SeqNo.of(10));
        assertThat(state.seqnosHeld()).isZero();

        State held = with(state, c -> {
            c.mutableLeasedReaders().put(LeasedReaderId.random(), reader(7, Frontier.MIN));
            c.mutableLeasedReaders().put(LeasedReaderId.random(), reader(4, Frontier.MIN));
        });
        assertThat(held.seqnoSince()).isEqualTo(SeqNo.of(4));
        assertThat(held.seqnosHeld()).isEqualTo(6);
    }

    @Test
    void seqnoSinceIgnoresCriticalReaders() {
        State state = with(at(initial(), 10),
                c -> c.mutableCriticalReaders().put(CriticalReaderId.random(), critical(Frontier.MIN)));

        assertThat(state.seqnoSince()).isEqualTo(SeqNo.of(10));
    }

    @Test
    void aTombstoneIsClosedWithoutHandles() {
        State tombstone = tombstone(5);
        assertThat(tombstone.isTombstone()).isTrue();
        assertThat(tombstone.isFinalized()).isTrue();

        assertThat(with(tombstone, c -> c.mutableWriters().put(WriterId.random(), writer())).isTombstone())
                .isFalse();
        assertThat(with(tombstone, c -> c.mutableLeasedReaders().put(LeasedReaderId.random(),
                reader(5, Frontier.EMPTY))).isTombstone()).isFalse();
        assertThat(with(tombstone, c -> c.mutableCriticalReaders().put(CriticalReaderId.random(),
                critical(Frontier.EMPTY))).isTombstone()).isFalse();
        assertThat(with(tombstone, c -> c.trace(c.trace().withSince(Frontier.of(3)))).isTombstone()).isFalse();
        assertThat(with(at(initial(), 5), c -> c.trace(c.trace().withSince(Frontier.EMPTY))).isTombstone())
                .as("upper {0}").isFalse();
    }

    @Test
    void aSingleEmptyBatchIsAtMostOneBatchAndEmpty() {
        assertThat(initial().isSingleEmptyBatch()).isTrue();
        assertThat(with(initial(), c -> c.trace(TestStates.trace(0))).isSingleEmptyBatch()).isTrue();
        assertThat(with(initial(), c -> c.trace(TestStates.trace(1))).isSingleEmptyBatch()).isFalse();
        HollowBatch second = HollowBatch.empty(new Description(Frontier.of(10), Frontier.of(20), Frontier.of(1)));
        assertThat(with(initial(), c -> c.trace(new Trace(Frontier.MIN, List.of(batch(0, 10, 0), second))))
                .isSingleEmptyBatch()).isFalse();
    }

    @Test
    void blobsAreTheBatchesThenTheRollups() {
        State state = with(initial(), c -> c.trace(TestStates.trace(1, 2)));

        assertThat(state.blobs()).containsExactly(
                new HollowBlobRef.Batch(state.collections().trace().batches().get(0)),
                new HollowBlobRef.Batch(state.collections().trace().batches().get(1)),
                new HollowBlobRef.Rollup(state.latestRollup().getValue()));
    }

    @Test
    void latestRollupIsTheGreatest() {
        HollowRollup r5 = TestStates.rollup(5);
        State state = with(at(initial(), 9), c -> c.mutableRollups().put(SeqNo.of(5), r5));

        assertThat(state.latestRollup().getKey()).isEqualTo(SeqNo.of(5));
        assertThat(state.latestRollup().getValue()).isEqualTo(r5);
    }

    @Test
    void latestRollupFailsWithoutRollupsNamingTheShardAndSeqno() {
        State state = State.empty(ShardId.random(), TestStates.CODECS, TestStates.VERSION, "h", 0);

        assertThatThrownBy(state::latestRollup)
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(state.shardId().toString())
                .hasMessageContaining("v0")
                .hasMessageContaining("no rollup");
    }

    @Test
    void theClassicGcThresholdIsLogarithmic() {
        assertThat(State.classicGcThreshold(SeqNo.of(100))).isEqualTo(7);
        assertThat(State.classicGcThreshold(SeqNo.of(0))).isEqualTo(1);
        assertThat(State.classicGcThreshold(SeqNo.of(1))).isEqualTo(1);
        assertThat(State.classicGcThreshold(SeqNo.of(2))).isEqualTo(1);
        assertThat(State.classicGcThreshold(SeqNo.of(3))).isEqualTo(2);
        assertThat(State.classicGcThreshold(SeqNo.of(128))).isEqualTo(7);
        assertThat(State.classicGcThreshold(SeqNo.of(129))).isEqualTo(8);
        assertThat(State.classicGcThreshold(SeqNo.MAX)).isEqualTo(63);
    }

    // ---------------------------------------------------------------------------------------- rollups

    private static final PersistConfig CLASSIC = config().withRollupUseActiveRollup(false).withRollupThreshold(5);
    private static final PersistConfig ACTIVE = config().withRollupUseActiveRollup(true).withRollupThreshold(5);

    /** A state {@code d} seqnos after its latest rollup (at v1), with this active rollup marker. */
    private static State sinceRollup(long d, Optional<ActiveMarker> active) {
        return with(at(initial(), 1 + d), c -> c.activeRollup(active));
    }

    @Test
    void classicRollupsFireExactlyAtMultiplesOfTheThreshold() {
        for (long d : new long[] {5, 10, 15}) {
            assertThat(sinceRollup(d, Optional.empty()).needRollup(CLASSIC, 0)).as("d=%s", d)
                    .contains(SeqNo.of(1 + d));
        }
        for (long d : new long[] {0, 1, 4, 6, 9, 11, 14}) {
            assertThat(sinceRollup(d, Optional.empty()).needRollup(CLASSIC, 0)).as("d=%s", d).isEmpty();
        }
    }

    @Test
    void classicRollupsFireAtEverySeqnoPastThreeThresholds() {
        for (long d : new long[] {16, 17, 18, 19, 21, 101}) {
            assertThat(sinceRollup(d, Optional.empty()).needRollup(CLASSIC, 0)).as("d=%s", d)
                    .contains(SeqNo.of(1 + d));
        }
    }

    @Test
    void classicRollupsIgnoreTheActiveMarker() {
        Optional<ActiveMarker> fresh = Optional.of(new ActiveMarker(SeqNo.of(5), 1_000));

        assertThat(sinceRollup(5, fresh).needRollup(CLASSIC, 1_000)).contains(SeqNo.of(6));
    }

    @Test
    void activeRollupsFireOnceTheThresholdIsExceeded() {
        assertThat(sinceRollup(5, Optional.empty()).needRollup(ACTIVE, 0)).isEmpty();
        assertThat(sinceRollup(6, Optional.empty()).needRollup(ACTIVE, 0)).contains(SeqNo.of(7));
        assertThat(sinceRollup(7, Optional.empty()).needRollup(ACTIVE, 0)).contains(SeqNo.of(8));
    }

    @Test
    void anActiveRollupIsSuppressedWhileTheMarkerIsFreshAndReassignedAfterTheFallback() {
        long fallback = ACTIVE.rollupFallbackThresholdMs();
        State state = sinceRollup(6, Optional.of(new ActiveMarker(SeqNo.of(7), 1_000)));

        assertThat(state.needRollup(ACTIVE, 1_000)).isEmpty();
        assertThat(state.needRollup(ACTIVE, 1_000 + fallback)).isEmpty();
        assertThat(state.needRollup(ACTIVE, 1_000 + fallback + 1)).contains(SeqNo.of(7));
    }

    @Test
    void aTombstoneNeedsOneFinalRollupOnceTwoDiffsPassed() {
        State tombstone = tombstone(3);
        assertThat(tombstone.needRollup(ACTIVE, 0)).contains(SeqNo.of(3));
        assertThat(tombstone.needRollup(CLASSIC, 0)).contains(SeqNo.of(3));
        assertThat(with(tombstone, c -> c.activeRollup(Optional.of(new ActiveMarker(SeqNo.of(3), 0))))
                .needRollup(ACTIVE, 0)).contains(SeqNo.of(3));

        assertThat(tombstone(2).needRollup(ACTIVE, 0)).as("R+1 == seqno").isEmpty();
        assertThat(tombstone(2).needRollup(CLASSIC, 0)).isEmpty();
        assertThat(tombstone(1).needRollup(ACTIVE, 0)).isEmpty();
    }

    // ------------------------------------------------------------------------------- size-aware rollups

    /** The service's defaults: a rollup at most every 128 versions, and once the diffs reach a tenth of it. */
    private static final PersistConfig SIZED = config();
    private static final PersistConfig SIZED_CLASSIC = config().withRollupUseActiveRollup(false);

    /** A state {@code d} seqnos after its latest rollup, at v10, of {@code rollupBytes} bytes. */
    private static State sinceSizedRollup(long d, long rollupBytes) {
        return with(at(initial(), 10 + d), c -> c.mutableRollups().put(SeqNo.of(10),
                new HollowRollup(new PartialRollupKey(SeqNo.of(10), RollupId.random()),
                        OptionalLong.of(rollupBytes))));
    }

    /** The diffs after every seqno took {@code bytesPerDiff} each, up to the state before {@code state}. */
    private static DiffSizes uniform(State state, long bytesPerDiff) {
        long predecessor = state.seqno().value() - 1;
        return seqno -> OptionalLong.of(Math.max(0, predecessor - seqno.value()) * bytesPerDiff);
    }

    @Test
    void aSmallStateRollsUpAfterTheThresholdAsPersistDoes() {
        // 10 KB of rollup: 128 diffs of 300 bytes (38 KB) are far past a tenth of it.
        State at128 = sinceSizedRollup(128, 10_000);
        State at129 = sinceSizedRollup(129, 10_000);

        assertThat(at128.needRollup(SIZED, 0, uniform(at128, 300))).isEmpty();
        assertThat(at129.needRollup(SIZED, 0, uniform(at129, 300))).contains(at129.seqno());
        assertThat(at129.needRollup(SIZED, 0)).as("sizes unknown").contains(at129.seqno());
    }

    @Test
    void aLargeStateWithSmallDiffsWaitsUntilItsDiffsReachTheFractionOfItsRollup() {
        // 7.6 MB of rollup (100,000 one-part batches): a tenth of it is 2,534 diffs of 300 bytes.
        long rollupBytes = 7_600_000;
        for (long d : new long[] {129, 1_000, 2_534}) {
            State state = sinceSizedRollup(d, rollupBytes);
            assertThat(state.needRollup(SIZED, 0, uniform(state, 300))).as("d=%s", d).isEmpty();
        }
        State due = sinceSizedRollup(2_535, rollupBytes);
        assertThat(due.needRollup(SIZED, 0, uniform(due, 300))).contains(due.seqno());
        // Versions alone decide what sizes cannot: unknown diffs, a rollup of unknown size, a fraction of 0.
        State early = sinceSizedRollup(129, rollupBytes);
        assertThat(early.needRollup(SIZED, 0, DiffSizes.UNKNOWN)).contains(early.seqno());
        assertThat(early.needRollup(SIZED.withRollupDiffFraction(0), 0, uniform(early, 300)))
                .contains(early.seqno());
        State unsized = with(at(initial(), 130), c -> {});
        assertThat(unsized.needRollup(SIZED, 0, uniform(unsized, 300))).as("the initial rollup's size is unknown")
                .contains(unsized.seqno());
    }

    @Test
    void aDueLargeStateStillHonoursTheActiveMarkerAndItsFallback() {
        long fallback = SIZED.rollupFallbackThresholdMs();
        State due = with(sinceSizedRollup(3_000, 7_600_000),
                c -> c.activeRollup(Optional.of(new ActiveMarker(SeqNo.of(3_005), 1_000))));

        assertThat(due.needRollup(SIZED, 1_000 + fallback, uniform(due, 300))).isEmpty();
        assertThat(due.needRollup(SIZED, 1_000 + fallback + 1, uniform(due, 300))).contains(due.seqno());
    }

    @Test
    void classicSizedRollupsFireAtMultiplesOnceDueAndPastThreeBudgetsForALostOne() {
        long rollupBytes = 7_600_000; // due after 2,534 diffs of 300 bytes; three budgets after 7,600
        State notDue = sinceSizedRollup(2_432, rollupBytes); // a multiple of 128, not due
        State dueAtMultiple = sinceSizedRollup(2_560, rollupBytes);
        State dueBetween = sinceSizedRollup(2_600, rollupBytes);
        State lost = sinceSizedRollup(7_601, rollupBytes);

        assertThat(notDue.needRollup(SIZED_CLASSIC, 0, uniform(notDue, 300))).isEmpty();
        assertThat(dueAtMultiple.needRollup(SIZED_CLASSIC, 0, uniform(dueAtMultiple, 300)))
                .contains(dueAtMultiple.seqno());
        assertThat(dueBetween.needRollup(SIZED_CLASSIC, 0, uniform(dueBetween, 300))).isEmpty();
        assertThat(lost.needRollup(SIZED_CLASSIC, 0, uniform(lost, 300))).contains(lost.seqno());
        State pastThreeThresholds = sinceSizedRollup(3 * 128 + 1, rollupBytes);
        assertThat(pastThreeThresholds.needRollup(SIZED_CLASSIC, 0, uniform(pastThreeThresholds, 300)))
                .as("three thresholds but not three budgets").isEmpty();
    }

    @Test
    void aTombstoneRollsUpWhateverTheSizes() {
        State tombstone = tombstone(3);

        assertThat(tombstone.needRollup(SIZED, 0, seqno -> OptionalLong.of(0))).contains(SeqNo.of(3));
    }
}
