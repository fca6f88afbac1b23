package io.stateversions.api.security;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The one table of what each operation of the API requires: its REST route (method and path template), its gRPC
 * method(s), and the {@link Role} a caller needs. {@link AccessControl} enforces it on both surfaces before a request
 * reaches a resource or the gRPC server, so REST and gRPC cannot drift apart; the security tests check that it covers
 * every JAX-RS resource method and every method of the gRPC services, and derive their matrix from it.
 *
 * <p>A request that matches no row (an unknown path, {@code HEAD}, {@code OPTIONS}, a path spelled unusually) needs
 * {@link Role#ADMIN}: whatever the routing layer later makes of it, it cannot give a weaker role more than it has.
 */
public enum Operation {
    OPEN_SHARD(Role.ADMIN, "PUT", "/v1/shards/{shard}", "OpenShard"),
    LIST_SHARDS(Role.READER, "GET", "/v1/shards", "ListShards"),
    GET_STATE(Role.READER, "GET", "/v1/shards/{shard}", "GetState"),
    LIST_VERSIONS(Role.READER, "GET", "/v1/shards/{shard}/versions", "ListVersions"),
    GET_VERSION(Role.READER, "GET", "/v1/shards/{shard}/versions/{seqno}", "GetVersion"),
    LIST_DIFFS(Role.READER, "GET", "/v1/shards/{shard}/diffs", "ListDiffs"),
    LIST_ROLLUPS(Role.READER, "GET", "/v1/shards/{shard}/rollups", "ListRollups"),
    REGISTER_LEASED_READER(Role.READER, "POST", "/v1/shards/{shard}/leased-readers", "RegisterLeasedReader"),
    HEARTBEAT_LEASED_READER(Role.READER, "POST", "/v1/shards/{shard}/leased-readers/{reader}/heartbeat",
            "HeartbeatLeasedReader"),
    DOWNGRADE_SINCE(Role.READER, "POST", "/v1/shards/{shard}/leased-readers/{reader}/downgrade-since",
            "DowngradeSince"),
    EXPIRE_LEASED_READER(Role.READER, "DELETE", "/v1/shards/{shard}/leased-readers/{reader}", "ExpireLeasedReader"),
    REGISTER_CRITICAL_READER(Role.READER, "PUT", "/v1/shards/{shard}/critical-readers/{reader}",
            "RegisterCriticalReader"),
    COMPARE_AND_DOWNGRADE_SINCE(Role.READER, "POST",
            "/v1/shards/{shard}/critical-readers/{reader}/compare-and-downgrade-since", "CompareAndDowngradeSince"),
    EXPIRE_CRITICAL_READER(Role.READER, "DELETE", "/v1/shards/{shard}/critical-readers/{reader}",
            "ExpireCriticalReader"),
    SNAPSHOT(Role.READER, "GET", "/v1/shards/{shard}/snapshot", "Snapshot"),
    WATCH(Role.READER, "GET", "/v1/shards/{shard}/watch", "Watch"),
    LIST_MERGE_REQUESTS(Role.READER, "GET", "/v1/shards/{shard}/merge-requests", "ListMergeRequests"),
    REGISTER_WRITER(Role.WRITER, "PUT", "/v1/shards/{shard}/writers/{writer}", "RegisterWriter"),
    HEARTBEAT_WRITER(Role.WRITER, "POST", "/v1/shards/{shard}/writers/{writer}/heartbeat", "HeartbeatWriter"),
    EXPIRE_WRITER(Role.WRITER, "DELETE", "/v1/shards/{shard}/writers/{writer}", "ExpireWriter"),
    COMPARE_AND_APPEND(Role.WRITER, "POST", "/v1/shards/{shard}/batches", "CompareAndAppend"),
    APPLY_MERGE_RES(Role.WRITER, "POST", "/v1/shards/{shard}/merges", "ApplyMergeRes"),
    REGISTER_SCHEMA(Role.WRITER, "POST", "/v1/shards/{shard}/schemas", "RegisterSchema"),
    FINALIZE(Role.ADMIN, "POST", "/v1/shards/{shard}/finalize", "Finalize"),
    WRITE_ROLLUP(Role.ADMIN, "POST", "/v1/shards/{shard}/maintenance/rollup", "WriteRollup"),
    RUN_GC(Role.ADMIN, "POST", "/v1/shards/{shard}/maintenance/gc", "RunGc"),
    SWEEP_LEAKED_BLOBS(Role.ADMIN, "POST", "/v1/shards/{shard}/maintenance/leaked-blobs", "SweepLeakedBlobs"),
    /** The web inspector (io.stateversions.api.ui): HTML pages, not part of the versioned API. */
    INSPECT_SHARDS(Role.READER, "GET", "/ui"),
    INSPECT_SHARD(Role.READER, "GET", "/ui/shards/{shard}"),
    INSPECT_LIVE(Role.READER, "GET", "/ui/shards/{shard}/live"),
    INSPECT_VERSION(Role.READER, "GET", "/ui/shards/{shard}/versions/{seqno}"),
    INSPECT_BLOBS(Role.READER, "GET", "/ui/shards/{shard}/blobs"),
    /** Reads every live state and looks up every blob they name: an operator's tool, like maintenance. */
    INSPECT_CHECK(Role.ADMIN, "GET", "/ui/shards/{shard}/check"),
    INSPECT_ROLLUP(Role.ADMIN, "POST", "/ui/shards/{shard}/maintenance/rollup"),
    INSPECT_GC(Role.ADMIN, "POST", "/ui/shards/{shard}/maintenance/gc"),
    /** gRPC server reflection (both protocol versions): the API's schema, which any caller may discover. */
    SERVER_REFLECTION(Role.READER, null, null,
            "grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
            "grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"),
    /** The standard gRPC health service on the API port (the management port's health needs no credentials). */
    GRPC_HEALTH(Role.READER, null, null, "grpc.health.v1.Health/Check", "grpc.health.v1.Health/Watch");

    /** The gRPC service of the API: its methods are named by their simple names above. */
    public static final String SERVICE = "stateversions.v1.StateVersions";

    private final Role role;
    private final String httpMethod;
    private final String pathTemplate;
    private final Pattern path;
    private final List<String> grpcMethods;

    Operation(Role role, String httpMethod, String pathTemplate, String... grpcMethods) {
        this.role = role;
        this.httpMethod = httpMethod;
        this.pathTemplate = pathTemplate;
        this.path = pathTemplate == null ? null : Pattern.compile(pathTemplate.replaceAll("\\{[^/}]+}", "[^/]+"));
        this.grpcMethods = java.util.Arrays.stream(grpcMethods)
                .map(name -> name.contains("/") ? name : SERVICE + "/" + name).toList();
    }

    /** The role a caller needs. */
    public Role role() {
        return role;
    }

    /** The REST method ({@code GET}, {@code PUT}, …), if the operation has a REST route. */
    public Optional<String> httpMethod() {
        return Optional.ofNullable(httpMethod);
    }

    /** The REST path template ({@code /v1/shards/{shard}}), if the operation has a REST route. */
    public Optional<String> pathTemplate() {
        return Optional.ofNullable(pathTemplate);
    }

    /** The full gRPC method names ({@code stateversions.v1.StateVersions/OpenShard}). */
    public List<String> grpcMethods() {
        return grpcMethods;
    }

    private static final Map<String, Operation> BY_GRPC_METHOD = new HashMap<>();

    static {
        for (Operation operation : values()) {
            for (String method : operation.grpcMethods) {
                if (BY_GRPC_METHOD.put(method, operation) != null) {
                    throw new IllegalStateException("gRPC method " + method + " is in the table twice");
                }
            }
        }
    }

    /** The operation of a REST request, by its method and (normalized) path. */
    public static Optional<Operation> ofRest(String method, String path) {
        for (Operation operation : values()) {
            if (method.equals(operation.httpMethod) && operation.path.matcher(path).matches()) {
                return Optional.of(operation);
            }
        }
        return Optional.empty();
    }

    /** The operation of a gRPC call, by its full method name ({@code service/method}). */
    public static Optional<Operation> ofGrpc(String fullMethodName) {
        return Optional.ofNullable(BY_GRPC_METHOD.get(fullMethodName));
    }
}
