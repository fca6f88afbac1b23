package io.stateversions.core;

import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class ReadsTest {

    private static final HollowBatch KEY1 = batch(0, 5, 1);
    private static final HollowBatch GAP = batch(5, 10, 0);
    private static final HollowBatch KEY2 = batch(10, 15, 1);

    /** Spec §16's worked example: [0,5) key1, [5,10) empty, [10,15) key2. */
    private static State workedExample(Frontier since) {
        return with(initial(), c -> c.trace(new Trace(since, List.of(KEY1, GAP, KEY2))));
    }

    private static SnapshotResult.Batches batches(HollowBatch... batches) {
        return new SnapshotResult.Batches(List.of(batches));
    }

    @Test
    void theWorkedExampleOfTheSpec() {
        State state = workedExample(Frontier.MIN);

        assertThat(Reads.snapshot(state, 9)).isEqualTo(batches(KEY1, GAP));
        assertThat(Reads.snapshot(state, 10)).isEqualTo(batches(KEY1, GAP, KEY2));
        assertThat(Reads.snapshot(state, 11)).isEqualTo(batches(KEY1, GAP, KEY2));
    }

    @Test
    void aBatchStartingAtAsOfIsIncludedAndLaterOnesAreNot() {
        State state = workedExample(Frontier.MIN);

        assertThat(Reads.snapshot(state, 0)).isEqualTo(batches(KEY1));
        assertThat(Reads.snapshot(state, 4)).isEqualTo(batches(KEY1));
        assertThat(Reads.snapshot(state, 5)).isEqualTo(batches(KEY1, GAP));
        assertThat(Reads.snapshot(state, 14)).isEqualTo(batches(KEY1, GAP, KEY2));
    }

    @Test
    void anAsOfAtOrAfterTheUpperIsNotAvailableYet() {
        State state = workedExample(Frontier.MIN);

        assertThat(Reads.snapshot(state, 15)).isEqualTo(new SnapshotResult.AsOfNotAvailable(Frontier.of(15)));
        assertThat(Reads.snapshot(state, Long.MAX_VALUE))
                .isEqualTo(new SnapshotResult.AsOfNotAvailable(Frontier.of(15)));
        assertThat(Reads.snapshot(initial(), 0)).as("a new shard has upper {0}")
                .isEqualTo(new SnapshotResult.AsOfNotAvailable(Frontier.MIN));
    }

    @Test
    void onlyAnAsOfStrictlyBeforeTheSinceIsRefused() {
        State state = workedExample(Frontier.of(7));

        assertThat(Reads.snapshot(state, 6)).isEqualTo(new SnapshotResult.AsOfBeforeSince(Frontier.of(7)));
        assertThat(Reads.snapshot(state, 0)).isEqualTo(new SnapshotResult.AsOfBeforeSince(Frontier.of(7)));
        assertThat(Reads.snapshot(state, 7)).isEqualTo(batches(KEY1, GAP));
    }

    @Test
    void theSinceIsCheckedBeforeTheUpper() {
        State sinceAhead = workedExample(Frontier.of(20));

        assertThat(Reads.snapshot(sinceAhead, 17)).isEqualTo(new SnapshotResult.AsOfBeforeSince(Frontier.of(20)));
        assertThat(Reads.snapshot(sinceAhead, 25)).isEqualTo(new SnapshotResult.AsOfNotAvailable(Frontier.of(15)));
    }

    @Test
    void aClosedUpperMakesEveryTimeAtOrAfterTheSinceReadable() {
        HollowBatch last = HollowBatch.of(new Description(Frontier.of(15), Frontier.EMPTY, Frontier.MIN), 1,
                List.of(part()));
        State state = with(initial(), c -> c.trace(new Trace(Frontier.of(3), List.of(KEY1, GAP, KEY2, last))));

        assertThat(Reads.snapshot(state, Long.MAX_VALUE)).isEqualTo(batches(KEY1, GAP, KEY2, last));
        assertThat(Reads.snapshot(state, 3)).isEqualTo(batches(KEY1));
    }

    @Test
    void aClosedSinceIsBeforeEveryAsOf() {
        State tombstone = StateTest.tombstone(5);

        assertThat(Reads.snapshot(tombstone, 0)).isEqualTo(new SnapshotResult.AsOfBeforeSince(Frontier.EMPTY));
        assertThat(Reads.snapshot(tombstone, Long.MAX_VALUE))
                .isEqualTo(new SnapshotResult.AsOfBeforeSince(Frontier.EMPTY));
    }

    @Test
    void aNegativeAsOfIsNotATimestamp() {
        assertThatThrownBy(() -> Reads.snapshot(workedExample(Frontier.MIN), -1))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
