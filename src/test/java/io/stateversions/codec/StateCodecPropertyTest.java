package io.stateversions.codec;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.DiffValue;
import io.stateversions.core.HollowBatch;
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
import net.jqwik.api.statistics.Statistics;

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

    /** Decoding only a rollup's rollups (garbage collection's check) gives what decoding all of it gives. */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void aRollupsRollupsDecodeAsTheWholeRollupDoes(@ForAll("states") State state) {
        byte[] rollup = codec.encodeRollup(state, Optional.empty());

        StateCodec.RollupRollups partial = codec.decodeRollupRollups(state.shardId(), rollup);

        assertThat(partial.seqno()).isEqualTo(state.seqno());
        assertThat(partial.rollups()).isEqualTo(state.collections().rollups());
    }

    /**
     * Decoding only a diff's rollup changes (garbage collection's plan) gives what decoding all of it gives, for the
     * seqnos, the latest rollup key and the rollups; and it declines exactly the diffs that delete a batch.
     */
    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void aDiffsRollupsDecodeAsTheWholeDiffDoesUnlessItDeletesABatch(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());
        byte[] encoded = codec.encodeDiff(diff);

        Optional<StateDiff> partial = codec.decodeRollupsOfDiff(step.from().shardId(), encoded);

        boolean deletesABatch = diff.batches().stream().anyMatch(d -> d instanceof DiffValue.Delete<HollowBatch>);
        Statistics.collect(deletesABatch);
        Statistics.coverage(coverage -> {
            coverage.check(true).count(n -> n > 0);
            coverage.check(false).count(n -> n > 0);
        });
        assertThat(partial.isEmpty()).isEqualTo(deletesABatch);
        partial.ifPresent(rollupsOnly -> {
            assertThat(List.of(rollupsOnly.seqnoFrom(), rollupsOnly.seqnoTo())).isEqualTo(List.of(diff.seqnoFrom(),
                    diff.seqnoTo()));
            assertThat(rollupsOnly.latestRollupKey()).isEqualTo(diff.latestRollupKey());
            assertThat(rollupsOnly.rollups()).isEqualTo(diff.rollups());
            assertThat(rollupsOnly.rollupDeletes()).isEqualTo(diff.rollupDeletes());
            assertThat(rollupsOnly.partDeletes()).isEmpty();
            assertThat(diff.partDeletes()).isEmpty();
        });
    }

    /** The inlined diffs run from the latest rollup (exclusive) to the state (inclusive): {@code [R+1, S+1)}. */
    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void aRollupWithInlinedDiffsRoundTrips(@ForAll("states") State state, @ForAll("payloads") List<byte[]> payloads) {
        StateCodec.InlinedDiffs inlined = inlined(state, payloads);

        StateCodec.DecodedRollup decoded = codec.decodeRollup(state.shardId(),
                codec.encodeRollup(state, Optional.of(inlined)));

        assertThat(decoded.state()).isEqualTo(state);
        assertThat(decoded.diffs()).contains(inlined);
    }

    /**
     * A rollup written from memoized batch encodings is, byte for byte, the protobuf message built from scratch
     * (which is what rollups were before the memos): whether a batch's encoding was cached by an earlier diff or
     * rollup, or is computed now, changes nothing in Blob.
     */
    @Property(tries = 200, edgeCases = EdgeCasesMode.NONE)
    void aRollupFromMemoizedBatchEncodingsIsTheMessageBuiltFromScratch(@ForAll("states") State state,
            @ForAll("payloads") List<byte[]> payloads) {
        for (Optional<StateCodec.InlinedDiffs> inlined : List.of(Optional.<StateCodec.InlinedDiffs>empty(),
                Optional.of(inlined(state, payloads)))) {
            byte[] reference = codec.encodeRollupFromScratch(state, inlined);

            byte[] firstRollup = codec.encodeRollup(state, inlined); // encodes and memoizes every batch
            assertThat(state.collections().trace().batches()).allMatch(StateCodec::holdsEncoding);
            byte[] fromMemos = codec.encodeRollup(state, inlined);

            assertThat(firstRollup).isEqualTo(reference);
            assertThat(fromMemos).isEqualTo(reference);
            // Rollups written before the memos (built from scratch) decode as before.
            assertThat(codec.decodeRollup(state.shardId(), reference).state()).isEqualTo(state);
        }
    }

    /** A diff that inserts or deletes a batch encodes it once; the rollups holding that batch reuse the bytes. */
    @Property(tries = 100, edgeCases = EdgeCasesMode.NONE)
    void aBatchADiffEncodedIsNotEncodedAgainByARollup(@ForAll("steps") StateGen.Step step) {
        StateDiff diff = StateDiff.compute(step.from(), step.to());
        codec.encodeDiff(diff);

        for (DiffValue<HollowBatch> d : diff.batches()) {
            HollowBatch batch = d instanceof DiffValue.Insert<HollowBatch> i ? i.after()
                    : ((DiffValue.Delete<HollowBatch>) d).before();
            assertThat(StateCodec.holdsEncoding(batch)).isTrue();
        }
        assertThat(codec.encodeRollup(step.to(), Optional.empty()))
                .isEqualTo(codec.encodeRollupFromScratch(step.to(), Optional.empty()));
    }

    /** Inlined diffs of {@code state} with these payloads, as many as fit between its latest rollup and it. */
    private static StateCodec.InlinedDiffs inlined(State state, List<byte[]> payloads) {
        SeqNo lower = state.latestRollup().getKey().next();
        SeqNo upper = state.seqno().next();
        long count = Math.min(payloads.size(), upper.value() - lower.value());
        List<VersionedData> diffs = LongStream.range(0, count)
                .mapToObj(i -> new VersionedData(SeqNo.of(lower.value() + i), payloads.get((int) i)))
                .toList();
        return new StateCodec.InlinedDiffs(lower, upper, diffs);
    }

    @Provide
    Arbitrary<List<byte[]>> payloads() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(16).list().ofMaxSize(3);
    }
}
