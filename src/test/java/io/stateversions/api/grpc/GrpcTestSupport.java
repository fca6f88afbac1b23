package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.quarkus.grpc.GrpcClient;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.OpenShardRequest;
import io.stateversions.api.grpc.v1.OpenShardResponse;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.core.PartId;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.Map;
import java.util.UUID;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/** What every gRPC test uses: the generated blocking client on the HTTP port, and error assertions. */
abstract class GrpcTestSupport {

    /** 2^63: the smallest uint64 beyond the API's range, as the Java long the wire carries. */
    static final long TOO_LARGE = Long.MIN_VALUE;

    @GrpcClient("state-versions")
    StateVersionsGrpc.StateVersionsBlockingStub client;

    /** A fresh shard, opened with the test codecs (v1). */
    ShardId openShard() {
        ShardId shard = ShardId.random();
        OpenShardResponse opened = client.openShard(openRequest(shard).build());
        assertThat(opened.getCreated()).isTrue();
        return shard;
    }

    static OpenShardRequest.Builder openRequest(ShardId shard) {
        return OpenShardRequest.newBuilder().setShardId(shard.toString())
                .setKeyCodec("bytes").setValCodec("bytes").setTsCodec("u64").setDiffCodec("i64");
    }

    ShardState state(ShardId shard) {
        return client.getState(GetStateRequest.newBuilder().setShardId(shard.toString()).build());
    }

    long seqno(ShardId shard) {
        return state(shard).getSeqno();
    }

    static Frontier frontier(long t) {
        return Frontier.newBuilder().addElements(t).build();
    }

    static Frontier closed() {
        return Frontier.getDefaultInstance();
    }

    static Part blobPart(WriterId writer, long sizeBytes) {
        return Part.newBuilder().setBlob(BlobPart.newBuilder()
                .setKey(writer + "/" + new PartId(UUID.randomUUID()))
                .setEncodedSizeBytes(sizeBytes)).build();
    }

    static Part inlinePart(int sizeBytes) {
        return Part.newBuilder().setInline(ByteString.copyFrom(new byte[sizeBytes])).build();
    }

    /** An append of one blob part, [lower, upper), with a fresh token. */
    static CompareAndAppendRequest.Builder append(ShardId shard, WriterId writer, long lower, long upper) {
        return CompareAndAppendRequest.newBuilder()
                .setShardId(shard.toString())
                .setWriterId(writer.toString())
                .setIdempotencyToken(io.stateversions.core.IdempotencyToken.random().toString())
                .setLower(frontier(lower))
                .setUpper(frontier(upper))
                .setLen(1)
                .addParts(blobPart(writer, 100));
    }

    CompareAndAppendResponse appendOk(ShardId shard, WriterId writer, long lower, long upper) {
        return client.compareAndAppend(append(shard, writer, lower, upper).build());
    }

    /**
     * Asserts that {@code call} fails with {@code status} and the error code {@code code}, in both places the API
     * puts it (the {@code sv-error-code} trailer and the ErrorInfo details), and returns the ErrorInfo.
     */
    static ErrorInfo assertError(ThrowingCallable call, Status.Code status, String code) {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, call);
        assertThat(e).as("the call must fail with %s %s", status, code).isNotNull();
        assertThat(e.getStatus().getCode()).as("status of %s", e).isEqualTo(status);
        assertThat(e.getTrailers()).isNotNull();
        assertThat(e.getTrailers().get(GrpcErrors.ERROR_CODE)).as("sv-error-code of %s", e).isEqualTo(code);
        com.google.rpc.Status details = StatusProto.fromThrowable(e);
        assertThat(details).as("grpc-status-details-bin of %s", e).isNotNull();
        assertThat(details.getCode()).isEqualTo(status.value());
        assertThat(details.getMessage()).isEqualTo(e.getStatus().getDescription()).isNotBlank();
        assertThat(details.getDetailsList()).hasSize(1);
        try {
            ErrorInfo info = details.getDetails(0).unpack(ErrorInfo.class);
            assertThat(info.getReason()).isEqualTo(code);
            assertThat(info.getDomain()).isEqualTo("stateversions.io");
            return info;
        } catch (InvalidProtocolBufferException ex) {
            throw new AssertionError("the details are not an ErrorInfo: " + details, ex);
        }
    }

    static void assertInvalidArgument(ThrowingCallable call, String code) {
        assertError(call, Status.Code.INVALID_ARGUMENT, code);
    }

    static void assertMembers(ErrorInfo info, Map<String, String> members) {
        assertThat(info.getMetadataMap()).containsAllEntriesOf(members);
    }
}
