package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.testing.StateGen;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;

class StateDiffPropertyTest {

    @Provide
    Arbitrary<StateGen.Step> steps() {
        return StateGen.steps();
    }

    @Provide
    Arbitrary<State> states() {
        return StateGen.states();
    }

    @Property(tries = 400, edgeCases = EdgeCasesMode.NONE)
    void applyingTheDiffToTheFromStateGivesTheToState(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());

        assertThat(diff.seqnoFrom()).isEqualTo(step.from().seqno());
        assertThat(diff.seqnoTo()).isEqualTo(step.to().seqno());
        assertThat(diff.apply(step.from())).isEqualTo(step.to());
    }

    /** Following the rollups alone (garbage collection's check) gives the rollups of the whole apply. */
    @Property(tries = 400, edgeCases = EdgeCasesMode.NONE)
    void applyingTheDiffToTheRollupsAloneGivesTheToStatesRollups(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());
        TreeMap<SeqNo, HollowRollup> rollups = new TreeMap<>(step.from().collections().rollups());

        diff.applyToRollups(step.from().shardId(), step.from().seqno(), rollups);

        assertThat(rollups).isEqualTo(step.to().collections().rollups());
        SeqNo elsewhere = step.to().seqno();
        assertThatThrownBy(() -> diff.applyToRollups(step.from().shardId(), elsewhere,
                new TreeMap<>(step.from().collections().rollups())))
                .isInstanceOf(DiffApplyException.class).hasMessageContaining("not at " + step.from().seqno());
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void applyingTheDiffToAStateAlreadyAtSeqnoToReturnsItUnchanged(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());

        assertThat(diff.apply(step.to())).isSameAs(step.to());
    }

    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void applyingTheDiffToAStateAtAnotherSeqnoFails(@ForAll("steps") StateGen.Step step,
            @ForAll @LongRange(min = 1, max = 1_000) long distance) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());
        long from = step.from().seqno().value();
        long other = from >= distance ? from - distance : step.to().seqno().value() + distance;
        State elsewhere = relabel(step.from(), other);

        assertThatThrownBy(() -> diff.apply(elsewhere))
                .isInstanceOf(DiffApplyException.class)
                .hasMessageContaining("not at " + step.from().seqno());
    }

    /**
     * The same state one seqno later, rebuilt from copies of every collection (so no shortcut on shared instances
     * applies): the diff has no field diff at all.
     */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void anUnchangedFieldEmitsNothing(@ForAll("states") State state) {
        State same = new State(state.shardId(), state.seqno().next(), state.walltimeMs(), state.hostname(),
                state.codecs(), deepCopy(state.collections()));

        StateDiff diff = StateDiff.compute(state, same);

        assertThat(diff.isEmpty()).as("%s", diff).isTrue();
        assertThat(diff.apply(state)).isEqualTo(same);
    }

    private static State relabel(State state, long seqno) {
        return new State(state.shardId(), SeqNo.of(seqno), state.walltimeMs(), state.hostname(), state.codecs(),
                state.collections());
    }

    private static StateCollections deepCopy(StateCollections c) {
        return StateCollections.of(c.version(), c.lastGcReq(), copy(c.rollups()), c.activeRollup(), c.activeGc(),
                copy(c.leasedReaders()), copy(c.criticalReaders()), copy(c.writers()), copy(c.schemas()),
                copy(c.releasedParts()), new Trace(c.trace().since(), new ArrayList<>(c.trace().batches().stream()
                        .map(b -> new HollowBatch(b.desc(), b.len(), b.parts(), b.runSplits(), b.runMeta()))
                        .toList())));
    }

    private static <K, V> Map<K, V> copy(Map<K, V> map) {
        return new TreeMap<>(map);
    }
}
