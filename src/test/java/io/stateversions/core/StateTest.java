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
}
