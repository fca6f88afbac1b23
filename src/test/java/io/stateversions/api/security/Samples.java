package io.stateversions.api.security;

import com.fasterxml.jackson.databind.json.JsonMapper;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.MethodDescriptor;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A well-formed request of every operation of {@link Operation}'s table, on a given shard, that would commit if it
 * were allowed (for the mutations that can): the access matrix sends them with every credential, the fuzz test
 * mutates them.
 */
final class Samples {

    static final String CODECS = "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}";

    private Samples() {}

    /** The REST path and query of {@code operation} on {@code shard}, with fresh handle ids. */
    static String restPath(Operation operation, ShardId shard) {
        String path = operation.pathTemplate().orElseThrow()
                .replace("{shard}", shard.toString())
                .replace("{reader}", operation.name().contains("CRITICAL") ? CriticalReaderId.random().toString()
                        : LeasedReaderId.random().toString())
                .replace("{writer}", WriterId.random().toString())
                .replace("{seqno}", "1");
        return path + switch (operation) {
            case SNAPSHOT -> "?asOf=0";
            case WATCH -> "?fromSeqno=0";
            case SWEEP_LEAKED_BLOBS -> "?graceMs=3600000";
            default -> "";
        };
    }

    /** The REST body of {@code operation}, or null for one without a body. */
    static String restBody(Operation operation) {
        return switch (operation) {
            case OPEN_SHARD -> CODECS;
            case REGISTER_LEASED_READER, REGISTER_WRITER -> "{\"purpose\":\"sample\"}";
            case DOWNGRADE_SINCE -> "{\"since\":[0]}";
            case REGISTER_CRITICAL_READER -> "{\"purpose\":\"sample\",\"opaqueCodec\":\"u64\"}";
            case COMPARE_AND_DOWNGRADE_SINCE -> "{\"expectedOpaque\":0,\"newOpaque\":1,\"since\":[0]}";
            case COMPARE_AND_APPEND -> "{\"writerId\":\"" + WriterId.random() + "\",\"idempotencyToken\":\""
                    + IdempotencyToken.random() + "\",\"lower\":[0],\"upper\":[1],\"len\":1,"
                    + "\"parts\":[{\"inline\":\"AAEC\"}]}";
            case APPLY_MERGE_RES -> "{\"id\":\"0-1\",\"inputs\":[],\"output\":{\"lower\":[0],\"upper\":[1],"
                    + "\"since\":[0],\"len\":0,\"parts\":[]}}";
            case REGISTER_SCHEMA -> "{\"keySchema\":\"AAEC\",\"valSchema\":\"AAEC\"}";
            default -> null;
        };
    }

    /** The request message of a gRPC method of {@code operation} on {@code shard}, encoded. */
    static byte[] grpcRequest(Operation operation, String method, ShardId shard) {
        if (!method.startsWith(Operation.SERVICE + "/")) {
            return new byte[0]; // reflection and health: their empty request
        }
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("shardId", shard.toString());
        switch (operation) {
            case OPEN_SHARD -> fields.putAll(Map.of("keyCodec", "k", "valCodec", "v", "tsCodec", "t",
                    "diffCodec", "d"));
            case REGISTER_LEASED_READER -> fields.put("purpose", "sample");
            case REGISTER_WRITER -> fields.putAll(Map.of("writerId", WriterId.random().toString(), "purpose", "s"));
            case REGISTER_CRITICAL_READER -> fields.putAll(Map.of("readerId", CriticalReaderId.random().toString(),
                    "purpose", "s", "opaqueCodec", "u64"));
            case COMPARE_AND_APPEND -> fields.putAll(Map.of("writerId", WriterId.random().toString(),
                    "idempotencyToken", IdempotencyToken.random().toString(), "lower", Map.of("elements", List.of(0)),
                    "upper", Map.of("elements", List.of(1)), "len", 1, "parts", List.of(Map.of("inline", "AAEC"))));
            case REGISTER_SCHEMA -> fields.putAll(Map.of("keySchema", "AAEC", "valSchema", "AAEC"));
            case WATCH -> fields.put("fromSeqno", 0);
            default -> { }
        }
        try {
            Message.Builder builder = prototype(method).newBuilderForType();
            JsonFormat.parser().ignoringUnknownFields().merge(JsonMapper.builder().build().writeValueAsString(fields),
                    builder);
            return builder.build().toByteArray();
        } catch (Exception e) {
            throw new IllegalStateException("sample of " + method, e);
        }
    }

    @SuppressWarnings("unchecked")
    private static Message prototype(String method) {
        MethodDescriptor<?, ?> descriptor = StateVersionsGrpc.getServiceDescriptor().getMethods().stream()
                .filter(m -> m.getFullMethodName().equals(method)).findFirst().orElseThrow();
        return ((MethodDescriptor.PrototypeMarshaller<Message>) descriptor.getRequestMarshaller()).getMessagePrototype();
    }
}
