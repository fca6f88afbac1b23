package io.stateversions.codec;

import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.ExtensionRegistryLite;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.Parser;
import com.google.protobuf.WireFormat;
import io.stateversions.codec.proto.StorageV1;
import io.stateversions.core.ActiveMarker;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Codecs;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.Description;
import io.stateversions.core.DiffValue;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.FieldDiff;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RunId;
import io.stateversions.core.RunMeta;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Trace;
import io.stateversions.core.Version;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterState;
import io.stateversions.location.VersionedData;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The storage wire format (spec §6, schema in {@code proto/stateversions/storage/v1/state.proto}): diffs for
 * Consensus, rollups for Blob. The only class that knows it.
 *
 * <p>Every diff and rollup carries the version of the code that wrote it; decoding refuses data written by a build
 * too new to read ({@link VersionFenceException}, spec §6.6), because protobuf would silently drop the fields this
 * build does not know and a later write would lose them. Decoders also check that the data belongs to the shard
 * asked for. Corrupt data is a {@link DecodeException}.
 *
 * <p>Not final only so that tests can observe where encoding runs (on which threads) by overriding its methods.
 */
public class StateCodec {

    /** The diffs a rollup of the state at {@code S} inlines: seqnos {@code [lower, upper)} = {@code (R, S]}. */
    public record InlinedDiffs(SeqNo lower, SeqNo upper, List<VersionedData> diffs) {
        public InlinedDiffs {
            Objects.requireNonNull(lower, "lower");
            Objects.requireNonNull(upper, "upper");
            diffs = List.copyOf(diffs);
        }
    }

    /** A decoded rollup: the state it holds and the diffs it inlines, if any. */
    public record DecodedRollup(State state, Optional<InlinedDiffs> diffs) {}

    /** Of a rollup, only the seqno of its state and the state's rollups ({@link #decodeRollupRollups}). */
    public record RollupRollups(SeqNo seqno, TreeMap<SeqNo, HollowRollup> rollups) {}

    private final Version buildVersion;
    private final int readableMinorVersionsAhead;

    public StateCodec(PersistConfig cfg) {
        this.buildVersion = cfg.buildVersion();
        this.readableMinorVersionsAhead = cfg.readableMinorVersionsAhead();
    }

    /**
     * Whether this build may read data written by {@code dataVersion}: any older version, and newer ones of the
     * same major version up to the configured number of minor versions ahead (persist's classic rule: one).
     */
    public boolean canRead(Version dataVersion) {
        if (dataVersion.compareTo(buildVersion) <= 0) {
            return true;
        }
        return dataVersion.major() == buildVersion.major()
                && dataVersion.minor() <= (long) buildVersion.minor() + readableMinorVersionsAhead;
    }

    private void fence(ShardId shard, String what, Version dataVersion) {
        if (!canRead(dataVersion)) {
            throw new VersionFenceException(shard, what, dataVersion, buildVersion, readableMinorVersionsAhead);
        }
    }

    // ---------------------------------------------------------------------------------------------- diffs

    public byte[] encodeDiff(StateDiff diff) {
        FieldDiffWriter w = new FieldDiffWriter();
        for (DiffValue<String> d : diff.hostname()) {
            w.single(StorageV1.Field.HOSTNAME, d, StateCodec::str);
        }
        for (DiffValue<SeqNo> d : diff.lastGcReq()) {
            w.single(StorageV1.Field.LAST_GC_REQ, d, s -> u64(s.value()));
        }
        for (FieldDiff<SeqNo, HollowRollup> d : diff.rollups()) {
            w.entry(StorageV1.Field.ROLLUPS, u64(d.key().value()), d.value(), StateCodec::rollup);
        }
        for (DiffValue<ActiveMarker> d : diff.activeRollup()) {
            w.single(StorageV1.Field.ACTIVE_ROLLUP, d, StateCodec::active);
        }
        for (DiffValue<ActiveMarker> d : diff.activeGc()) {
            w.single(StorageV1.Field.ACTIVE_GC, d, StateCodec::active);
        }
        for (FieldDiff<LeasedReaderId, LeasedReaderState> d : diff.leasedReaders()) {
            w.entry(StorageV1.Field.LEASED_READERS, str(d.key().toString()), d.value(), StateCodec::leasedReader);
        }
        for (FieldDiff<CriticalReaderId, CriticalReaderState> d : diff.criticalReaders()) {
            w.entry(StorageV1.Field.CRITICAL_READERS, str(d.key().toString()), d.value(), StateCodec::criticalReader);
        }
        for (FieldDiff<WriterId, WriterState> d : diff.writers()) {
            w.entry(StorageV1.Field.WRITERS, str(d.key().toString()), d.value(), StateCodec::writer);
        }
        for (FieldDiff<SchemaId, EncodedSchemas> d : diff.schemas()) {
            w.entry(StorageV1.Field.SCHEMAS, u64(d.key().value()), d.value(), StateCodec::schemas);
        }
        for (DiffValue<Frontier> d : diff.since()) {
            w.single(StorageV1.Field.SINCE, d, StateCodec::frontier);
        }
        for (DiffValue<HollowBatch> d : diff.batches()) {
            w.batch(d);
        }
        for (FieldDiff<PartialBatchKey, SeqNo> d : diff.releasedParts()) {
            w.entry(StorageV1.Field.RELEASED_PARTS, str(d.key().toString()), d.value(), s -> u64(s.value()));
        }
        return StorageV1.StateDiff.newBuilder()
                .setApplierVersion(diff.applierVersion().toString())
                .setSeqnoFrom(diff.seqnoFrom().value())
                .setSeqnoTo(diff.seqnoTo().value())
                .setLatestRollupKey(diff.latestRollupKey().toString())
                .setWalltimeMs(diff.walltimeMs())
                .setFieldDiffs(w.build())
                .build()
                .toByteArray();
    }

    /** Decodes the diff in a Consensus entry of {@code shard}; fenced by its applier version. */
    public StateDiff decodeDiff(ShardId shard, byte[] data) {
        return decodeFenced(shard, data, this::decodeDiff);
    }

    /**
     * {@code decode} of the diff in {@code data}, once its applier version passed the fence; any other failure is a
     * {@link DecodeException} naming the diff's seqnos and shard.
     */
    private <T> T decodeFenced(ShardId shard, byte[] data, BiFunction<StorageV1.StateDiff, Version, T> decode) {
        StorageV1.StateDiff proto = parse(StorageV1.StateDiff.parser(), data, "diff", shard);
        try {
            Version version = Version.parse(proto.getApplierVersion());
            fence(shard, "a diff", version);
            return decode.apply(proto, version);
        } catch (VersionFenceException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DecodeException("corrupt diff " + proto.getSeqnoFrom() + " -> " + proto.getSeqnoTo()
                    + " of shard " + shard + ": " + e.getMessage(), e);
        }
    }

    /**
     * What garbage collection needs of a diff of {@code shard} that deletes no batch: its seqnos, latest rollup key
     * and rollup changes, every other field left empty, the slices of those fields skipped without being parsed;
     * empty if the diff deletes a batch (its parts may be released: decode it whole, {@link #decodeDiff}). Fenced by
     * its applier version as a whole decode is. A GC reads about a rollup interval of diffs, and those of a shard whose
     * writers do not compact only insert a batch and update a writer each.
     */
    public Optional<StateDiff> decodeRollupsOfDiff(ShardId shard, byte[] data) {
        return decodeFenced(shard, data, (proto, version) -> {
            List<FieldDiff<SeqNo, HollowRollup>> rollups = new ArrayList<>();
            FieldDiffReader r = new FieldDiffReader(proto.getFieldDiffs());
            while (r.next()) {
                StorageV1.Field field = r.field();
                if (field == StorageV1.Field.ROLLUPS) {
                    rollups.add(r.rollup());
                } else if (field == StorageV1.Field.BATCHES && r.deletes()) {
                    return Optional.empty();
                } else {
                    r.skip();
                }
            }
            r.finish();
            return Optional.of(new StateDiff(version, SeqNo.of(proto.getSeqnoFrom()), SeqNo.of(proto.getSeqnoTo()),
                    proto.getWalltimeMs(), PartialRollupKey.parse(proto.getLatestRollupKey()), List.of(), List.of(),
                    List.of(), List.of(), rollups, List.of(), List.of(), List.of(), List.of(), List.of(), List.of(),
                    List.of()));
        });
    }

    private StateDiff decodeDiff(StorageV1.StateDiff proto, Version version) {
        List<DiffValue<String>> hostname = new ArrayList<>();
        List<DiffValue<SeqNo>> lastGcReq = new ArrayList<>();
        List<DiffValue<ActiveMarker>> activeRollup = new ArrayList<>();
        List<DiffValue<ActiveMarker>> activeGc = new ArrayList<>();
        List<FieldDiff<SeqNo, HollowRollup>> rollups = new ArrayList<>();
        List<FieldDiff<LeasedReaderId, LeasedReaderState>> leasedReaders = new ArrayList<>();
        List<FieldDiff<CriticalReaderId, CriticalReaderState>> criticalReaders = new ArrayList<>();
        List<FieldDiff<WriterId, WriterState>> writers = new ArrayList<>();
        List<FieldDiff<SchemaId, EncodedSchemas>> schemas = new ArrayList<>();
        List<DiffValue<Frontier>> since = new ArrayList<>();
        List<DiffValue<HollowBatch>> batches = new ArrayList<>();
        List<FieldDiff<PartialBatchKey, SeqNo>> releasedParts = new ArrayList<>();

        FieldDiffReader r = new FieldDiffReader(proto.getFieldDiffs());
        while (r.next()) {
            switch (r.field()) {
                case HOSTNAME -> hostname.add(r.single(StorageV1.Str.parser(), StorageV1.Str::getValue));
                case LAST_GC_REQ -> lastGcReq.add(r.single(StorageV1.U64.parser(), v -> SeqNo.of(v.getValue())));
                case ROLLUPS -> rollups.add(r.rollup());
                case ACTIVE_ROLLUP -> activeRollup.add(r.single(StorageV1.Active.parser(), StateCodec::active));
                case ACTIVE_GC -> activeGc.add(r.single(StorageV1.Active.parser(), StateCodec::active));
                case LEASED_READERS -> leasedReaders.add(r.entry(StorageV1.Str.parser(),
                        k -> LeasedReaderId.parse(k.getValue()), StorageV1.LeasedReader.parser(),
                        StateCodec::leasedReader));
                case CRITICAL_READERS -> criticalReaders.add(r.entry(StorageV1.Str.parser(),
                        k -> CriticalReaderId.parse(k.getValue()), StorageV1.CriticalReader.parser(),
                        StateCodec::criticalReader));
                case WRITERS -> writers.add(r.entry(StorageV1.Str.parser(), k -> WriterId.parse(k.getValue()),
                        StorageV1.Writer.parser(), StateCodec::writer));
                case SCHEMAS -> schemas.add(r.entry(StorageV1.U64.parser(), k -> new SchemaId(k.getValue()),
                        StorageV1.Schemas.parser(), StateCodec::schemas));
                case SINCE -> since.add(r.single(StorageV1.Frontier.parser(), StateCodec::frontier));
                case BATCHES -> batches.add(r.batch());
                case RELEASED_PARTS -> releasedParts.add(r.entry(StorageV1.Str.parser(),
                        k -> PartialBatchKey.parse(k.getValue()), StorageV1.U64.parser(), v -> SeqNo.of(v.getValue())));
                default -> throw new DecodeException("unknown field " + r.field());
            }
        }
        r.finish();
        return new StateDiff(version, SeqNo.of(proto.getSeqnoFrom()), SeqNo.of(proto.getSeqnoTo()),
                proto.getWalltimeMs(), PartialRollupKey.parse(proto.getLatestRollupKey()), hostname, lastGcReq,
                activeRollup, activeGc, rollups, leasedReaders, criticalReaders, writers, schemas, since, batches,
                releasedParts);
    }

    /** Writes the columnar field diffs of spec §6.3: per diff a field, a type, and 2 or 3 length-prefixed slices. */
    private static final class FieldDiffWriter {
        private final StorageV1.FieldDiffs.Builder out = StorageV1.FieldDiffs.newBuilder();
        private final ByteString.Output data = ByteString.newOutput();

        <V> void single(StorageV1.Field field, DiffValue<V> d, Function<V, ? extends Message> value) {
            write(field, ByteString.EMPTY, d, v -> value.apply(v).toByteString());
        }

        <V> void entry(StorageV1.Field field, Message key, DiffValue<V> d, Function<V, ? extends Message> value) {
            write(field, key.toByteString(), d, v -> value.apply(v).toByteString());
        }

        void batch(DiffValue<HollowBatch> d) {
            HollowBatch batch = d instanceof DiffValue.Insert<HollowBatch> i ? i.after()
                    : ((DiffValue.Delete<HollowBatch>) d).before();
            write(StorageV1.Field.BATCHES, ENCODED_BATCH.of(batch), d, v -> ByteString.EMPTY);
        }

        private <V> void write(StorageV1.Field field, ByteString key, DiffValue<V> d, Function<V, ByteString> value) {
            out.addFields(field);
            slice(key);
            if (d instanceof DiffValue.Insert<V> insert) {
                out.addDiffTypes(StorageV1.DiffType.INSERT);
                slice(value.apply(insert.after()));
            } else if (d instanceof DiffValue.Update<V> update) {
                out.addDiffTypes(StorageV1.DiffType.UPDATE);
                slice(value.apply(update.before()));
                slice(value.apply(update.after()));
            } else if (d instanceof DiffValue.Delete<V> delete) {
                out.addDiffTypes(StorageV1.DiffType.DELETE);
                slice(value.apply(delete.before()));
            }
        }

        private void slice(ByteString bytes) {
            out.addDataLens(bytes.size());
            try {
                bytes.writeTo(data);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e); // ByteString.Output does not throw
            }
        }

        StorageV1.FieldDiffs build() {
            return out.setDataBytes(data.toByteString()).build();
        }
    }

    /** Reads the columnar field diffs, validating lengths, slice counts and enum values as it goes. */
    private static final class FieldDiffReader {
        private final StorageV1.FieldDiffs in;
        private final ByteString data;
        private int diff = -1;
        private int slice;
        private int offset;

        FieldDiffReader(StorageV1.FieldDiffs in) {
            this.in = in;
            this.data = in.getDataBytes();
            if (in.getFieldsCount() != in.getDiffTypesCount()) {
                throw new DecodeException(in.getFieldsCount() + " fields but " + in.getDiffTypesCount() + " diff types");
            }
        }

        boolean next() {
            diff++;
            return diff < in.getFieldsCount();
        }

        StorageV1.Field field() {
            StorageV1.Field field = in.getFields(diff);
            if (field == StorageV1.Field.UNRECOGNIZED || field == StorageV1.Field.F_UNKNOWN) {
                throw new DecodeException("unknown field number " + in.getFieldsValue(diff) + " in diff " + diff);
            }
            return field;
        }

        private StorageV1.DiffType type() {
            StorageV1.DiffType type = in.getDiffTypes(diff);
            if (type == StorageV1.DiffType.UNRECOGNIZED) {
                throw new DecodeException("unknown diff type " + in.getDiffTypesValue(diff) + " in diff " + diff);
            }
            return type;
        }

        /** The current diff, of the rollups field. */
        FieldDiff<SeqNo, HollowRollup> rollup() {
            return entry(StorageV1.U64.parser(), k -> SeqNo.of(k.getValue()), StorageV1.Rollup.parser(),
                    StateCodec::rollup);
        }

        /** Whether the current diff is a delete. */
        boolean deletes() {
            return type() == StorageV1.DiffType.DELETE;
        }

        /** Passes over the current diff: its key slice and its one or two value slices. */
        void skip() {
            int slices = type() == StorageV1.DiffType.UPDATE ? 3 : 2;
            for (int i = 0; i < slices; i++) {
                slice();
            }
        }

        private ByteString slice() {
            if (slice >= in.getDataLensCount()) {
                throw new DecodeException("diff " + diff + " needs slice " + slice + " but there are only "
                        + in.getDataLensCount());
            }
            long len = in.getDataLens(slice++);
            if (len < 0 || offset + len > data.size()) {
                throw new DecodeException("slice " + (slice - 1) + " of " + len + " bytes at offset " + offset
                        + " exceeds the " + data.size() + " data bytes");
            }
            ByteString bytes = data.substring(offset, offset + (int) len);
            offset += (int) len;
            return bytes;
        }

        private <V> DiffValue<V> value(Function<ByteString, V> decode) {
            return switch (type()) {
                case INSERT -> new DiffValue.Insert<>(decode.apply(slice()));
                case UPDATE -> {
                    V before = decode.apply(slice());
                    yield new DiffValue.Update<>(before, decode.apply(slice()));
                }
                case DELETE -> new DiffValue.Delete<>(decode.apply(slice()));
                default -> throw new DecodeException("unknown diff type in diff " + diff);
            };
        }

        <P extends Message, V> DiffValue<V> single(Parser<P> parser, Function<P, V> decode) {
            ByteString key = slice();
            if (!key.isEmpty()) {
                throw new DecodeException("a single field has a unit key, got " + key.size() + " bytes");
            }
            return value(bytes -> decode.apply(parseSlice(parser, bytes)));
        }

        <PK extends Message, K, PV extends Message, V> FieldDiff<K, V> entry(Parser<PK> keyParser,
                Function<PK, K> key, Parser<PV> valueParser, Function<PV, V> value) {
            K k = key.apply(parseSlice(keyParser, slice()));
            return new FieldDiff<>(k, value(bytes -> value.apply(parseSlice(valueParser, bytes))));
        }

        DiffValue<HollowBatch> batch() {
            HollowBatch batch = StateCodec.batch(parseSlice(StorageV1.Batch.parser(), slice()));
            DiffValue<ByteString> unit = value(bytes -> bytes);
            if (unit instanceof DiffValue.Insert<ByteString> insert && insert.after().isEmpty()) {
                return new DiffValue.Insert<>(batch);
            }
            if (unit instanceof DiffValue.Delete<ByteString> delete && delete.before().isEmpty()) {
                return new DiffValue.Delete<>(batch);
            }
            throw new DecodeException("a batch can only be inserted or deleted with a unit value, got " + unit);
        }

        void finish() {
            if (slice != in.getDataLensCount() || offset != data.size()) {
                throw new DecodeException("field diffs used " + slice + " of " + in.getDataLensCount()
                        + " slices and " + offset + " of " + data.size() + " data bytes");
            }
        }

        private static <P extends Message> P parseSlice(Parser<P> parser, ByteString bytes) {
            try {
                return parser.parseFrom(bytes);
            } catch (InvalidProtocolBufferException e) {
                throw new DecodeException("corrupt slice: " + e.getMessage(), e);
            }
        }
    }

    // -------------------------------------------------------------------------------------------- rollups

    /**
     * Encodes the rollup of {@code state}, with the diffs it inlines (none for the initial rollup). Each batch is
     * written as its {@linkplain #ENCODED_BATCH memoized encoding}, so a rollup costs O(state) copying but encodes
     * only the batches no earlier rollup or diff encoded. The bytes are those of {@link #encodeRollupFromScratch}:
     * protobuf writes a message's fields in field-number order, and the trace (18) and the inlined diffs (19) are
     * followed only by the released parts (20), so the message without those three followed by them, each as its
     * fields' wire form, is the message.
     */
    public byte[] encodeRollup(State state, Optional<InlinedDiffs> diffs) {
        byte[] head = rollupWithoutTrace(state).build().toByteArray();
        Trace trace = state.collections().trace();
        StorageV1.Frontier since = frontier(trace.since());
        List<ByteString> batches = new ArrayList<>(trace.batches().size());
        int traceBytes = CodedOutputStream.computeMessageSize(StorageV1.Trace.SINCE_FIELD_NUMBER, since);
        for (HollowBatch batch : trace.batches()) {
            ByteString encoded = ENCODED_BATCH.of(batch);
            batches.add(encoded);
            // A message field and a bytes field share one wire form: tag, length, bytes.
            traceBytes += CodedOutputStream.computeBytesSize(StorageV1.Trace.BATCHES_FIELD_NUMBER, encoded);
        }
        Optional<StorageV1.InlinedDiffs> inlined = diffs.map(StateCodec::inlinedDiffs);
        byte[] tail = releasedParts(state, StorageV1.StateRollup.newBuilder()).build().toByteArray();
        long total = (long) head.length + CodedOutputStream.computeTagSize(StorageV1.StateRollup.TRACE_FIELD_NUMBER)
                + CodedOutputStream.computeUInt32SizeNoTag(traceBytes) + traceBytes
                + inlined.map(d -> CodedOutputStream.computeMessageSize(StorageV1.StateRollup.DIFFS_FIELD_NUMBER, d))
                        .orElse(0)
                + tail.length;
        if (traceBytes < 0 || total > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("the rollup of shard " + state.shardId() + " at " + state.seqno()
                    + " would exceed 2 GiB (" + total + " bytes)");
        }
        byte[] out = new byte[(int) total];
        CodedOutputStream w = CodedOutputStream.newInstance(out);
        try {
            w.writeRawBytes(head);
            w.writeTag(StorageV1.StateRollup.TRACE_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
            w.writeUInt32NoTag(traceBytes);
            w.writeMessage(StorageV1.Trace.SINCE_FIELD_NUMBER, since);
            for (ByteString encoded : batches) {
                w.writeBytes(StorageV1.Trace.BATCHES_FIELD_NUMBER, encoded);
            }
            if (inlined.isPresent()) {
                w.writeMessage(StorageV1.StateRollup.DIFFS_FIELD_NUMBER, inlined.get());
            }
            w.writeRawBytes(tail);
            w.checkNoSpaceLeft();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e); // an array sized exactly: only a bug can overflow it
        }
        return out;
    }

    /**
     * The rollup of {@code state} as one protobuf message built from scratch, every batch encoded afresh: the
     * reference that {@link #encodeRollup} must match byte for byte (and what rollups were before it).
     */
    byte[] encodeRollupFromScratch(State state, Optional<InlinedDiffs> diffs) {
        StorageV1.StateRollup.Builder b = rollupWithoutTrace(state).setTrace(trace(state.collections().trace()));
        diffs.ifPresent(d -> b.setDiffs(inlinedDiffs(d)));
        return releasedParts(state, b).build().toByteArray();
    }

    /** {@code b} with the released parts of {@code state}: the rollup's last field (20), after the trace and diffs. */
    private static StorageV1.StateRollup.Builder releasedParts(State state, StorageV1.StateRollup.Builder b) {
        state.collections().releasedParts().forEach((key, seqno) -> b.putReleasedParts(key.toString(), seqno.value()));
        return b;
    }

    /** Every field of the rollup of {@code state} but the trace, the inlined diffs and the released parts. */
    private static StorageV1.StateRollup.Builder rollupWithoutTrace(State state) {
        StateCollections c = state.collections();
        StorageV1.StateRollup.Builder b = StorageV1.StateRollup.newBuilder()
                .setShardId(state.shardId().toString())
                .setKeyCodec(state.codecs().key())
                .setValCodec(state.codecs().val())
                .setTsCodec(state.codecs().ts())
                .setDiffCodec(state.codecs().diff())
                .setSeqno(state.seqno().value())
                .setWalltimeMs(state.walltimeMs())
                .setHostname(state.hostname())
                .setApplierVersion(c.version().toString())
                .setLastGcReq(c.lastGcReq().value());
        c.rollups().forEach((seqno, rollup) -> b.putRollups(seqno.value(), rollup(rollup)));
        c.activeRollup().ifPresent(a -> b.setActiveRollup(active(a)));
        c.activeGc().ifPresent(a -> b.setActiveGc(active(a)));
        c.leasedReaders().forEach((id, r) -> b.putLeasedReaders(id.toString(), leasedReader(r)));
        c.criticalReaders().forEach((id, r) -> b.putCriticalReaders(id.toString(), criticalReader(r)));
        c.writers().forEach((id, w) -> b.putWriters(id.toString(), writer(w)));
        c.schemas().forEach((id, s) -> b.putSchemas(id.value(), schemas(s)));
        return b;
    }

    private static StorageV1.InlinedDiffs inlinedDiffs(InlinedDiffs d) {
        StorageV1.InlinedDiffs.Builder inlined = StorageV1.InlinedDiffs.newBuilder()
                .setLower(d.lower().value()).setUpper(d.upper().value());
        for (VersionedData v : d.diffs()) {
            inlined.addDiffs(StorageV1.VersionedData.newBuilder()
                    .setSeqno(v.seqno().value()).setData(ByteString.copyFrom(v.data())));
        }
        return inlined.build();
    }

    /**
     * Decodes a rollup of {@code shard}; fenced by its applier version. The inlined diffs, if any, must be exactly
     * those after the state's latest rollup up to its seqno.
     */
    public DecodedRollup decodeRollup(ShardId shard, byte[] data) {
        StorageV1.StateRollup proto = parse(StorageV1.StateRollup.parser(), data, "rollup", shard);
        Version version = checkRollup(shard, proto.getApplierVersion(), proto.getShardId(), proto.hasTrace());
        State state;
        Optional<InlinedDiffs> diffs = Optional.empty();
        try {
            Map<SeqNo, HollowRollup> rollups = new TreeMap<>();
            proto.getRollupsMap().forEach((seqno, r) -> rollups.put(SeqNo.of(seqno), rollup(r)));
            Map<LeasedReaderId, LeasedReaderState> leased = new TreeMap<>();
            proto.getLeasedReadersMap().forEach((id, r) -> leased.put(LeasedReaderId.parse(id), leasedReader(r)));
            Map<CriticalReaderId, CriticalReaderState> critical = new TreeMap<>();
            proto.getCriticalReadersMap().forEach((id, r) -> critical.put(CriticalReaderId.parse(id), criticalReader(r)));
            Map<WriterId, WriterState> writers = new TreeMap<>();
            proto.getWritersMap().forEach((id, w) -> writers.put(WriterId.parse(id), writer(w)));
            Map<SchemaId, EncodedSchemas> schemas = new TreeMap<>();
            proto.getSchemasMap().forEach((id, s) -> schemas.put(new SchemaId(id), schemas(s)));
            Map<PartialBatchKey, SeqNo> released = new TreeMap<>();
            proto.getReleasedPartsMap().forEach((key, seqno) -> released.put(PartialBatchKey.parse(key),
                    SeqNo.of(seqno)));
            StateCollections collections = StateCollections.of(version, SeqNo.of(proto.getLastGcReq()), rollups,
                    proto.hasActiveRollup() ? Optional.of(active(proto.getActiveRollup())) : Optional.empty(),
                    proto.hasActiveGc() ? Optional.of(active(proto.getActiveGc())) : Optional.empty(),
                    leased, critical, writers, schemas, released, trace(proto.getTrace()));
            state = new State(shard, SeqNo.of(proto.getSeqno()), proto.getWalltimeMs(), proto.getHostname(),
                    new Codecs(proto.getKeyCodec(), proto.getValCodec(), proto.getTsCodec(), proto.getDiffCodec()),
                    collections);
            if (proto.hasDiffs()) {
                StorageV1.InlinedDiffs d = proto.getDiffs();
                long expectedLower = state.latestRollup().getKey().value() + 1;
                long expectedUpper = state.seqno().value() + 1;
                if (d.getLower() != expectedLower || d.getUpper() != expectedUpper) {
                    throw new DecodeException("inlined diffs [" + d.getLower() + ", " + d.getUpper()
                            + ") do not run from the latest rollup to the state: expected [" + expectedLower + ", "
                            + expectedUpper + ")");
                }
                List<VersionedData> entries = new ArrayList<>(d.getDiffsCount());
                for (StorageV1.VersionedData v : d.getDiffsList()) {
                    entries.add(new VersionedData(SeqNo.of(v.getSeqno()), v.getData().toByteArray()));
                }
                diffs = Optional.of(new InlinedDiffs(SeqNo.of(d.getLower()), SeqNo.of(d.getUpper()), entries));
            }
        } catch (DecodeException e) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": " + e, e);
        }
        return new DecodedRollup(state, diffs);
    }

    /**
     * Of a rollup of {@code shard}, only its state's seqno and rollups: fenced by its applier version and checked to
     * be of this shard and to hold a trace, as {@link #decodeRollup}, but its other fields are skipped, not parsed.
     * The trace is most of a rollup, and garbage collection of a shard whose diffs delete no batch part needs nothing
     * else from it. A field of the wrong wire type is a {@link DecodeException}, as the generated parser's.
     */
    public RollupRollups decodeRollupRollups(ShardId shard, byte[] data) {
        CodedInputStream in = CodedInputStream.newInstance(data);
        String shardId = "";
        String applierVersion = "";
        long seqno = 0;
        boolean hasTrace = false;
        TreeMap<SeqNo, HollowRollup> rollups = new TreeMap<>();
        try {
            for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
                switch (WireFormat.getTagFieldNumber(tag)) {
                    case StorageV1.StateRollup.SHARD_ID_FIELD_NUMBER -> shardId = readString(in, tag);
                    case StorageV1.StateRollup.APPLIER_VERSION_FIELD_NUMBER -> applierVersion = readString(in, tag);
                    case StorageV1.StateRollup.SEQNO_FIELD_NUMBER -> {
                        expectWireType(tag, WireFormat.WIRETYPE_VARINT);
                        seqno = in.readUInt64();
                    }
                    case StorageV1.StateRollup.ROLLUPS_FIELD_NUMBER -> {
                        expectWireType(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                        readRollupEntry(in, rollups);
                    }
                    case StorageV1.StateRollup.TRACE_FIELD_NUMBER -> {
                        expectWireType(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                        hasTrace = true;
                        in.skipField(tag);
                    }
                    default -> in.skipField(tag);
                }
            }
        } catch (IOException e) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": " + e.getMessage(), e);
        } catch (DecodeException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": " + e, e);
        }
        checkRollup(shard, applierVersion, shardId, hasTrace);
        return new RollupRollups(SeqNo.of(seqno), rollups);
    }

    /**
     * What every decode of a rollup of {@code shard} checks first: its applier version (parsed, and fenced), that it
     * is of this shard, and that it holds a trace. Returns the applier version.
     */
    private Version checkRollup(ShardId shard, String applierVersion, String shardId, boolean hasTrace) {
        Version version;
        try {
            version = Version.parse(applierVersion);
        } catch (IllegalArgumentException e) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": " + e.getMessage(), e);
        }
        fence(shard, "a rollup", version);
        if (!shardId.equals(shard.toString())) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": the rollup belongs to shard " + shardId);
        }
        if (!hasTrace) {
            throw new DecodeException("corrupt rollup of shard " + shard + ": the rollup has no trace");
        }
        return version;
    }

    private static String readString(CodedInputStream in, int tag) throws IOException {
        expectWireType(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED);
        return in.readStringRequireUtf8();
    }

    private static void expectWireType(int tag, int wireType) throws InvalidProtocolBufferException {
        if (WireFormat.getTagWireType(tag) != wireType) {
            throw new InvalidProtocolBufferException("field " + WireFormat.getTagFieldNumber(tag) + " has wire type "
                    + WireFormat.getTagWireType(tag) + ", expected " + wireType);
        }
    }

    /** One entry of the {@code rollups} map (key 1: seqno, value 2: Rollup); a later entry of a key replaces it. */
    private static void readRollupEntry(CodedInputStream in, TreeMap<SeqNo, HollowRollup> rollups) throws IOException {
        int limit = in.pushLimit(in.readRawVarint32());
        long key = 0;
        StorageV1.Rollup value = StorageV1.Rollup.getDefaultInstance();
        for (int tag = in.readTag(); tag != 0; tag = in.readTag()) {
            switch (WireFormat.getTagFieldNumber(tag)) {
                case 1 -> {
                    expectWireType(tag, WireFormat.WIRETYPE_VARINT);
                    key = in.readUInt64();
                }
                case 2 -> {
                    expectWireType(tag, WireFormat.WIRETYPE_LENGTH_DELIMITED);
                    value = in.readMessage(StorageV1.Rollup.parser(), ExtensionRegistryLite.getEmptyRegistry());
                }
                default -> in.skipField(tag);
            }
        }
        in.popLimit(limit);
        rollups.put(SeqNo.of(key), rollup(value));
    }

    private static <P extends Message> P parse(Parser<P> parser, byte[] data, String what, ShardId shard) {
        try {
            return parser.parseFrom(data);
        } catch (InvalidProtocolBufferException e) {
            throw new DecodeException("corrupt " + what + " of shard " + shard + ": " + e.getMessage(), e);
        }
    }

    // ------------------------------------------------------------------------------------------ messages

    private static StorageV1.U64 u64(long value) {
        return StorageV1.U64.newBuilder().setValue(value).build();
    }

    private static StorageV1.Str str(String value) {
        return StorageV1.Str.newBuilder().setValue(value).build();
    }

    /** {@link Frontier#MIN}'s message, built once: most batches' since is MIN, and a built frontier allocates. */
    private static final StorageV1.Frontier MIN_FRONTIER = StorageV1.Frontier.newBuilder().addElements(0).build();

    static StorageV1.Frontier frontier(Frontier f) {
        if (f.isEmpty()) {
            return StorageV1.Frontier.getDefaultInstance();
        }
        long element = f.element();
        return element == 0 ? MIN_FRONTIER : StorageV1.Frontier.newBuilder().addElements(element).build();
    }

    static Frontier frontier(StorageV1.Frontier proto) {
        return switch (proto.getElementsCount()) {
            case 0 -> Frontier.EMPTY;
            case 1 -> Frontier.of(proto.getElements(0));
            default -> throw new DecodeException("a frontier of a total order has at most one element, got "
                    + proto.getElementsList());
        };
    }

    private static StorageV1.Desc desc(Description d) {
        return StorageV1.Desc.newBuilder().setLower(frontier(d.lower())).setUpper(frontier(d.upper()))
                .setSince(frontier(d.since())).build();
    }

    private static Description desc(StorageV1.Desc proto) {
        if (!proto.hasLower() || !proto.hasUpper() || !proto.hasSince()) {
            throw new DecodeException("a batch description needs lower, upper and since: " + proto);
        }
        return new Description(frontier(proto.getLower()), frontier(proto.getUpper()), frontier(proto.getSince()));
    }

    private static StorageV1.Debug debug(HandleDebug d) {
        return StorageV1.Debug.newBuilder().setHostname(d.hostname()).setPurpose(d.purpose()).build();
    }

    private static HandleDebug debug(StorageV1.Debug proto) {
        return new HandleDebug(proto.getHostname(), proto.getPurpose());
    }

    private static StorageV1.Rollup rollup(HollowRollup r) {
        StorageV1.Rollup.Builder b = StorageV1.Rollup.newBuilder().setKey(r.key().toString());
        r.encodedSizeBytes().ifPresent(b::setSizeBytes);
        return b.build();
    }

    private static HollowRollup rollup(StorageV1.Rollup proto) {
        return new HollowRollup(PartialRollupKey.parse(proto.getKey()),
                proto.hasSizeBytes() ? OptionalLong.of(proto.getSizeBytes()) : OptionalLong.empty());
    }

    private static StorageV1.Active active(ActiveMarker a) {
        return StorageV1.Active.newBuilder().setSeqno(a.seqno().value()).setStartMs(a.startMs()).build();
    }

    private static ActiveMarker active(StorageV1.Active proto) {
        return new ActiveMarker(SeqNo.of(proto.getSeqno()), proto.getStartMs());
    }

    private static StorageV1.LeasedReader leasedReader(LeasedReaderState r) {
        return StorageV1.LeasedReader.newBuilder().setSince(frontier(r.since())).setSeqno(r.seqno().value())
                .setHeartbeatMs(r.lastHeartbeatTimestampMs()).setLeaseMs(r.leaseDurationMs()).setDebug(debug(r.debug()))
                .build();
    }

    private static LeasedReaderState leasedReader(StorageV1.LeasedReader proto) {
        return new LeasedReaderState(SeqNo.of(proto.getSeqno()), frontier(proto.getSince()), proto.getHeartbeatMs(),
                proto.getLeaseMs(), debug(proto.getDebug()));
    }

    private static StorageV1.CriticalReader criticalReader(CriticalReaderState r) {
        return StorageV1.CriticalReader.newBuilder().setSince(frontier(r.since())).setOpaque(r.opaque())
                .setOpaqueCodec(r.opaqueCodec()).setDebug(debug(r.debug())).build();
    }

    private static CriticalReaderState criticalReader(StorageV1.CriticalReader proto) {
        return new CriticalReaderState(frontier(proto.getSince()), proto.getOpaque(), proto.getOpaqueCodec(),
                debug(proto.getDebug()));
    }

    private static StorageV1.Writer writer(WriterState w) {
        return StorageV1.Writer.newBuilder().setHeartbeatMs(w.lastHeartbeatTimestampMs()).setLeaseMs(w.leaseDurationMs())
                .setLastToken(w.mostRecentWriteToken().toString()).setLastUpper(frontier(w.mostRecentWriteUpper()))
                .setDebug(debug(w.debug())).build();
    }

    /** Migration (spec §6.4): no token is the sentinel, no upper is {@code {0}}. */
    private static WriterState writer(StorageV1.Writer proto) {
        IdempotencyToken token = proto.getLastToken().isEmpty()
                ? IdempotencyToken.SENTINEL : IdempotencyToken.parse(proto.getLastToken());
        Frontier upper = proto.hasLastUpper() ? frontier(proto.getLastUpper()) : Frontier.MIN;
        return new WriterState(proto.getHeartbeatMs(), proto.getLeaseMs(), token, upper, debug(proto.getDebug()));
    }

    private static StorageV1.Schemas schemas(EncodedSchemas s) {
        return StorageV1.Schemas.newBuilder().setKey(bytes(s.key())).setKeyType(bytes(s.keyDataType()))
                .setVal(bytes(s.val())).setValType(bytes(s.valDataType())).build();
    }

    private static EncodedSchemas schemas(StorageV1.Schemas proto) {
        return new EncodedSchemas(bytes(proto.getKey()), bytes(proto.getKeyType()), bytes(proto.getVal()),
                bytes(proto.getValType()));
    }

    private static ByteString bytes(Bytes b) {
        return b.isEmpty() ? ByteString.EMPTY : ByteString.copyFrom(b.toByteArray());
    }

    private static Bytes bytes(ByteString b) {
        return Bytes.wrap(b.toByteArray());
    }

    private static StorageV1.Part part(BatchPart part) {
        StorageV1.Part.Builder b = StorageV1.Part.newBuilder();
        if (part instanceof BatchPart.Hollow h) {
            b.setKey(h.key().toString()).setSizeBytes(h.encodedSizeBytes()).setKeyLower(bytes(h.keyLower()))
                    .setStats(bytes(h.stats()));
            h.diffsSum().ifPresent(b::setDiffsSum);
        } else if (part instanceof BatchPart.Inline i) {
            b.setInlineUpdates(bytes(i.updates()));
        }
        part.tsRewrite().ifPresent(t -> b.setTsRewrite(frontier(t)).setHasTsRewrite(true));
        part.schemaId().ifPresent(b::setSchemaId);
        return b.build();
    }

    private static BatchPart part(StorageV1.Part proto) {
        Optional<Frontier> tsRewrite = proto.getHasTsRewrite()
                ? Optional.of(frontier(proto.getTsRewrite())) : Optional.empty();
        OptionalLong schemaId = proto.hasSchemaId() ? OptionalLong.of(proto.getSchemaId()) : OptionalLong.empty();
        return switch (proto.getKindCase()) {
            case KEY -> new BatchPart.Hollow(PartialBatchKey.parse(proto.getKey()), proto.getSizeBytes(),
                    bytes(proto.getKeyLower()), tsRewrite,
                    proto.hasDiffsSum() ? OptionalLong.of(proto.getDiffsSum()) : OptionalLong.empty(), schemaId,
                    bytes(proto.getStats()));
            case INLINE_UPDATES -> new BatchPart.Inline(bytes(proto.getInlineUpdates()), tsRewrite, schemaId);
            case RUN_REF -> throw new DecodeException("run references (RunPart.Many) are not supported yet");
            default -> throw new DecodeException("a batch part is neither a key nor inline updates");
        };
    }

    private static StorageV1.RunMeta runMeta(RunMeta m) {
        StorageV1.RunMeta.Builder b = StorageV1.RunMeta.newBuilder().setOrder(m.order().ordinal());
        m.schemaId().ifPresent(b::setSchemaId);
        m.runId().ifPresent(id -> b.setRunId(id.toString()));
        m.len().ifPresent(b::setLen);
        m.meta().forEach((k, v) -> b.putMeta(k, bytes(v)));
        return b.build();
    }

    private static RunMeta runMeta(StorageV1.RunMeta proto) {
        RunMeta.Order[] orders = RunMeta.Order.values();
        if (proto.getOrder() < 0 || proto.getOrder() >= orders.length) {
            throw new DecodeException("unknown run order " + proto.getOrder());
        }
        Map<String, Bytes> meta = new TreeMap<>();
        proto.getMetaMap().forEach((k, v) -> meta.put(k, bytes(v)));
        return new RunMeta(orders[proto.getOrder()],
                proto.hasSchemaId() ? OptionalLong.of(proto.getSchemaId()) : OptionalLong.empty(),
                proto.getRunId().isEmpty() ? Optional.empty() : Optional.of(RunId.parse(proto.getRunId())),
                proto.hasLen() ? OptionalLong.of(proto.getLen()) : OptionalLong.empty(), new TreeMap<>(meta));
    }

    /**
     * The encoded {@code Batch} message of a batch, kept on the batch: a batch is encoded once, when a diff first
     * inserts it or a rollup first holds it, and every later rollup copies those bytes (a shard of 100,000 batches
     * otherwise re-encodes all of them at every rollup).
     */
    private static final HollowBatch.Memo<ByteString> ENCODED_BATCH =
            HollowBatch.Memo.declare(batch -> batch(batch).toByteString());

    /** Whether {@code batch} already holds its encoding (tests check that it is reused, not recomputed). */
    static boolean holdsEncoding(HollowBatch batch) {
        return ENCODED_BATCH.isDerived(batch);
    }

    private static StorageV1.Batch batch(HollowBatch batch) {
        StorageV1.Batch.Builder b = StorageV1.Batch.newBuilder().setDesc(desc(batch.desc())).setLen(batch.len());
        for (BatchPart part : batch.parts()) {
            b.addParts(part(part));
        }
        for (int split : batch.runSplits()) {
            b.addRunSplits(split);
        }
        for (RunMeta meta : batch.runMeta()) {
            b.addRunMeta(runMeta(meta));
        }
        return b.build();
    }

    private static HollowBatch batch(StorageV1.Batch proto) {
        List<BatchPart> parts = new ArrayList<>(proto.getPartsCount());
        for (StorageV1.Part p : proto.getPartsList()) {
            parts.add(part(p));
        }
        List<Integer> splits = new ArrayList<>(proto.getRunSplitsCount());
        for (long split : proto.getRunSplitsList()) {
            if (split > Integer.MAX_VALUE) {
                throw new DecodeException("run split " + split + " out of range");
            }
            splits.add((int) split);
        }
        List<RunMeta> meta = new ArrayList<>(proto.getRunMetaCount());
        for (StorageV1.RunMeta m : proto.getRunMetaList()) {
            meta.add(runMeta(m));
        }
        return new HollowBatch(desc(proto.getDesc()), proto.getLen(), parts, splits, meta);
    }

    private static StorageV1.Trace trace(Trace trace) {
        StorageV1.Trace.Builder b = StorageV1.Trace.newBuilder().setSince(frontier(trace.since()));
        for (HollowBatch batch : trace.batches()) {
            b.addBatches(batch(batch));
        }
        return b.build();
    }

    private static Trace trace(StorageV1.Trace proto) {
        if (!proto.hasSince()) {
            throw new DecodeException("the trace has no since");
        }
        List<HollowBatch> batches = new ArrayList<>(proto.getBatchesCount());
        for (StorageV1.Batch b : proto.getBatchesList()) {
            batches.add(batch(b));
        }
        return new Trace(frontier(proto.getSince()), batches);
    }
}
