package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.protobuf.ByteString;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.ApplyMergeResRequest;
import io.stateversions.api.grpc.v1.ApplyMergeResResponse;
import io.stateversions.api.grpc.v1.ApplyMergeResult;
import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.ExpireCriticalReaderRequest;
import io.stateversions.api.grpc.v1.ExpireLeasedReaderRequest;
import io.stateversions.api.grpc.v1.ExpireWriterRequest;
import io.stateversions.api.grpc.v1.FinalizeRequest;
import io.stateversions.api.grpc.v1.ListMergeRequestsRequest;
import io.stateversions.api.grpc.v1.ListMergeRequestsResponse;
import io.stateversions.api.grpc.v1.MergeRequest;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderRequest;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterSchemaRequest;
import io.stateversions.api.grpc.v1.RegisterSchemaResponse;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RunGcRequest;
import io.stateversions.api.grpc.v1.RunGcResponse;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.ShardSummary;
import io.stateversions.api.grpc.v1.SweepLeakedBlobsRequest;
import io.stateversions.api.grpc.v1.SweepLeakedBlobsResponse;
import io.stateversions.api.grpc.v1.WatchEvent;
import io.stateversions.api.grpc.v1.WatchRequest;
import io.stateversions.api.grpc.v1.WriteRollupRequest;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.ShardId;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import jakarta.inject.Inject;
import java.time.Duration;
import io.grpc.StatusRuntimeException;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Merges, schemas, finalization (tombstones), maintenance (rollup, GC, leaked-blob sweep) and Watch over gRPC. */
@QuarkusTest
class GrpcLifecycleTest extends GrpcTestSupport {

    @jakarta.inject.Inject
    io.stateversions.machine.Maintenance maintenance;


    @Inject
    Blob blob;

    @Test
    void aListedMergeRequestAppliesExactly() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        for (int i = 0; i < Trace.MAX_MERGE_INPUTS; i++) { // one chunk of the merge policy: one merge request
            appendOk(shard, writer, 5L * i, 5L * (i + 1));
        }

        ListMergeRequestsResponse listed = client.listMergeRequests(ListMergeRequestsRequest.newBuilder()
                .setShardId(shard.toString()).build());
        MergeRequest request = listed.getMergeRequestsList().stream()
                .filter(m -> m.getId().equals("0-" + 5 * Trace.MAX_MERGE_INPUTS)).findFirst().orElseThrow();
        assertThat(request.getInputsList()).hasSize(Trace.MAX_MERGE_INPUTS);
        long before = seqno(shard);

        Batch output = Batch.newBuilder().setLower(request.getLower()).setUpper(request.getUpper())
                .setSince(request.getSince()).setLen(2).addParts(blobPart(writer, 150)).build();
        ApplyMergeResResponse applied = client.applyMergeRes(ApplyMergeResRequest.newBuilder()
                .setShardId(shard.toString()).setId(request.getId())
                .addAllInputs(request.getInputsList()).setOutput(output).build());
        assertThat(applied.getResult()).isEqualTo(ApplyMergeResult.APPLY_MERGE_RESULT_APPLIED_EXACT);
        assertThat(applied.getSeqno()).isEqualTo(before + 1);

        ShardState state = state(shard);
        assertThat(state.getBatchesList()).containsExactly(output);
        assertThat(client.listMergeRequests(ListMergeRequestsRequest.newBuilder().setShardId(shard.toString())
                .build()).getMergeRequestsList()).isEmpty();
    }

    @Test
    void aMergeThatMatchesNoBatchesIsNotApplied() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        appendOk(shard, writer, 5, 10);
        ShardState before = state(shard);

        Batch output = Batch.newBuilder().setLower(frontier(0)).setUpper(frontier(7)).setSince(frontier(0))
                .setLen(1).addParts(blobPart(writer, 10)).build();
        ApplyMergeResResponse result = client.applyMergeRes(ApplyMergeResRequest.newBuilder()
                .setShardId(shard.toString()).setId("0-7").addAllInputs(before.getBatchesList()).setOutput(output)
                .build());
        assertThat(result.getResult()).isEqualTo(ApplyMergeResult.APPLY_MERGE_RESULT_NOT_APPLIED_NO_MATCH);
        assertThat(state(shard).getBatchesList()).isEqualTo(before.getBatchesList());
    }

    @Test
    void applyMergeResRejectsMalformedRequests() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        appendOk(shard, writer, 5, 10);
        ShardState before = state(shard);
        Batch output = Batch.newBuilder().setLower(frontier(0)).setUpper(frontier(10)).setSince(frontier(0))
                .setLen(2).addParts(blobPart(writer, 10)).build();
        ApplyMergeResRequest good = ApplyMergeResRequest.newBuilder().setShardId(shard.toString()).setId("0-10")
                .addAllInputs(before.getBatchesList()).setOutput(output).build();

        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder().clearOutput().build()), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder().setId("").build()), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder().setId("0-11").build()), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder()
                .setOutput(output.toBuilder().clearSince()).build()), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder()
                .setInputs(0, before.getBatches(0).toBuilder().setLen(TOO_LARGE)).build()), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(good.toBuilder().setShardId("").build()), "invalid_id");
        assertThat(state(shard)).isEqualTo(before);
        assertError(() -> client.applyMergeRes(good.toBuilder().setShardId(ShardId.random().toString()).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
        assertError(() -> client.listMergeRequests(ListMergeRequestsRequest.newBuilder()
                .setShardId(ShardId.random().toString()).build()), Status.Code.NOT_FOUND, "shard_not_found");
    }

    /** A merge compacts two or more batches; fewer is a malformed request (api.md), not an internal error. */
    @Test
    void aMergeOfFewerThanTwoBatchesIsInvalidRequest() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        ShardState before = state(shard);
        Batch output = before.getBatches(0).toBuilder().setParts(0, blobPart(writer, 10)).build();
        ApplyMergeResRequest one = ApplyMergeResRequest.newBuilder().setShardId(shard.toString()).setId("0-5")
                .addInputs(before.getBatches(0)).setOutput(output).build();

        assertInvalidArgument(() -> client.applyMergeRes(one), "invalid_request");
        assertInvalidArgument(() -> client.applyMergeRes(one.toBuilder().clearInputs().build()), "invalid_request");
        assertThat(state(shard)).isEqualTo(before);
    }

    @Test
    void schemasGetDenseIdsAndAnIdenticalPairKeepsItsId() {
        ShardId shard = openShard();
        RegisterSchemaRequest pair = RegisterSchemaRequest.newBuilder().setShardId(shard.toString())
                .setKeySchema(ByteString.copyFromUtf8("key-v1")).setValSchema(ByteString.copyFromUtf8("val-v1"))
                .build();
        RegisterSchemaResponse first = client.registerSchema(pair);
        assertThat(first.getSchemaId()).isZero();
        assertThat(first.getSeqno()).isEqualTo(2);
        RegisterSchemaResponse again = client.registerSchema(pair);
        assertThat(again.getSchemaId()).isZero();
        assertThat(state(shard).getSchemasList()).singleElement().satisfies(s -> {
            assertThat(s.getSchemaId()).isZero();
            assertThat(s.getKeySchema().toStringUtf8()).isEqualTo("key-v1");
            assertThat(s.getValSchema().toStringUtf8()).isEqualTo("val-v1");
        });
        assertError(() -> client.registerSchema(pair.toBuilder().setShardId(ShardId.random().toString()).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
        assertInvalidArgument(() -> client.registerSchema(pair.toBuilder().setShardId("s").build()), "invalid_id");
    }

    @Test
    void finalizeNeedsAClosedShardAndLeavesATombstone() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        appendOk(shard, writer, 0, 5);
        assertError(() -> client.finalize(finalizeRequest(shard)), Status.Code.FAILED_PRECONDITION,
                "not_finalizable");

        // Close it: upper [] through an append, since [] through a reader that then leaves.
        client.compareAndAppend(append(shard, writer, 5, 0).setUpper(closed()).clearParts().setLen(0).build());
        String reader = client.registerLeasedReader(RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("closer").build()).getReaderId();
        client.downgradeSince(DowngradeSinceRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader)
                .setSince(closed()).build());
        client.expireLeasedReader(ExpireLeasedReaderRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader).build());
        assertThat(state(shard).getUpper()).isEqualTo(closed());
        assertThat(state(shard).getSince()).isEqualTo(closed());

        ShardSummary tombstone = client.finalize(finalizeRequest(shard));
        assertThat(tombstone.getTombstone()).isTrue();
        assertThat(tombstone.getSince()).isEqualTo(closed());
        assertThat(tombstone.getUpper()).isEqualTo(closed());
        assertThat(tombstone.getShardId()).isEqualTo(shard.toString());
        ShardState state = state(shard);
        assertThat(state.getTombstone()).isTrue();
        assertThat(state.getWritersList()).isEmpty();
        assertThat(state.getLeasedReadersList()).isEmpty();

        // Finalizing again commits nothing (only maintenance's final rollup may have committed meanwhile).
        maintenance.idle(shard).orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
        long settled = state(shard).getSeqno();
        ShardSummary again = client.finalize(finalizeRequest(shard));
        assertThat(again.getTombstone()).isTrue();
        assertThat(again.getSeqno()).isEqualTo(settled);
        assertThat(state(shard).getSeqno()).isEqualTo(settled);
    }

    @Test
    void aTombstoneRefusesRegistrationsAndAppendsAndCommitsNothing() {
        ShardId shard = tombstone();
        long seqno = seqno(shard);
        WriterId writer = WriterId.random();

        assertError(() -> client.registerWriter(RegisterWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).setPurpose("late").build()),
                Status.Code.FAILED_PRECONDITION, "shard_tombstoned");
        assertError(() -> client.registerLeasedReader(RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("late").build()),
                Status.Code.FAILED_PRECONDITION, "shard_tombstoned");
        assertError(() -> client.registerCriticalReader(RegisterCriticalReaderRequest.newBuilder()
                .setShardId(shard.toString()).setReaderId(CriticalReaderId.random().toString())
                .setPurpose("late").setOpaqueCodec("u64").build()),
                Status.Code.FAILED_PRECONDITION, "shard_tombstoned");
        CompareAndAppendRequest late = append(shard, writer, 0, 1).build();
        ErrorInfo mismatch = assertError(() -> client.compareAndAppend(late), Status.Code.FAILED_PRECONDITION,
                "upper_mismatch");
        assertMembers(mismatch, Map.of("currentUpper", "[]"));

        assertThat(client.expireWriter(ExpireWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).build()).getSeqno()).isEqualTo(seqno);
        assertThat(client.expireCriticalReader(ExpireCriticalReaderRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(CriticalReaderId.random().toString()).build()).getSeqno()).isEqualTo(seqno);
        assertThat(seqno(shard)).isEqualTo(seqno);
        assertThat(state(shard).getTombstone()).isTrue();
    }

    @Test
    void writeRollupOnDemand() {
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 5);
        var rollup = client.writeRollup(WriteRollupRequest.newBuilder().setShardId(shard.toString()).build());
        assertThat(rollup.getRollupKey()).startsWith("v2/r");
        assertThat(rollup.getSeqno()).isEqualTo(3);
        assertThat(state(shard).getRollupsList()).extracting(r -> r.getKey()).contains(rollup.getRollupKey());

        assertError(() -> client.writeRollup(WriteRollupRequest.newBuilder().setShardId(ShardId.random().toString())
                .build()), Status.Code.NOT_FOUND, "shard_not_found");
        assertInvalidArgument(() -> client.writeRollup(WriteRollupRequest.newBuilder().setShardId("x").build()),
                "invalid_id");
    }

    @Test
    void runGcOnDemand() {
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 5);
        assertInvalidArgument(() -> client.runGc(RunGcRequest.newBuilder().setShardId("").build()), "invalid_id");
        assertError(() -> client.runGc(RunGcRequest.newBuilder().setShardId(ShardId.random().toString()).build()),
                Status.Code.NOT_FOUND, "shard_not_found");

        client.writeRollup(WriteRollupRequest.newBuilder().setShardId(shard.toString()).build());
        RunGcResponse gc = client.runGc(RunGcRequest.newBuilder().setShardId(shard.toString()).build());
        assertThat(gc.getSeqno()).isGreaterThanOrEqualTo(3);
        assertThat(gc.getTruncatedBelow()).isLessThanOrEqualTo(gc.getSeqno());
        assertThat(state(shard).getEarliestSeqno()).isEqualTo(Math.max(1, gc.getTruncatedBelow()));
    }

    @Test
    void sweepLeakedBlobsOnDemand() {
        assertInvalidArgument(() -> client.sweepLeakedBlobs(SweepLeakedBlobsRequest.newBuilder().setShardId("")
                .build()), "invalid_id");
        assertError(() -> client.sweepLeakedBlobs(SweepLeakedBlobsRequest.newBuilder()
                .setShardId(ShardId.random().toString()).build()), Status.Code.NOT_FOUND, "shard_not_found");
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 5);
        String orphan = new PartialBatchKey(WriterKey.of(WriterId.random()), PartId.random()).complete(shard);
        blob.set(orphan, new byte[] {1}).toCompletableFuture().join();
        SweepLeakedBlobsRequest request = SweepLeakedBlobsRequest.newBuilder().setShardId(shard.toString()).build();
        assertInvalidArgument(() -> client.sweepLeakedBlobs(request.toBuilder().setGraceMs(TOO_LARGE).build()),
                "invalid_request");

        // Without grace_ms, the default grace (1 hour) keeps the orphan just written.
        SweepLeakedBlobsResponse young = client.sweepLeakedBlobs(request);
        assertThat(young.getSeqno()).isEqualTo(seqno(shard));
        assertThat(young.getDeleted()).isZero();
        assertThat(young.getTooYoung()).isEqualTo(1);
        assertThat(young.getListed()).isEqualTo(young.getReferenced() + 1);
        assertThat(blob.get(orphan).toCompletableFuture().join()).isPresent();

        // Below the least grace allowed (200 ms in tests): refused, nothing deleted.
        assertInvalidArgument(() -> client.sweepLeakedBlobs(request.toBuilder().setGraceMs(0).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.sweepLeakedBlobs(request.toBuilder().setGraceMs(199).build()),
                "invalid_request");
        assertThat(blob.get(orphan).toCompletableFuture().join()).isPresent();

        SweepLeakedBlobsRequest atMinimum = request.toBuilder().setGraceMs(200).build();
        SweepLeakedBlobsResponse swept = await().atMost(Duration.ofSeconds(10))
                .until(() -> client.sweepLeakedBlobs(atMinimum), r -> r.getDeleted() == 1);
        assertThat(swept.getTooYoung()).isZero();
        assertThat(swept.getReferenced()).isEqualTo(young.getReferenced());
        assertThat(blob.get(orphan).toCompletableFuture().join()).isEmpty();
        assertThat(client.sweepLeakedBlobs(atMinimum).getDeleted()).isZero();
    }

    private static FinalizeRequest finalizeRequest(ShardId shard) {
        return FinalizeRequest.newBuilder().setShardId(shard.toString()).build();
    }

    /** A finalized shard. */
    private ShardId tombstone() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        client.compareAndAppend(append(shard, writer, 0, 0).setUpper(closed()).clearParts().setLen(0).build());
        String reader = client.registerLeasedReader(RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("closer").build()).getReaderId();
        client.downgradeSince(DowngradeSinceRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader)
                .setSince(closed()).build());
        assertThat(client.finalize(finalizeRequest(shard)).getTombstone()).isTrue();
        // A tombstone is assigned one last rollup, which maintenance commits in the background (api.md: nothing but
        // maintenance commits on a tombstone); wait for it, so that the versions the tests compare are stable.
        maintenance.idle(shard).orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
        return shard;
    }
}
