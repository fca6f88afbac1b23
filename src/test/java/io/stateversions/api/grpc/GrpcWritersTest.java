package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.ExpireWriterRequest;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.HeartbeatWriterRequest;
import io.stateversions.api.grpc.v1.MergeRequest;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RegisterWriterResponse;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.SnapshotRequest;
import io.stateversions.api.grpc.v1.SnapshotResponse;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.ShardId;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** RegisterWriter, HeartbeatWriter, ExpireWriter, CompareAndAppend and Snapshot over gRPC. */
@QuarkusTest
class GrpcWritersTest extends GrpcTestSupport {

    @Test
    void registerWriterRegistersOrHeartbeats() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        RegisterWriterResponse registered = client.registerWriter(writer(shard, writer)
                .setLeaseDurationMs(90_000).build());
        assertThat(registered.getSeqno()).isEqualTo(2);
        assertThat(registered.getWriterId()).isEqualTo(writer.toString());
        assertThat(registered.getUpper()).isEqualTo(frontier(0));
        assertThat(registered.getLeaseDurationMs()).isEqualTo(90_000);

        RegisterWriterResponse again = client.registerWriter(writer(shard, writer).build());
        assertThat(again.getWriterId()).isEqualTo(writer.toString());
        assertThat(again.getLeaseDurationMs()).isPositive();
        assertThat(state(shard).getWritersList()).singleElement()
                .satisfies(w -> assertThat(w.getPurpose()).isEqualTo("writer test"));
    }

    @Test
    void registerWriterRejectsBadInputAndCommitsNothing() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        assertInvalidArgument(() -> client.registerWriter(writer(shard, writer)
                .setWriterId(LeasedReaderId.random().toString()).build()), "invalid_id");
        assertInvalidArgument(() -> client.registerWriter(writer(shard, writer).setWriterId("").build()),
                "invalid_id");
        assertInvalidArgument(() -> client.registerWriter(writer(shard, writer).setPurpose("p".repeat(1025)).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerWriter(writer(shard, writer).setLeaseDurationMs(0).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerWriter(writer(shard, writer).setLeaseDurationMs(TOO_LARGE)
                .build()), "invalid_request");
        assertThat(seqno(shard)).isEqualTo(1);
        assertError(() -> client.registerWriter(writer(ShardId.random(), writer).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void heartbeatAndExpireWriter() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        client.registerWriter(writer(shard, writer).build());
        assertThat(client.heartbeatWriter(heartbeat(shard, writer.toString())).getSeqno()).isGreaterThanOrEqualTo(2);
        assertError(() -> client.heartbeatWriter(heartbeat(shard, WriterId.random().toString())),
                Status.Code.NOT_FOUND, "writer_expired");
        assertInvalidArgument(() -> client.heartbeatWriter(heartbeat(shard, "w")), "invalid_id");

        ExpireWriterRequest expire = ExpireWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).build();
        long expired = client.expireWriter(expire).getSeqno();
        assertThat(state(shard).getWritersList()).isEmpty();
        assertThat(client.expireWriter(expire).getSeqno()).isGreaterThanOrEqualTo(expired);
        assertError(() -> client.heartbeatWriter(heartbeat(shard, writer.toString())),
                Status.Code.NOT_FOUND, "writer_expired");
        assertError(() -> client.expireWriter(expire.toBuilder().setShardId(ShardId.random().toString()).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void appendAdvancesTheUpperAndRegistersTheWriter() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        CompareAndAppendResponse appended = appendOk(shard, writer, 0, 5);
        assertThat(appended.getSeqno()).isEqualTo(2);
        assertThat(appended.getUpper()).isEqualTo(frontier(5));
        assertThat(appended.getAlreadyCommitted()).isFalse();
        assertThat(appended.getMergeRequestsList()).isEmpty();

        ShardState state = state(shard);
        assertThat(state.getUpper()).isEqualTo(frontier(5));
        assertThat(state.getWritersList()).extracting(w -> w.getWriterId()).containsExactly(writer.toString());
    }

    @Test
    void retryingACommittedAppendWithTheSameTokenIsAlreadyCommitted() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        CompareAndAppendRequest request = append(shard, writer, 0, 5).build();
        CompareAndAppendResponse first = client.compareAndAppend(request);
        assertThat(first.getAlreadyCommitted()).isFalse();

        CompareAndAppendResponse retry = client.compareAndAppend(request);
        assertThat(retry.getAlreadyCommitted()).isTrue();
        assertThat(retry.getUpper()).isEqualTo(frontier(5));
        assertThat(retry.getSeqno()).isEqualTo(first.getSeqno());
        ShardState state = state(shard);
        assertThat(state.getSeqno()).isEqualTo(first.getSeqno());
        assertThat(state.getBatchesList()).hasSize(1);
    }

    @Test
    void appendAtTheWrongLowerIsUpperMismatch() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        long before = seqno(shard);

        ErrorInfo sameWriter = assertError(() -> client.compareAndAppend(append(shard, writer, 0, 5).build()),
                Status.Code.FAILED_PRECONDITION, "upper_mismatch");
        assertMembers(sameWriter, Map.of("currentUpper", "[5]", "writerUpper", "[5]"));

        ErrorInfo otherWriter = assertError(() -> client.compareAndAppend(append(shard, WriterId.random(), 3, 8)
                .build()), Status.Code.FAILED_PRECONDITION, "upper_mismatch");
        assertMembers(otherWriter, Map.of("currentUpper", "[5]", "writerUpper", "[0]"));
        assertThat(seqno(shard)).isEqualTo(before);
    }

    @Test
    void appendWithBadBoundsOrAnEmptyIntervalWithParts() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        long before = seqno(shard);

        assertInvalidArgument(() -> client.compareAndAppend(append(shard, writer, 5, 3).build()), "invalid_bounds");
        assertInvalidArgument(() -> client.compareAndAppend(append(shard, writer, 5, 5).build()),
                "invalid_empty_time_interval");
        assertThat(seqno(shard)).isEqualTo(before);

        CompareAndAppendResponse empty = client.compareAndAppend(append(shard, writer, 5, 5)
                .clearParts().setLen(0).build());
        assertThat(empty.getUpper()).isEqualTo(frontier(5));
        assertThat(state(shard).getBatchesList()).hasSize(1);
    }

    @Test
    void inlinePartsArePushedBackAtTheCap() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        CompareAndAppendResponse first = client.compareAndAppend(append(shard, writer, 0, 1)
                .clearParts().addParts(inlinePart(700 * 1024)).build());
        assertThat(first.getUpper()).isEqualTo(frontier(1));
        assertThat(state(shard).getStats().getInlineBytes()).isEqualTo(700 * 1024);
        assertThat(state(shard).getBatches(0).getParts(0).getInline().size()).isEqualTo(700 * 1024);

        assertError(() -> client.compareAndAppend(append(shard, writer, 1, 2).clearParts()
                .addParts(inlinePart(400 * 1024)).build()), Status.Code.RESOURCE_EXHAUSTED, "inline_backpressure");
        assertThat(seqno(shard)).isEqualTo(first.getSeqno());
        ShardId other = openShard();
        assertInvalidArgument(() -> client.compareAndAppend(append(other, writer, 0, 1).clearParts()
                .addParts(inlinePart(1024 * 1024 + 1)).build()), "invalid_request");
        assertThat(seqno(other)).isEqualTo(1);

        CompareAndAppendResponse blob = appendOk(shard, writer, 1, 2);
        assertThat(blob.getUpper()).isEqualTo(frontier(2));
    }

    @Test
    void appendRejectsMalformedRequestsAndCommitsNothing() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        ShardState before = state(shard);

        List<UnaryOperator<CompareAndAppendRequest.Builder>> badIds = List.of(
                r -> r.setShardId("s"),
                r -> r.setWriterId(""),
                r -> r.setWriterId(LeasedReaderId.random().toString()),
                r -> r.setIdempotencyToken(""),
                r -> r.setIdempotencyToken(WriterId.random().toString()));
        for (UnaryOperator<CompareAndAppendRequest.Builder> bad : badIds) {
            assertInvalidArgument(() -> client.compareAndAppend(bad.apply(append(shard, writer, 5, 10)).build()),
                    "invalid_id");
        }
        List<UnaryOperator<CompareAndAppendRequest.Builder>> badFields = List.of(
                r -> r.clearLower(),
                r -> r.clearUpper(),
                r -> r.setUpper(frontier(TOO_LARGE)),
                r -> r.setLower(Frontier.newBuilder().addElements(5).addElements(6).build()),
                r -> r.setSince(Frontier.newBuilder().addElements(0).addElements(1).build()),
                r -> r.setSince(frontier(TOO_LARGE)),
                r -> r.setLen(TOO_LARGE),
                r -> r.addParts(Part.getDefaultInstance()),
                r -> r.addParts(Part.newBuilder().setBlob(BlobPart.newBuilder().setKey("nope"))),
                r -> r.addParts(Part.newBuilder().setBlob(BlobPart.newBuilder().setKey(""))),
                r -> r.addParts(Part.newBuilder().setBlob(BlobPart.newBuilder()
                        .setKey(writer + "/p" + java.util.UUID.randomUUID()).setEncodedSizeBytes(TOO_LARGE))),
                r -> r.addRunSplits(0),
                r -> r.addRunSplits(1),
                r -> r.addParts(blobPart(writer, 1)).addRunSplits(1).addRunSplits(1),
                r -> r.addRunSplits(-1),
                r -> r.addParts(Part.newBuilder().setBlob(BlobPart.newBuilder().setEncodedSizeBytes(1)
                        .setKey(writer + "/p" + java.util.UUID.randomUUID().toString().toUpperCase()))),
                r -> r.addParts(Part.newBuilder().setBlob(blobPart(writer, 1).getBlob().toBuilder()
                        .setKeyLower(com.google.protobuf.ByteString.copyFrom(new byte[1025])))),
                r -> r.addParts(Part.newBuilder().setBlob(blobPart(writer, 1).getBlob().toBuilder()
                        .setStats(com.google.protobuf.ByteString.copyFrom(new byte[4097])))),
                r -> {
                    Part twice = blobPart(writer, 1);
                    return r.addParts(twice).addParts(twice);
                });
        for (UnaryOperator<CompareAndAppendRequest.Builder> bad : badFields) {
            assertInvalidArgument(() -> client.compareAndAppend(bad.apply(append(shard, writer, 5, 10)).build()),
                    "invalid_request");
        }
        assertThat(state(shard)).isEqualTo(before);

        CompareAndAppendResponse runs = client.compareAndAppend(append(shard, writer, 5, 10)
                .addParts(blobPart(writer, 7)).addRunSplits(1).setSince(frontier(0)).build());
        assertThat(runs.getUpper()).isEqualTo(frontier(10));
        assertThat(state(shard).getBatches(1).getRunSplitsList()).containsExactly(1);
    }

    /** The append that completes a chunk of equal batches answers with its merge request (and only it does). */
    @Test
    void appendsOfEqualSizeAskForAMerge() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        int chunk = Trace.MAX_MERGE_INPUTS;
        for (int i = 0; i < chunk - 1; i++) {
            assertThat(appendOk(shard, writer, 5L * i, 5L * (i + 1)).getMergeRequestsList()).isEmpty();
        }
        CompareAndAppendResponse last = appendOk(shard, writer, 5L * (chunk - 1), 5L * chunk);
        assertThat(last.getMergeRequestsList()).singleElement().satisfies((MergeRequest m) -> {
            assertThat(m.getId()).isEqualTo("0-" + 5 * chunk);
            assertThat(m.getLower()).isEqualTo(frontier(0));
            assertThat(m.getUpper()).isEqualTo(frontier(5L * chunk));
            assertThat(m.getSince()).isEqualTo(frontier(0));
            assertThat(m.getInputsList()).hasSize(chunk);
        });
        assertThat(appendOk(shard, writer, 5L * chunk, 5L * chunk + 5).getMergeRequestsList()).isEmpty();
    }

    @Test
    void appendToAnUnknownShard() {
        assertError(() -> client.compareAndAppend(append(ShardId.random(), WriterId.random(), 0, 1).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void snapshotReturnsTheBatchesAsOfATime() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        appendOk(shard, writer, 5, 10);
        long seqno = seqno(shard);

        SnapshotResponse at4 = client.snapshot(snapshot(shard, 4));
        assertThat(at4.getSeqno()).isEqualTo(seqno);
        assertThat(at4.getAsOf()).isEqualTo(4);
        assertThat(at4.getSince()).isEqualTo(frontier(0));
        assertThat(at4.getUpper()).isEqualTo(frontier(10));
        assertThat(at4.getBatchesList()).extracting(b -> b.getLower()).containsExactly(frontier(0));
        assertThat(client.snapshot(snapshot(shard, 5)).getBatchesList()).hasSize(2);
        assertThat(client.snapshot(snapshot(shard, 9)).getBatchesList()).hasSize(2);

        ErrorInfo notYet = assertError(() -> client.snapshot(snapshot(shard, 10)),
                Status.Code.FAILED_PRECONDITION, "as_of_not_available");
        assertMembers(notYet, Map.of("since", "[0]", "upper", "[10]"));

        String reader = client.registerLeasedReader(RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("snapshot").build()).getReaderId();
        client.downgradeSince(DowngradeSinceRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader)
                .setSince(frontier(3)).build());
        ErrorInfo before = assertError(() -> client.snapshot(snapshot(shard, 2)),
                Status.Code.FAILED_PRECONDITION, "as_of_before_since");
        assertMembers(before, Map.of("since", "[3]", "upper", "[10]"));
        assertThat(client.snapshot(snapshot(shard, 3)).getBatchesList()).hasSize(1);

        assertInvalidArgument(() -> client.snapshot(snapshot(shard, TOO_LARGE)), "invalid_request");
        assertInvalidArgument(() -> client.snapshot(snapshot(shard, 1).toBuilder().setShardId("x").build()),
                "invalid_id");
        assertError(() -> client.snapshot(snapshot(ShardId.random(), 0)), Status.Code.NOT_FOUND, "shard_not_found");
    }

    private static RegisterWriterRequest.Builder writer(ShardId shard, WriterId writer) {
        return RegisterWriterRequest.newBuilder().setShardId(shard.toString()).setWriterId(writer.toString())
                .setPurpose("writer test");
    }

    private static HeartbeatWriterRequest heartbeat(ShardId shard, String writer) {
        return HeartbeatWriterRequest.newBuilder().setShardId(shard.toString()).setWriterId(writer).build();
    }

    private static SnapshotRequest snapshot(ShardId shard, long asOf) {
        return SnapshotRequest.newBuilder().setShardId(shard.toString()).setAsOf(asOf).build();
    }
}
