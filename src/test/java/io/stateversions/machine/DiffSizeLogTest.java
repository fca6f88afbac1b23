package io.stateversions.machine;

import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.rollup;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.location.VersionedData;
import java.util.List;
import org.junit.jupiter.api.Test;

class DiffSizeLogTest {

    private static SeqNo v(long seqno) {
        return SeqNo.of(seqno);
    }

    @Test
    void theBytesBetweenTwoSeqnosAreKnownOnlyIfEveryDiffBetweenWasSeen() {
        DiffSizeLog log = new DiffSizeLog();
        for (long s = 5; s <= 9; s++) {
            log.record(v(s), (int) s * 10); // v5: 50 bytes ... v9: 90
        }

        assertThat(log.bytesBetween(4, 9)).hasValue(50 + 60 + 70 + 80 + 90);
        assertThat(log.bytesBetween(6, 8)).hasValue(70 + 80);
        assertThat(log.bytesBetween(9, 9)).as("nothing between").hasValue(0);
        assertThat(log.bytesBetween(3, 9)).as("v4 was not seen").isEmpty();
        assertThat(log.bytesBetween(4, 10)).as("v10 was not seen").isEmpty();
    }

    @Test
    void aDiffSeenTwiceCountsOnceAndAGapRestartsTheLog() {
        DiffSizeLog log = new DiffSizeLog();
        log.record(v(2), 10);
        log.record(v(3), 20);
        log.recordApplied(List.of(new VersionedData(v(2), new byte[10]), new VersionedData(v(3), new byte[20]),
                new VersionedData(v(4), new byte[30]), new VersionedData(v(5), new byte[99])), v(1), v(4));

        assertThat(log.bytesBetween(1, 4)).hasValue(60);
        assertThat(log.bytesBetween(1, 5)).as("v5 was fetched but not applied").isEmpty();

        log.record(v(7), 70); // v5 and v6 were skipped
        log.record(v(8), 80);
        assertThat(log.bytesBetween(1, 8)).isEmpty();
        assertThat(log.bytesBetween(6, 8)).hasValue(150);
    }

    @Test
    void theDiffsUpToTheLatestRollupAreForgotten() {
        DiffSizeLog log = new DiffSizeLog();
        for (long s = 2; s <= 10; s++) {
            log.record(v(s), 1);
        }
        // A transition on the state at v10 whose latest rollup is v6.
        State prev = rollupAt(6, 10);
        assertThat(log.before(prev).bytesAfter(v(6))).hasValue(4);
        assertThat(log.bytesBetween(1, 10)).as("forgotten: a later state's rollup is at v6 or after").isEmpty();
        assertThat(log.bytesBetween(6, 10)).hasValue(4);
        log.record(v(11), 5);
        assertThat(log.bytesBetween(6, 11)).hasValue(9);
        assertThat(log.before(rollupAt(12, 12)).bytesAfter(v(12))).as("the state is at its rollup").hasValue(0);
    }

    /** A state at {@code seqno} whose latest rollup is at {@code rollup}. */
    private static State rollupAt(long rollup, long seqno) {
        return with(at(initial(), seqno), c -> c.mutableRollups().put(v(rollup), rollup(rollup)));
    }
}
