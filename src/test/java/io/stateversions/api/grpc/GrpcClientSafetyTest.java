package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.ApplyMergeResRequest;
import io.stateversions.api.grpc.v1.ApplyMergeResult;
import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceRequest;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceResponse;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.ListMergeRequestsRequest;
import io.stateversions.api.grpc.v1.MergeRequest;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderRequest;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderResponse;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.SnapshotRequest;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client-safety guarantees of API 1.1 over gRPC (the leaked-blob sweep's floor is in GrpcLifecycleTest). */
@QuarkusTest
class GrpcClientSafetyTest extends GrpcTestSupport {

    @Test
    void aStaleMergeResultIsNotAppliedAndCommitsNothing() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) { // one chunk of the merge policy: one merge request
            appendOk(shard, writer, i, i + 1);
        }
        MergeRequest request = client.listMergeRequests(ListMergeRequestsRequest.newBuilder()
                .setShardId(shard.toString()).build()).getMergeRequests(0);
        Batch output = Batch.newBuilder().setLower(request.getLower()).setUpper(request.getUpper())
                .setSince(request.getSince()).setLen(2).addParts(blobPart(writer, 150)).build();
        Batch reusing = output.toBuilder().clearParts().addParts(request.getInputs(0).getParts(0)).build();
        ApplyMergeResRequest merge = ApplyMergeResRequest.newBuilder().setShardId(shard.toString())
                .setId(request.getId()).addAllInputs(request.getInputsList()).setOutput(output).build();

        assertThat(client.applyMergeRes(merge).getResult())
                .isEqualTo(ApplyMergeResult.APPLY_MERGE_RESULT_APPLIED_EXACT);
        long seqno = seqno(shard);
        for (ApplyMergeResRequest late : java.util.List.of(merge, merge.toBuilder().setOutput(reusing).build())) {
            var result = client.applyMergeRes(late);
            assertThat(result.getResult()).isEqualTo(ApplyMergeResult.APPLY_MERGE_RESULT_NOT_APPLIED_NO_MATCH);
            assertThat(result.getSeqno()).isEqualTo(seqno);
        }
        assertThat(state(shard).getBatchesList()).containsExactly(output);
    }

    @Test
    void aWriterLeaseBelowTheMinimumIsRefusedAtRegistrationAndOnAnAppend() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        ErrorInfo registering = assertError(() -> client.registerWriter(RegisterWriterRequest.newBuilder()
                .setShardId(shard.toString()).setWriterId(writer.toString()).setPurpose("w")
                .setLeaseDurationMs(59_999).build()), Status.Code.INVALID_ARGUMENT, "invalid_request");
        assertMembers(registering, Map.of("minLeaseDurationMs", "60000"));
        CompareAndAppendRequest append = append(shard, writer, 0, 1).setLeaseDurationMs(1_000).build();
        assertInvalidArgument(() -> client.compareAndAppend(append), "invalid_request");
        assertThat(seqno(shard)).isEqualTo(1);

        assertThat(client.compareAndAppend(append.toBuilder().setLeaseDurationMs(120_000).build()).getUpper())
                .isEqualTo(frontier(1));
        assertThat(state(shard).getWriters(0).getLeaseDurationMs()).isEqualTo(120_000);
    }

    @Test
    void anIdempotencyTokenReusedForAnotherBatchIsFailedPrecondition() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        String token = IdempotencyToken.random().toString();
        CompareAndAppendRequest first = append(shard, writer, 0, 1).setIdempotencyToken(token).build();
        client.compareAndAppend(first);
        long seqno = seqno(shard);

        ErrorInfo reused = assertError(() -> client.compareAndAppend(append(shard, writer, 1, 2)
                .setIdempotencyToken(token).build()), Status.Code.FAILED_PRECONDITION, "idempotency_token_reused");
        // Members travel as JSON values.
        assertMembers(reused, Map.of("writerId", "\"" + writer + "\"", "idempotencyToken", "\"" + token + "\""));
        assertThat(seqno(shard)).isEqualTo(seqno);
        assertThat(client.compareAndAppend(first).getAlreadyCommitted()).isTrue();
    }

    @Test
    void aResentCompareAndDowngradeThatAppliedAnswersAsItDid() {
        ShardId shard = openShard();
        CriticalReaderId reader = CriticalReaderId.random();
        client.registerCriticalReader(RegisterCriticalReaderRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader.toString()).setPurpose("c").setOpaqueCodec("u64").build());
        CompareAndDowngradeSinceRequest cads = CompareAndDowngradeSinceRequest.newBuilder()
                .setShardId(shard.toString()).setReaderId(reader.toString()).setExpectedOpaque(0).setNewOpaque(1)
                .setSince(frontier(5)).build();
        CompareAndDowngradeSinceResponse first = client.compareAndDowngradeSince(cads);

        CompareAndDowngradeSinceResponse resent = client.compareAndDowngradeSince(cads);
        assertThat(resent.getSeqno()).isEqualTo(first.getSeqno());
        assertThat(resent.getSince()).isEqualTo(frontier(5));
        assertThat(resent.getOpaque()).isEqualTo(1);
        assertError(() -> client.compareAndDowngradeSince(cads.toBuilder().setSince(frontier(6)).build()),
                Status.Code.FAILED_PRECONDITION, "opaque_mismatch");
    }

    @Test
    void downgradeSinceHoldsTheOutstandingSeqno() {
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 1);
        RegisterLeasedReaderResponse reader = client.registerLeasedReader(RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("r").build());
        long snapshot = client.snapshot(SnapshotRequest.newBuilder().setShardId(shard.toString()).setAsOf(0).build())
                .getSeqno();
        DowngradeSinceRequest downgrade = DowngradeSinceRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader.getReaderId()).setSince(frontier(1)).setOutstandingSeqno(snapshot).build();

        client.downgradeSince(downgrade);
        assertThat(state(shard).getLeasedReaders(0).getSeqno()).isEqualTo(snapshot);
        long seqno = seqno(shard);
        assertInvalidArgument(() -> client.downgradeSince(downgrade.toBuilder().setOutstandingSeqno(snapshot - 1)
                .build()), "invalid_request");
        assertInvalidArgument(() -> client.downgradeSince(downgrade.toBuilder().setOutstandingSeqno(TOO_LARGE)
                .build()), "invalid_request");
        assertThat(seqno(shard)).isEqualTo(seqno);
        long current = client.downgradeSince(downgrade.toBuilder().clearOutstandingSeqno().build()).getSeqno();
        assertThat(state(shard).getLeasedReaders(0).getSeqno()).isEqualTo(current);
    }
}
