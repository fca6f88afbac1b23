package io.stateversions.codec;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import io.stateversions.codec.proto.StorageV1;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Trace;
import io.stateversions.core.Version;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.core.WriterState;
import io.stateversions.location.VersionedData;
import io.stateversions.testing.TestStates;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

class StateCodecTest {

    private static final Version BUILD = Version.parse("0.1.0");

    private final StateCodec codec = new StateCodec(PersistConfig.defaults(BUILD));

    /** A state at {@code version}. */
    private static State stateAt(Version version) {
        return with(initial(), c -> c.version(version));
    }

    /** A diff written by {@code version}: a lastGcReq update, a new hostname and an appended batch. */
    private static StateDiff diffBy(Version version) {
        State from = initial();
        State to = new State(from.shardId(), SeqNo.of(2), from.walltimeMs() + 1, "host-b", from.codecs(),
                with(from, c -> {
                    c.version(version);
                    c.lastGcReq(SeqNo.of(1));
                    c.trace(new Trace(Frontier.MIN, List.of(batch(0, 10, 1))));
                }).collections());
        return StateDiff.compute(from, to);
    }

    /**
     * A decoded state holds one key per writer, not a copy per part: a shard reloaded from its rollup weighs what it
     * weighed before its eviction.
     */
    @Test
    void thePartsOfOneWriterDecodedFromARollupShareTheirWriterKey() {
        WriterId writer = WriterId.random();
        List<HollowBatch> batches = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            batches.add(HollowBatch.of(TestStates.desc(i, i + 1), 1, List.of(new BatchPart.Hollow(
                    PartialBatchKey.parse(writer + "/" + PartId.random()), 100, Bytes.EMPTY, Optional.empty(),
                    OptionalLong.empty(), OptionalLong.empty(), Bytes.EMPTY))));
        }
        State state = with(initial(), c -> c.trace(new Trace(Frontier.MIN, batches)));

        State decoded = codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.empty())).state();

        assertThat(decoded).isEqualTo(state);
        assertThat(decoded.collections().trace().batches())
                .extracting(b -> ((BatchPart.Hollow) b.parts().get(0)).key().writer())
                .allSatisfy(key -> assertThat(key).isSameAs(WriterKey.of(writer)));
    }

    // ---------------------------------------------------------------------------------------- version fence

    @Test
    void dataOneMinorVersionAheadIsReadable() {
        StateDiff diff = diffBy(Version.parse("0.2.9"));
        State state = stateAt(Version.parse("0.2.0"));

        assertThat(codec.decodeDiff(state.shardId(), codec.encodeDiff(diff))).isEqualTo(diff);
        assertThat(codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.empty())).state())
                .isEqualTo(state);
    }

    @Test
    void dataTwoMinorVersionsAheadIsFenced() {
        StateDiff diff = diffBy(Version.parse("0.3.0"));
        ShardId shard = ShardId.random();

        assertThatThrownBy(() -> codec.decodeDiff(shard, codec.encodeDiff(diff)))
                .isInstanceOfSatisfying(VersionFenceException.class, e -> {
                    assertThat(e.dataVersion()).isEqualTo(Version.parse("0.3.0"));
                    assertThat(e.buildVersion()).isEqualTo(BUILD);
                    assertThat(e.shard()).isEqualTo(shard);
                })
                .hasMessageContaining("0.3.0").hasMessageContaining("0.1.0");
        State state = stateAt(Version.parse("0.3.0"));
        assertThatThrownBy(() -> codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.empty())))
                .isInstanceOf(VersionFenceException.class);
    }

    @Test
    void dataOfANewerMajorVersionIsFenced() {
        assertThat(codec.canRead(Version.parse("1.0.0"))).isFalse();
        assertThat(codec.canRead(Version.parse("1.1.0"))).isFalse();
        assertThatThrownBy(() -> codec.decodeDiff(ShardId.random(), codec.encodeDiff(diffBy(Version.parse("1.0.0")))))
                .isInstanceOf(VersionFenceException.class);
    }

    @Test
    void olderDataIsAlwaysReadable() {
        StateCodec newer = new StateCodec(PersistConfig.defaults(Version.parse("2.0.0")));

        assertThat(codec.canRead(Version.parse("0.0.1"))).isTrue();
        assertThat(codec.canRead(Version.ZERO)).isTrue();
        assertThat(newer.canRead(Version.parse("0.99.99"))).isTrue();
        assertThat(newer.canRead(Version.parse("1.999.0"))).isTrue();
        StateDiff old = diffBy(Version.parse("0.0.3"));
        assertThat(newer.decodeDiff(ShardId.random(), newer.encodeDiff(old))).isEqualTo(old);
    }

    @Test
    void theWindowIsConfigurable() {
        StateCodec strict = new StateCodec(PersistConfig.defaults(BUILD).toBuilder().readableMinorVersionsAhead(0)
                .build());

        assertThat(strict.canRead(Version.parse("0.1.99"))).isTrue();
        assertThat(strict.canRead(Version.parse("0.2.0"))).isFalse();
    }

    @Test
    void anEmptyApplierVersionIsVersionZero() {
        StateDiff diff = diffBy(BUILD);
        byte[] unversioned = diffProto(diff).toBuilder().setApplierVersion("").build().toByteArray();

        assertThat(codec.decodeDiff(ShardId.random(), unversioned).applierVersion()).isEqualTo(Version.ZERO);
    }

    // ---------------------------------------------------------------------------------------- corrupt data

    @Test
    void aRollupOfAnotherShardIsADecodeError() {
        State state = initial();
        ShardId other = ShardId.random();

        assertThatThrownBy(() -> codec.decodeRollup(other, codec.encodeRollup(state, Optional.empty())))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining(other.toString())
                .hasMessageContaining(state.shardId().toString());
    }

    @Test
    void corruptBytesAreADecodeError() {
        byte[] truncated = {0x0a, 0x05, 0x01};
        byte[] garbage = {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff};
        ShardId shard = ShardId.random();

        for (byte[] bad : List.of(truncated, garbage)) {
            assertThatThrownBy(() -> codec.decodeDiff(shard, bad)).isInstanceOf(DecodeException.class)
                    .hasMessageContaining(shard.toString());
            assertThatThrownBy(() -> codec.decodeRollup(shard, bad)).isInstanceOf(DecodeException.class)
                    .hasMessageContaining(shard.toString());
        }
    }

    @Test
    void aDiffWithoutALatestRollupKeyIsADecodeError() {
        byte[] data = diffProto(diffBy(BUILD)).toBuilder().setLatestRollupKey("").build().toByteArray();

        assertThatThrownBy(() -> codec.decodeDiff(ShardId.random(), data)).isInstanceOf(DecodeException.class);
    }

    @Test
    void aRollupWithoutATraceIsADecodeError() {
        State state = initial();
        byte[] data = rollupProto(state).toBuilder().clearTrace().build().toByteArray();

        assertThatThrownBy(() -> codec.decodeRollup(state.shardId(), data))
                .isInstanceOf(DecodeException.class).hasMessageContaining("no trace");
    }

    /** Decoding only a rollup's rollups refuses what decoding all of it refuses, and checks what it reads. */
    @Test
    void aRollupsRollupsAreDecodedOnlyFromASoundRollupOfTheShard() {
        State state = initial();
        ShardId other = ShardId.random();
        byte[] sound = codec.encodeRollup(state, Optional.empty());
        assertThat(codec.decodeRollupRollups(state.shardId(), sound).rollups())
                .isEqualTo(state.collections().rollups());

        assertThatThrownBy(() -> codec.decodeRollupRollups(other, sound)).isInstanceOf(DecodeException.class)
                .hasMessageContaining(other.toString()).hasMessageContaining(state.shardId().toString());
        byte[] noTrace = rollupProto(state).toBuilder().clearTrace().build().toByteArray();
        assertThatThrownBy(() -> codec.decodeRollupRollups(state.shardId(), noTrace))
                .isInstanceOf(DecodeException.class).hasMessageContaining("no trace");
        byte[] badKey = rollupProto(state).toBuilder()
                .putRollups(7, StorageV1.Rollup.newBuilder().setKey("not a key").build()).build().toByteArray();
        assertThatThrownBy(() -> codec.decodeRollupRollups(state.shardId(), badKey))
                .isInstanceOf(DecodeException.class).hasMessageContaining(state.shardId().toString());
        // Field 6 (seqno) as a string: a wire type the field cannot have.
        byte[] withBadSeqno = concat(sound, new byte[] {0x32, 0x01, 0x78});
        assertThatThrownBy(() -> codec.decodeRollupRollups(state.shardId(), withBadSeqno))
                .isInstanceOf(DecodeException.class).hasMessageContaining("wire type");
        for (byte[] bad : List.of(new byte[] {0x0a, 0x05, 0x01}, new byte[] {(byte) 0xff, (byte) 0xff})) {
            assertThatThrownBy(() -> codec.decodeRollupRollups(state.shardId(), bad))
                    .isInstanceOf(DecodeException.class).hasMessageContaining(state.shardId().toString());
        }
    }

    @Test
    void aRollupsRollupsOfATooNewVersionAreFenced() {
        State state = stateAt(Version.parse("0.3.0"));
        byte[] rollup = codec.encodeRollup(state, Optional.empty());

        assertThatThrownBy(() -> codec.decodeRollupRollups(state.shardId(), rollup))
                .isInstanceOfSatisfying(VersionFenceException.class,
                        e -> assertThat(e.dataVersion()).isEqualTo(Version.parse("0.3.0")));
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    @Test
    void aFrontierOfTwoElementsIsADecodeError() {
        State state = initial();
        StorageV1.StateRollup proto = rollupProto(state);
        byte[] data = proto.toBuilder().setTrace(proto.getTrace().toBuilder()
                .setSince(StorageV1.Frontier.newBuilder().addElements(1).addElements(2))).build().toByteArray();

        assertThatThrownBy(() -> codec.decodeRollup(state.shardId(), data))
                .isInstanceOf(DecodeException.class).hasMessageContaining("at most one element");
    }

    // ---------------------------------------------------------------------------------------- columnar diffs

    private static StorageV1.StateDiff diffProto(StateDiff diff) {
        try {
            return StorageV1.StateDiff.parseFrom(new StateCodec(PersistConfig.defaults(BUILD)).encodeDiff(diff));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    /** The test diff with its field diffs changed by {@code edit}: decoding it must fail. */
    private void assertCorruptFieldDiffs(Consumer<StorageV1.FieldDiffs.Builder> edit, String message) {
        StorageV1.StateDiff proto = diffProto(diffBy(BUILD));
        StorageV1.FieldDiffs.Builder fields = proto.getFieldDiffs().toBuilder();
        edit.accept(fields);
        byte[] data = proto.toBuilder().setFieldDiffs(fields).build().toByteArray();

        assertThatThrownBy(() -> codec.decodeDiff(ShardId.random(), data))
                .isInstanceOf(DecodeException.class)
                .hasMessageContaining(message);
    }

    /**
     * Released parts (rollup field 20) are the one field persist does not have: a rollup written before it existed
     * has none and decodes as a state without released parts; one written now keeps them.
     */
    @Test
    void aRollupWrittenBeforeReleasedPartsDecodesWithNoneAndOneWithThemRoundTrips() throws Exception {
        PartialBatchKey released = TestStates.part().key();
        State state = with(at(initial(), 7), c -> c.mutableReleasedParts().put(released, SeqNo.of(5)));
        byte[] rollup = codec.encodeRollup(state, Optional.empty());
        byte[] before = StorageV1.StateRollup.parseFrom(rollup).toBuilder().clearReleasedParts().build()
                .toByteArray();

        assertThat(StorageV1.StateRollup.parseFrom(rollup).getReleasedPartsMap())
                .containsExactly(java.util.Map.entry(released.toString(), 5L));
        assertThat(codec.decodeRollup(state.shardId(), rollup).state()).isEqualTo(state);
        assertThat(codec.decodeRollup(state.shardId(), before).state())
                .isEqualTo(with(state, c -> c.mutableReleasedParts().clear()));
    }

    @Test
    void theTestDiffHasAHostnameALastGcReqAndABatch() {
        assertThat(diffProto(diffBy(BUILD)).getFieldDiffs().getFieldsList()).containsExactly(
                StorageV1.Field.HOSTNAME, StorageV1.Field.LAST_GC_REQ, StorageV1.Field.BATCHES);
    }

    @Test
    void moreFieldsThanDiffTypesIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.addFields(StorageV1.Field.HOSTNAME), "3 diff types");
    }

    @Test
    void tooFewSlicesIsADecodeError() {
        assertCorruptFieldDiffs(f -> {
            List<Long> lens = f.getDataLensList();
            f.clearDataLens().addAllDataLens(lens.subList(0, lens.size() - 1));
        }, "slice");
    }

    @Test
    void tooManySlicesIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.addDataLens(0), "slices");
    }

    @Test
    void aSliceBeyondTheDataIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.setDataLens(1, f.getDataBytes().size() + 1), "exceeds");
    }

    @Test
    void dataBytesBeyondTheSlicesAreADecodeError() {
        assertCorruptFieldDiffs(f -> f.setDataBytes(f.getDataBytes().concat(ByteString.copyFromUtf8("x"))),
                "data bytes");
    }

    @Test
    void anUnknownFieldIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.setFieldsValue(1, 99), "unknown field");
        assertCorruptFieldDiffs(f -> f.setFields(1, StorageV1.Field.F_UNKNOWN), "unknown field");
    }

    @Test
    void anUnknownDiffTypeIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.setDiffTypesValue(1, 7), "unknown diff type");
    }

    @Test
    void aSingleFieldWithAKeyIsADecodeError() {
        assertCorruptFieldDiffs(f -> {
            ByteString data = f.getDataBytes();
            f.setDataBytes(ByteString.copyFromUtf8("k").concat(data)).setDataLens(0, 1);
        }, "unit key");
    }

    @Test
    void anUpdatedBatchIsADecodeError() {
        assertCorruptFieldDiffs(f -> f.setDiffTypes(2, StorageV1.DiffType.UPDATE).addDataLens(0),
                "inserted or deleted");
    }

    // ---------------------------------------------------------------------------------------- rollups

    private static StorageV1.StateRollup rollupProto(State state) {
        try {
            return StorageV1.StateRollup.parseFrom(
                    new StateCodec(PersistConfig.defaults(BUILD)).encodeRollup(state, Optional.empty()));
        } catch (InvalidProtocolBufferException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aRollupKeepsTheCodecNames() {
        State state = initial();

        assertThat(codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.empty())).state()
                .codecs()).isEqualTo(state.codecs());
    }

    @Test
    void inlinedDiffsMustRunFromTheLatestRollupToTheState() {
        State state = at(initial(), 5);
        List<VersionedData> diffs = List.of(new VersionedData(SeqNo.of(2), new byte[] {1}));
        StateCodec.InlinedDiffs valid = new StateCodec.InlinedDiffs(SeqNo.of(2), SeqNo.of(6), diffs);

        assertThat(codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.of(valid))).diffs())
                .contains(valid);
        for (StateCodec.InlinedDiffs bad : List.of(
                new StateCodec.InlinedDiffs(SeqNo.of(1), SeqNo.of(6), diffs),
                new StateCodec.InlinedDiffs(SeqNo.of(3), SeqNo.of(6), diffs),
                new StateCodec.InlinedDiffs(SeqNo.of(2), SeqNo.of(5), diffs),
                new StateCodec.InlinedDiffs(SeqNo.of(2), SeqNo.of(7), diffs))) {
            byte[] data = codec.encodeRollup(state, Optional.of(bad));
            assertThatThrownBy(() -> codec.decodeRollup(state.shardId(), data)).as("%s", bad)
                    .isInstanceOf(DecodeException.class)
                    .hasMessageContaining("inlined diffs [" + bad.lower().value() + ", " + bad.upper().value() + ")")
                    .hasMessageContaining("expected [2, 6)");
        }
    }

    @Test
    void aWriterWithoutTokenOrUpperGetsTheSentinelAndTheMinimum() {
        WriterId writer = WriterId.random();
        State state = with(initial(), c -> c.mutableWriters().put(writer,
                new WriterState(1, 2, IdempotencyToken.random(), Frontier.of(9), DEBUG)));
        StorageV1.StateRollup proto = rollupProto(state);
        StorageV1.Writer legacy = proto.getWritersOrThrow(writer.toString()).toBuilder()
                .clearLastToken().clearLastUpper().build();
        byte[] data = proto.toBuilder().putWriters(writer.toString(), legacy).build().toByteArray();

        WriterState decoded = codec.decodeRollup(state.shardId(), data).state().collections().writers().get(writer);

        assertThat(decoded).isEqualTo(new WriterState(1, 2, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG));
    }

    @Test
    void aWriterWithAClosedUpperKeepsIt() {
        WriterId writer = WriterId.random();
        State state = with(initial(), c -> c.mutableWriters().put(writer,
                new WriterState(1, 2, IdempotencyToken.random(), Frontier.EMPTY, DEBUG)));

        assertThat(codec.decodeRollup(state.shardId(), codec.encodeRollup(state, Optional.empty())).state())
                .isEqualTo(state);
    }
}
