package io.stateversions.api.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.ShardId;
import java.net.URL;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API as a generic client (grpcurl, Postman) finds it: on the HTTP port, through server reflection, with no
 * generated code. The service is listed, its file descriptor is fetched and built, and requests are built as
 * DynamicMessages (from JSON, as {@code grpcurl -d} does) and sent through raw ClientCalls.
 */
@QuarkusTest
class GrpcDiscoveryTest {

    private static final String SERVICE = "stateversions.v1.StateVersions";

    /** The HTTP server's own address: REST is served here, and so must gRPC be. */
    @TestHTTPResource("/")
    URL http;

    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = NettyChannelBuilder.forAddress(http.getHost(), http.getPort()).usePlaintext().build();
    }

    @AfterEach
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    @Test
    void theHttpPortServesRestAndGrpc() throws Exception {
        given().baseUri("http://" + http.getHost()).port(http.getPort())
                .when().get("/v1/shards").then().statusCode(200);
        List<String> services = reflect(ServerReflectionRequest.newBuilder().setListServices("*").build())
                .getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
        assertThat(services).contains(SERVICE);
    }

    @Test
    void theDescriptorHasEveryRpcOfTheContract() throws Exception {
        Descriptors.ServiceDescriptor service = service();
        assertThat(service.getMethods()).extracting(Descriptors.MethodDescriptor::getName)
                .containsExactlyInAnyOrder("OpenShard", "ListShards", "GetState", "ListVersions", "GetVersion",
                        "ListDiffs", "ListRollups", "RegisterLeasedReader", "HeartbeatLeasedReader",
                        "DowngradeSince", "ExpireLeasedReader", "RegisterCriticalReader", "CompareAndDowngradeSince",
                        "ExpireCriticalReader", "RegisterWriter", "HeartbeatWriter", "ExpireWriter",
                        "CompareAndAppend", "Snapshot", "ListMergeRequests", "ApplyMergeRes", "RegisterSchema",
                        "Finalize", "WriteRollup", "RunGc", "SweepLeakedBlobs", "Watch");
        Descriptors.MethodDescriptor watch = service.findMethodByName("Watch");
        assertThat(watch.isServerStreaming()).isTrue();
        assertThat(watch.isClientStreaming()).isFalse();
        Descriptors.Descriptor frontier = service.getFile().findMessageTypeByName("Frontier");
        assertThat(frontier.getFields()).singleElement().satisfies(f -> {
            assertThat(f.getName()).isEqualTo("elements");
            assertThat(f.getType()).isEqualTo(Descriptors.FieldDescriptor.Type.UINT64);
            assertThat(f.isRepeated()).isTrue();
        });
    }

    @Test
    void aGenericClientOpensAShardAndReadsItsState() throws Exception {
        Descriptors.ServiceDescriptor service = service();
        ShardId shard = ShardId.random();

        DynamicMessage opened = call(service, "OpenShard", "{\"shardId\": \"" + shard + "\", \"keyCodec\": \"bytes\","
                + " \"valCodec\": \"bytes\", \"tsCodec\": \"u64\", \"diffCodec\": \"i64\"}");
        String openedJson = JsonFormat.printer().print(opened);
        assertThat(openedJson).contains("\"created\": true").contains("\"shardId\": \"" + shard + "\"");

        DynamicMessage state = call(service, "GetState", "{\"shardId\": \"" + shard + "\"}");
        Descriptors.Descriptor type = state.getDescriptorForType();
        assertThat(state.getField(type.findFieldByName("seqno"))).isEqualTo(1L);
        assertThat(state.getField(type.findFieldByName("shard_id"))).isEqualTo(shard.toString());
        DynamicMessage codecs = (DynamicMessage) state.getField(type.findFieldByName("codecs"));
        assertThat(codecs.getField(codecs.getDescriptorForType().findFieldByName("ts_codec"))).isEqualTo("u64");
        assertThat(JsonFormat.printer().print(state)).contains("\"upper\": {\n    \"elements\": [\"0\"]");

        StatusRuntimeException missing = catchThrowableOfType(StatusRuntimeException.class,
                () -> call(service, "GetState", "{\"shardId\": \"" + ShardId.random() + "\"}"));
        assertThat(missing.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
        assertThat(missing.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo("shard_not_found");
    }

    // --------------------------------------------------------------------------------------------- reflection

    /** The service's descriptor, built from the file descriptors the reflection service sends. */
    private Descriptors.ServiceDescriptor service() throws Exception {
        ServerReflectionResponse response = reflect(ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol(SERVICE).build());
        assertThat(response.hasErrorResponse()).as("reflection error %s", response.getErrorResponse()).isFalse();
        Map<String, FileDescriptorProto> protos = new HashMap<>();
        String main = null;
        for (ByteString bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
            FileDescriptorProto proto = FileDescriptorProto.parseFrom(bytes);
            protos.put(proto.getName(), proto);
            if (main == null) {
                main = proto.getName(); // the file that defines the symbol comes first
            }
        }
        FileDescriptor file = build(main, protos, new HashMap<>());
        Descriptors.ServiceDescriptor service = file.findServiceByName("StateVersions");
        assertThat(service).isNotNull();
        assertThat(service.getFullName()).isEqualTo(SERVICE);
        return service;
    }

    private FileDescriptor build(String name, Map<String, FileDescriptorProto> protos,
            Map<String, FileDescriptor> built) throws Exception {
        FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto proto = protos.get(name);
        if (proto == null) { // a dependency the server did not send with the file: ask for it by name
            ServerReflectionResponse response = reflect(ServerReflectionRequest.newBuilder()
                    .setFileByFilename(name).build());
            proto = FileDescriptorProto.parseFrom(response.getFileDescriptorResponse().getFileDescriptorProto(0));
        }
        FileDescriptor[] dependencies = new FileDescriptor[proto.getDependencyCount()];
        for (int i = 0; i < dependencies.length; i++) {
            dependencies[i] = build(proto.getDependency(i), protos, built);
        }
        FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies);
        built.put(name, file);
        return file;
    }

    private ServerReflectionResponse reflect(ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> response = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        response.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        response.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        response.completeExceptionally(new IllegalStateException("reflection stream ended early"));
                    }
                });
        requests.onNext(request);
        try {
            return response.get(30, TimeUnit.SECONDS);
        } finally {
            requests.onCompleted();
        }
    }

    // ------------------------------------------------------------------------------------------- raw calls

    /** A unary call of {@code method} with the request given as protobuf JSON, through a raw ClientCall. */
    private DynamicMessage call(Descriptors.ServiceDescriptor service, String method, String json) throws Exception {
        Descriptors.MethodDescriptor descriptor = service.findMethodByName(method);
        DynamicMessage.Builder request = DynamicMessage.newBuilder(descriptor.getInputType());
        JsonFormat.parser().merge(json, request);

        MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod = MethodDescriptor
                .<DynamicMessage, DynamicMessage>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service.getFullName(), method))
                .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(descriptor.getInputType())))
                .setResponseMarshaller(ProtoUtils.marshaller(
                        DynamicMessage.getDefaultInstance(descriptor.getOutputType())))
                .build();
        ClientCall<DynamicMessage, DynamicMessage> call = channel.newCall(grpcMethod,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        CompletableFuture<DynamicMessage> response = new CompletableFuture<>();
        AtomicReference<DynamicMessage> received = new AtomicReference<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(DynamicMessage message) {
                received.set(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                if (status.isOk() && received.get() != null) {
                    response.complete(received.get());
                } else {
                    response.completeExceptionally(status.asRuntimeException(trailers));
                }
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(request.build());
        call.halfClose();
        try {
            return response.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException status) {
                throw status;
            }
            throw e;
        }
    }
}
