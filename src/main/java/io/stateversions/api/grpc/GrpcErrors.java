package io.stateversions.api.grpc;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.Any;
import com.google.rpc.ErrorInfo;
import io.grpc.Metadata;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.core.Codecs;
import io.stateversions.core.Frontier;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jboss.logging.Logger;

/**
 * The gRPC side of the one error table ({@link ErrorCode}): an {@link ApiException} becomes the status of its code,
 * with the detail as the description, the code in the trailing metadata key {@code sv-error-code}, and a
 * {@code google.rpc.Status} in {@code grpc-status-details-bin} holding one {@code google.rpc.ErrorInfo} (reason =
 * the code, domain {@value #DOMAIN}, metadata = the code's members, each rendered as a JSON document, as the REST
 * problem body renders them). Anything else is a bug of ours: {@code INTERNAL} with code {@code internal}, logged.
 */
public final class GrpcErrors {


    static final String DOMAIN = "stateversions.io";

    /** The trailing metadata key holding the machine-readable code (api.md, "Errors"). */
    static final Metadata.Key<String> ERROR_CODE = Metadata.Key.of("sv-error-code", Metadata.ASCII_STRING_MARSHALLER);

    private GrpcErrors() {}

    /** The status a failed call answers with; {@code failure} may be wrapped in completion exceptions. */
    static StatusRuntimeException toStatus(Throwable failure) {
        Throwable cause = unwrap(failure);
        if (cause instanceof StatusRuntimeException status) {
            return status; // already a gRPC answer (e.g. UNIMPLEMENTED of a not yet served RPC)
        }
        ApiException error;
        if (cause instanceof ApiException api) {
            error = api;
        } else {
            error = ApiException.internal(cause);
        }
        return toStatus(error);
    }

    static StatusRuntimeException toStatus(ApiException error) {
        ErrorCode code = error.code();
        ErrorInfo.Builder info = ErrorInfo.newBuilder().setReason(code.code()).setDomain(DOMAIN);
        for (Map.Entry<String, Object> member : error.members().entrySet()) {
            info.putMetadata(member.getKey(), json(member.getValue()).toString());
        }
        com.google.rpc.Status details = com.google.rpc.Status.newBuilder()
                .setCode(code.grpcStatus().value())
                .setMessage(error.detail() == null ? code.title() : error.detail())
                .addDetails(Any.pack(info.build()))
                .build();
        Metadata trailers = new Metadata();
        trailers.put(ERROR_CODE, code.code());
        return StatusProto.toStatusRuntimeException(details, trailers);
    }

    /**
     * The headers of a trailers-only gRPC response refusing a call with {@code error}, for a refusal made before the
     * gRPC server sees the call (the access check): the same status, {@code sv-error-code} and details
     * {@link #toStatus(ApiException)} gives.
     */
    public static Map<String, String> trailersOnly(ApiException error) {
        StatusRuntimeException status = toStatus(error);
        Map<String, String> headers = new java.util.LinkedHashMap<>();
        headers.put("content-type", "application/grpc");
        headers.put("grpc-status", Integer.toString(status.getStatus().getCode().value()));
        headers.put("grpc-message", StatusMessageEncoding.encoded(status.getStatus().getDescription()));
        headers.put(ERROR_CODE.name(), error.code().code());
        headers.put("grpc-status-details-bin", java.util.Base64.getEncoder().withoutPadding()
                .encodeToString(StatusProto.fromThrowable(status).toByteArray()));
        return headers;
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable t = failure;
        while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A member value as JSON: the value types {@link ApiException} allows. */
    static JsonNode json(Object value) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        if (value instanceof Frontier frontier) {
            ArrayNode array = f.arrayNode();
            if (!frontier.isEmpty()) {
                array.add(frontier.element());
            }
            return array;
        }
        if (value instanceof Codecs codecs) {
            ObjectNode object = f.objectNode();
            object.put("keyCodec", codecs.key());
            object.put("valCodec", codecs.val());
            object.put("tsCodec", codecs.ts());
            object.put("diffCodec", codecs.diff());
            return object;
        }
        if (value instanceof Long l) {
            return f.numberNode(l);
        }
        if (value instanceof Integer i) {
            return f.numberNode(i);
        }
        if (value instanceof Boolean b) {
            return f.booleanNode(b);
        }
        if (value == null) {
            return f.nullNode();
        }
        return f.textNode(value.toString());
    }
}
