package io.stateversions.api.grpc;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.api.ApiSpans;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.metrics.StorageSpans;
import io.stateversions.testing.ConsoleFormat;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The service as the Kubernetes manifests run it, with tracing turned on: log records are JSON objects (README "Logs"),
 * and every API call is one server span that names its operation and shard, REST and gRPC alike, with the storage
 * calls it makes as spans below it (README "Tracing").
 */
@QuarkusTest
@TestProfile(TracingTest.TracingOn.class)
class TracingTest extends GrpcTestSupport {

    /** JSON logs as in k8s/configmap.yaml; the SDK on, spans exported soon after they end to the in-memory exporter. */
    public static class TracingOn implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.log.console.json.enabled", "true",
                    "quarkus.otel.sdk.disabled", "false",
                    "quarkus.otel.bsp.schedule.delay", "50ms");
        }
    }

    @Inject
    InMemorySpanExporter exporter;

    @BeforeEach
    void forgetEarlierSpans() {
        exporter.reset();
    }

    @Test
    void console_records_are_json_objects_with_the_fields_log_collectors_read() throws Exception {
        String line = ConsoleFormat.line("io.stateversions.test", "a record");
        JsonNode record = new ObjectMapper().readTree(line);
        assertThat(record.path("message").asText()).isEqualTo("a record");
        assertThat(record.path("level").asText()).isEqualTo("INFO");
        assertThat(record.path("loggerName").asText()).isEqualTo("io.stateversions.test");
        assertThat(record.has("timestamp")).isTrue();
        assertThat(record.has("hostName")).isTrue();
        assertThat(line.strip()).doesNotContain("\n");
    }

    @Test
    void a_rest_append_is_one_span_naming_its_shard_and_command_with_its_compare_and_set_below() {
        ShardId shard = openShard();
        String writer = WriterId.random().toString();
        given().contentType("application/json").body(Map.of("writerId", writer,
                        "idempotencyToken", "i" + UUID.randomUUID(), "lower", List.of(0), "upper", List.of(1),
                        "len", 1, "parts", List.of(Map.of("key", writer + "/p" + UUID.randomUUID(),
                                "encodedSizeBytes", 100))))
                .post("/v1/shards/" + shard + "/batches").then().statusCode(200);

        SpanData api = apiSpan(shard, "compare_and_append");
        assertThat(api.getKind()).isEqualTo(SpanKind.SERVER);
        SpanData cas = below(api, "consensus compare_and_set");
        assertThat(cas.getAttributes().get(StorageSpans.KEY)).isEqualTo(shard.toString());
        assertThat(cas.getAttributes().get(StorageSpans.OUTCOME)).isEqualTo("ok");
    }

    @Test
    void a_grpc_append_is_one_span_naming_its_shard_and_command_with_its_compare_and_set_below() {
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 1);

        SpanData api = apiSpan(shard, "compare_and_append");
        assertThat(api.getKind()).isEqualTo(SpanKind.SERVER);
        below(api, "consensus compare_and_set");
    }

    @Test
    void reading_a_version_from_its_rollup_has_the_blob_read_below_the_call() {
        ShardId shard = openShard();
        appendOk(shard, WriterId.random(), 0, 1);
        // Version 1 is the shard's first rollup: reading it reads that rollup from Blob.
        given().get("/v1/shards/" + shard + "/versions/1").then().statusCode(200);

        SpanData api = apiSpan(shard, "get_version");
        SpanData get = below(api, "blob get");
        assertThat(get.getAttributes().get(StorageSpans.KEY)).contains(shard.toString());
    }

    /** The one span of the call of {@code command} on {@code shard}, once exported. */
    private SpanData apiSpan(ShardId shard, String command) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<SpanData> calls = exporter.getFinishedSpanItems().stream()
                    .filter(s -> shard.toString().equals(s.getAttributes().get(ApiSpans.SHARD)))
                    .filter(s -> command.equals(s.getAttributes().get(ApiSpans.COMMAND)))
                    .toList();
            assertThat(calls).as("spans of %s on %s", command, shard).hasSizeLessThanOrEqualTo(1);
            // A server span per call: no second one (HTTP and gRPC) for the same request in its trace.
            calls.forEach(call -> assertThat(exporter.getFinishedSpanItems().stream()
                    .filter(s -> s.getTraceId().equals(call.getTraceId()) && s.getKind() == SpanKind.SERVER))
                    .as("server spans of the trace of %s", call).hasSize(1));
            return calls.isEmpty() ? null : calls.get(0);
        }, s -> s != null);
    }

    /** The span named {@code name} below {@code ancestor} (its child, or a child's child), once exported. */
    private SpanData below(SpanData ancestor, String name) {
        return await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<SpanData> spans = exporter.getFinishedSpanItems();
            return spans.stream().filter(s -> s.getName().equals(name))
                    .filter(s -> descends(s, ancestor, spans)).findFirst();
        }, Optional::isPresent).orElseThrow();
    }

    private static boolean descends(SpanData span, SpanData ancestor, List<SpanData> spans) {
        SpanData at = span;
        for (int depth = 0; at != null && depth < 10; depth++) {
            if (at.getParentSpanId().equals(ancestor.getSpanId())) {
                return true;
            }
            String parent = at.getParentSpanId();
            at = spans.stream().filter(s -> s.getSpanId().equals(parent)).findFirst().orElse(null);
        }
        return false;
    }
}
