package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.core.Codecs;
import io.stateversions.core.Frontier;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.Test;

/** The one error mapping of the gRPC adapter, for every code of the table. */
class GrpcErrorsTest {

    @Test
    void everyCodeMapsToItsStatusWithTheCodeInTrailersAndDetails() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            StatusRuntimeException e = GrpcErrors.toStatus(new ApiException(code, "detail of " + code.code()));
            assertThat(e.getStatus().getCode()).as(code.code()).isEqualTo(code.grpcStatus());
            assertThat(e.getStatus().getDescription()).isEqualTo("detail of " + code.code());
            assertThat(e.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo(code.code());
            ErrorInfo info = info(e);
            assertThat(info.getReason()).isEqualTo(code.code());
            assertThat(info.getDomain()).isEqualTo("stateversions.io");
            assertThat(info.getMetadataMap()).isEmpty();
        }
    }

    @Test
    void theContractsStatusesForTheTable() {
        assertThat(ErrorCode.VERSION_TRUNCATED.grpcStatus()).isEqualTo(Status.Code.OUT_OF_RANGE);
        assertThat(ErrorCode.INLINE_BACKPRESSURE.grpcStatus()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(ErrorCode.STORAGE_UNAVAILABLE.grpcStatus()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(ErrorCode.OUTCOME_UNKNOWN.grpcStatus()).isEqualTo(Status.Code.UNKNOWN);
    }

    @Test
    void membersAreJsonDocuments() throws Exception {
        Map<String, Object> members = new LinkedHashMap<>();
        members.put("currentUpper", Frontier.of(5));
        members.put("writerUpper", Frontier.EMPTY);
        members.put("actual", new Codecs("k", "v", "t", "d\""));
        members.put("currentOpaque", -3L);
        members.put("flag", true);
        members.put("text", "a \"quoted\" word");
        StatusRuntimeException e = GrpcErrors.toStatus(new ApiException(ErrorCode.UPPER_MISMATCH, "mismatch",
                members));
        assertThat(info(e).getMetadataMap()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "currentUpper", "[5]",
                "writerUpper", "[]",
                "actual", "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\\\"\"}",
                "currentOpaque", "-3",
                "flag", "true",
                "text", "\"a \\\"quoted\\\" word\""));
    }

    @Test
    void wrappedApiExceptionsAreUnwrapped() {
        ApiException notFound = new ApiException(ErrorCode.SHARD_NOT_FOUND, "no such shard");
        StatusRuntimeException e = GrpcErrors.toStatus(new CompletionException(new ExecutionException(notFound)));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(e.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo("shard_not_found");
    }

    @Test
    void anythingElseIsInternal() throws Exception {
        StatusRuntimeException e = GrpcErrors.toStatus(new CompletionException(new IllegalStateException("secret detail")));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
        assertThat(e.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo("internal");
        assertThat(info(e).getReason()).isEqualTo("internal");
        String incident = info(e).getMetadataOrThrow("incident");
        assertThat(e.getStatus().getDescription()).contains("incident " + incident.replace("\"", ""))
                .doesNotContain("IllegalStateException").doesNotContain("secret detail");
    }

    @Test
    void aStatusIsKept() {
        StatusRuntimeException unimplemented = Status.UNIMPLEMENTED.withDescription("later").asRuntimeException();
        assertThat(GrpcErrors.toStatus(new CompletionException(unimplemented))).isSameAs(unimplemented);
    }

    private static ErrorInfo info(StatusRuntimeException e) throws InvalidProtocolBufferException {
        com.google.rpc.Status status = StatusProto.fromThrowable(e);
        assertThat(status).isNotNull();
        assertThat(status.getCode()).isEqualTo(e.getStatus().getCode().value());
        assertThat(status.getDetailsList()).hasSize(1);
        return status.getDetails(0).unpack(ErrorInfo.class);
    }
}
