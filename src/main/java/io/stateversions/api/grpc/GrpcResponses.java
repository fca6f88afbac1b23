package io.stateversions.api.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.google.protobuf.ByteString;
import com.google.protobuf.ListValue;
import com.google.protobuf.NullValue;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.stateversions.api.ShardApi;
import io.stateversions.api.grpc.v1.ApplyMergeResult;
import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.Change;
import io.stateversions.api.grpc.v1.ChangeOp;
import io.stateversions.api.grpc.v1.Codecs;
import io.stateversions.api.grpc.v1.CriticalReader;
import io.stateversions.api.grpc.v1.Diff;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.LeasedReader;
import io.stateversions.api.grpc.v1.MergeRequest;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.Rollup;
import io.stateversions.api.grpc.v1.Schema;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.ShardStats;
import io.stateversions.api.grpc.v1.ShardSummary;
import io.stateversions.api.grpc.v1.Writer;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterState;
import java.util.Map;

/** Domain values to response messages: the JSON shapes of api.md, field for field. */
final class GrpcResponses {

    /** The largest magnitude of an integer a double (google.protobuf.Value's number) holds exactly. */
    private static final long MAX_EXACT_DOUBLE_INTEGER = 1L << 53;

    private GrpcResponses() {}

    /** The message of the frontier {@code [0]}, built once: it is every since that was never advanced. */
    private static final Frontier MIN_FRONTIER = Frontier.newBuilder().addElements(0).build();

    static Frontier frontier(io.stateversions.core.Frontier frontier) {
        if (frontier.isEmpty()) {
            return Frontier.getDefaultInstance();
        }
        long element = frontier.element();
        return element == 0 ? MIN_FRONTIER : Frontier.newBuilder().addElements(element).build();
    }

    static Codecs codecs(io.stateversions.core.Codecs codecs) {
        return Codecs.newBuilder()
                .setKeyCodec(codecs.key())
                .setValCodec(codecs.val())
                .setTsCodec(codecs.ts())
                .setDiffCodec(codecs.diff())
                .build();
    }

    /**
     * The earliest live version as far as the state knows it: the seqno of its first rollup, since there is always
     * a rollup at the earliest live version and GC removes the rollups below it from state right after truncating.
     */
    static long earliestSeqno(State state) {
        return io.stateversions.api.ShardApi.earliestSeqno(state).value();
    }

    static ShardSummary summary(State state) {
        return ShardSummary.newBuilder()
                .setShardId(state.shardId().toString())
                .setSeqno(state.seqno().value())
                .setSeqnoSince(state.seqnoSince().value())
                .setEarliestSeqno(earliestSeqno(state))
                .setSince(frontier(state.since()))
                .setUpper(frontier(state.upper()))
                .setCodecs(codecs(state.codecs()))
                .setTombstone(state.isTombstone())
                .build();
    }

    static ShardState state(State state) {
        StateCollections c = state.collections();
        ShardState.Builder proto = ShardState.newBuilder()
                .setShardId(state.shardId().toString())
                .setSeqno(state.seqno().value())
                .setSeqnoSince(state.seqnoSince().value())
                .setEarliestSeqno(earliestSeqno(state))
                .setSince(frontier(state.since()))
                .setUpper(frontier(state.upper()))
                .setCodecs(codecs(state.codecs()))
                .setTombstone(state.isTombstone())
                .setWalltimeMs(state.walltimeMs())
                .setHostname(state.hostname())
                .setApplierVersion(c.version().toString())
                .setLastGcReq(c.lastGcReq().value());
        for (Map.Entry<SeqNo, HollowRollup> rollup : c.rollups().entrySet()) {
            proto.addRollups(rollup(rollup.getKey(), rollup.getValue()));
        }
        for (Map.Entry<LeasedReaderId, LeasedReaderState> entry : c.leasedReaders().entrySet()) {
            LeasedReaderState reader = entry.getValue();
            proto.addLeasedReaders(LeasedReader.newBuilder()
                    .setReaderId(entry.getKey().toString())
                    .setSeqno(reader.seqno().value())
                    .setSince(frontier(reader.since()))
                    .setLastHeartbeatMs(reader.lastHeartbeatTimestampMs())
                    .setLeaseDurationMs(reader.leaseDurationMs())
                    .setPurpose(reader.debug().purpose()));
        }
        for (Map.Entry<CriticalReaderId, CriticalReaderState> entry : c.criticalReaders().entrySet()) {
            CriticalReaderState reader = entry.getValue();
            proto.addCriticalReaders(CriticalReader.newBuilder()
                    .setReaderId(entry.getKey().toString())
                    .setSince(frontier(reader.since()))
                    .setOpaque(reader.opaque())
                    .setOpaqueCodec(reader.opaqueCodec())
                    .setPurpose(reader.debug().purpose()));
        }
        for (Map.Entry<WriterId, WriterState> entry : c.writers().entrySet()) {
            WriterState writer = entry.getValue();
            proto.addWriters(Writer.newBuilder()
                    .setWriterId(entry.getKey().toString())
                    .setLastHeartbeatMs(writer.lastHeartbeatTimestampMs())
                    .setLeaseDurationMs(writer.leaseDurationMs())
                    .setMostRecentWriteToken(writer.mostRecentWriteToken().toString())
                    .setMostRecentWriteUpper(frontier(writer.mostRecentWriteUpper()))
                    .setPurpose(writer.debug().purpose()));
        }
        for (Map.Entry<SchemaId, EncodedSchemas> entry : c.schemas().entrySet()) {
            proto.addSchemas(Schema.newBuilder()
                    .setSchemaId(entry.getKey().value())
                    .setKeySchema(bytes(entry.getValue().key()))
                    .setValSchema(bytes(entry.getValue().val())));
        }
        for (HollowBatch batch : c.trace().batches()) {
            proto.addBatches(batch(batch));
        }
        io.stateversions.core.ShardStats stats = state.stats();
        proto.setStats(ShardStats.newBuilder()
                .setBatchCount(stats.batchCount())
                .setPartCount(stats.partCount())
                .setUpdateCount(stats.updateCount())
                .setInlineParts(stats.inlinePartCount())
                .setInlineBytes(stats.inlineBytes())
                .setBatchBytes(stats.batchBytes())
                .setRollupBytes(stats.rollupBytes()));
        return proto.build();
    }

    static Rollup rollup(SeqNo seqno, HollowRollup rollup) {
        Rollup.Builder proto = Rollup.newBuilder().setSeqno(seqno.value()).setKey(rollup.key().toString());
        rollup.encodedSizeBytes().ifPresent(proto::setEncodedSizeBytes);
        return proto.build();
    }

    /**
     * A batch's message, built for each answer that holds the batch (appends answer with the merge requests they
     * formed, snapshots and states with every batch) and not kept with it. Keeping one per batch, even softly, cost
     * more than it saved: the messages (about 800 bytes a batch, three protobuf frontiers each) doubled the heap of
     * every cached batch, and soft references live until the heap runs short, so the collector's concurrent marking
     * ran almost back to back and took a core from the appends (P4's p99 at half of peak: 63 ms, its worst 100-ms
     * slices during marking). Building one costs a few hundred nanoseconds, garbage that dies young.
     */
    static Batch batch(HollowBatch batch) {
        Batch.Builder proto = Batch.newBuilder()
                .setLower(frontier(batch.desc().lower()))
                .setUpper(frontier(batch.desc().upper()))
                .setSince(frontier(batch.desc().since()))
                .setLen(batch.len())
                .addAllRunSplits(batch.runSplits());
        for (BatchPart part : batch.parts()) {
            proto.addParts(part(part));
        }
        return proto.build();
    }

    private static Part part(BatchPart part) {
        if (part instanceof BatchPart.Hollow hollow) {
            return Part.newBuilder().setBlob(BlobPart.newBuilder()
                    .setKey(hollow.key().toString())
                    .setEncodedSizeBytes(hollow.encodedSizeBytes())
                    .setKeyLower(bytes(hollow.keyLower()))
                    .setStats(bytes(hollow.stats()))).build();
        }
        return Part.newBuilder().setInline(bytes(((BatchPart.Inline) part).updates())).build();
    }

    static MergeRequest mergeRequest(FueledMergeReq request) {
        MergeRequest.Builder proto = MergeRequest.newBuilder()
                .setId(request.id())
                .setLower(frontier(request.desc().lower()))
                .setUpper(frontier(request.desc().upper()))
                .setSince(frontier(request.desc().since()));
        for (HollowBatch input : request.inputs()) {
            proto.addInputs(batch(input));
        }
        return proto.build();
    }

    static ApplyMergeResult applyMergeResult(io.stateversions.core.ApplyMergeResult result) {
        return switch (result) {
            case APPLIED_EXACT -> ApplyMergeResult.APPLY_MERGE_RESULT_APPLIED_EXACT;
            case NOT_APPLIED_NO_MATCH -> ApplyMergeResult.APPLY_MERGE_RESULT_NOT_APPLIED_NO_MATCH;
            case NOT_APPLIED_INVALID_SINCE -> ApplyMergeResult.APPLY_MERGE_RESULT_NOT_APPLIED_INVALID_SINCE;
            case NOT_APPLIED_TOO_MANY_UPDATES -> ApplyMergeResult.APPLY_MERGE_RESULT_NOT_APPLIED_TOO_MANY_UPDATES;
        };
    }

    static Diff diff(ShardApi.DiffView diff) {
        Diff.Builder proto = Diff.newBuilder()
                .setSeqnoFrom(diff.seqnoFrom().value())
                .setSeqnoTo(diff.seqnoTo().value())
                .setWalltimeMs(diff.walltimeMs())
                .setLatestRollupKey(diff.latestRollupKey().toString());
        for (ShardApi.Change change : diff.changes()) {
            Change.Builder c = Change.newBuilder().setField(change.field()).setOp(changeOp(change.op()));
            // JSON null (or Java null) is "none" here: an insert has no old value, a plain field no key.
            if (change.key() != null && !change.key().isNull()) {
                c.setKey(value(change.key()));
            }
            if (change.old() != null && !change.old().isNull()) {
                c.setOld(value(change.old()));
            }
            if (change.neu() != null && !change.neu().isNull()) {
                c.setNew(value(change.neu()));
            }
            proto.addChanges(c);
        }
        return proto.build();
    }

    private static ChangeOp changeOp(String op) {
        return switch (op) {
            case "insert" -> ChangeOp.CHANGE_OP_INSERT;
            case "update" -> ChangeOp.CHANGE_OP_UPDATE;
            case "delete" -> ChangeOp.CHANGE_OP_DELETE;
            default -> throw new IllegalStateException("unknown diff change op \"" + op + "\" (not in api.md)");
        };
    }

    /**
     * JSON as google.protobuf.Value. Its numbers are doubles, so an integer beyond {@code +-2^53} (a timestamp or an
     * opaque token can be) becomes a string of its decimal digits rather than a rounded number.
     */
    static Value value(JsonNode node) {
        if (node.isNull() || node.isMissingNode()) {
            return Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build();
        }
        if (node.isBoolean()) {
            return Value.newBuilder().setBoolValue(node.booleanValue()).build();
        }
        if (node.isIntegralNumber()) {
            boolean exact = node.canConvertToLong() && Math.abs(node.longValue()) <= MAX_EXACT_DOUBLE_INTEGER;
            return exact ? Value.newBuilder().setNumberValue(node.longValue()).build()
                    : Value.newBuilder().setStringValue(node.asText()).build();
        }
        if (node.isNumber()) {
            return Value.newBuilder().setNumberValue(node.doubleValue()).build();
        }
        if (node.isArray()) {
            ListValue.Builder list = ListValue.newBuilder();
            for (JsonNode element : node) {
                list.addValues(value(element));
            }
            return Value.newBuilder().setListValue(list).build();
        }
        if (node.isObject()) {
            Struct.Builder struct = Struct.newBuilder();
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                struct.putFields(field.getKey(), value(field.getValue()));
            }
            return Value.newBuilder().setStructValue(struct).build();
        }
        return Value.newBuilder().setStringValue(node.asText()).build(); // text, and binary as base64
    }

    static ByteString bytes(Bytes bytes) {
        return bytes.isEmpty() ? ByteString.EMPTY : ByteString.copyFrom(bytes.toByteArray());
    }
}
