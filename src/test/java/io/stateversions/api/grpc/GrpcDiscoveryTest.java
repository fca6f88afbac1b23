package io.stateversions.api.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.protobuf.Descriptors;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.ShardId;
import io.stateversions.testing.ReflectionClient;
import java.net.URL;
import java.util.List;
import java.util.concurrent.TimeUnit;
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
        List<String> services = new ReflectionClient(channel).services();
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

    private Descriptors.ServiceDescriptor service() throws Exception {
        Descriptors.ServiceDescriptor service = new ReflectionClient(channel).service(SERVICE);
        assertThat(service.getFullName()).isEqualTo(SERVICE);
        return service;
    }

    private DynamicMessage call(Descriptors.ServiceDescriptor service, String method, String json) throws Exception {
        return new ReflectionClient(channel).call(service, method, json);
    }
}
