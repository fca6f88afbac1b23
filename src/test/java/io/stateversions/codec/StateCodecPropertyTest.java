package io.stateversions.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Version;
import io.stateversions.location.VersionedData;
import io.stateversions.testing.StateGen;
import java.util.List;
import java.util.Optional;
import java.util.stream.LongStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

class StateCodecPropertyTest {

    /** A build newer than every generated version, so that no data is fenced off. */
    private final StateCodec codec = new StateCodec(PersistConfig.defaults(new Version(100, 0, 0)));

    @Provide
    Arbitrary<StateGen.Step> steps() {
        return StateGen.steps();
    }

    @Provide
    Arbitrary<State> states() {
        return StateGen.states();
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void aDiffRoundTrips(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());

        assertThat(codec.decodeDiff(step.from().shardId(), codec.encodeDiff(diff))).isEqualTo(diff);
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void aRollupRoundTrips(@ForAll("states") State state) {
        StateCodec.DecodedRollup decoded = codec.decodeRollup(state.shardId(),
                codec.encodeRollup(state, Optional.empty()));

        assertThat(decoded.state()).isEqualTo(state);
        assertThat(decoded.diffs()).isEmpty();
    }

    /** The inlined diffs run from the latest rollup (exclusive) to the state (inclusive): {@code [R+1, S+1)}. */
    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void aRollupWithInlinedDiffsRoundTrips(@ForAll("states") State state, @ForAll("payloads") List<byte[]> payloads) {
        SeqNo lower = state.latestRollup().getKey().next();
        SeqNo upper = state.seqno().next();
        long count = Math.min(payloads.size(), upper.value() - lower.value());
        List<VersionedData> diffs = LongStream.range(0, count)
                .mapToObj(i -> new VersionedData(SeqNo.of(lower.value() + i), payloads.get((int) i)))
                .toList();
        StateCodec.InlinedDiffs inlined = new StateCodec.InlinedDiffs(lower, upper, diffs);

        StateCodec.DecodedRollup decoded = codec.decodeRollup(state.shardId(),
                codec.encodeRollup(state, Optional.of(inlined)));

        assertThat(decoded.state()).isEqualTo(state);
        assertThat(decoded.diffs()).contains(inlined);
    }

    @Provide
    Arbitrary<List<byte[]>> payloads() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(16).list().ofMaxSize(3);
    }
}
