package io.stateversions.api.rest;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.testing.Management;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OpenAPI document lists every REST operation of api.md, each documented; Quarkus' endpoints still work. */
@QuarkusTest
class OpenApiTest {

    /** Every REST resource of api.md but watch, with its methods, and the leaked-blob sweep (beyond api.md). */
    static final Map<String, List<String>> OPERATIONS = Map.ofEntries(
            Map.entry("/v1/shards", List.of("get")),
            Map.entry("/v1/shards/{shard}", List.of("put", "get")),
            Map.entry("/v1/shards/{shard}/versions", List.of("get")),
            Map.entry("/v1/shards/{shard}/versions/{seqno}", List.of("get")),
            Map.entry("/v1/shards/{shard}/diffs", List.of("get")),
            Map.entry("/v1/shards/{shard}/rollups", List.of("get")),
            Map.entry("/v1/shards/{shard}/leased-readers", List.of("post")),
            Map.entry("/v1/shards/{shard}/leased-readers/{reader}/heartbeat", List.of("post")),
            Map.entry("/v1/shards/{shard}/leased-readers/{reader}/downgrade-since", List.of("post")),
            Map.entry("/v1/shards/{shard}/leased-readers/{reader}", List.of("delete")),
            Map.entry("/v1/shards/{shard}/critical-readers/{reader}", List.of("put", "delete")),
            Map.entry("/v1/shards/{shard}/critical-readers/{reader}/compare-and-downgrade-since", List.of("post")),
            Map.entry("/v1/shards/{shard}/writers/{writer}", List.of("put", "delete")),
            Map.entry("/v1/shards/{shard}/writers/{writer}/heartbeat", List.of("post")),
            Map.entry("/v1/shards/{shard}/batches", List.of("post")),
            Map.entry("/v1/shards/{shard}/snapshot", List.of("get")),
            Map.entry("/v1/shards/{shard}/merge-requests", List.of("get")),
            Map.entry("/v1/shards/{shard}/merges", List.of("post")),
            Map.entry("/v1/shards/{shard}/schemas", List.of("post")),
            Map.entry("/v1/shards/{shard}/finalize", List.of("post")),
            Map.entry("/v1/shards/{shard}/maintenance/rollup", List.of("post")),
            Map.entry("/v1/shards/{shard}/maintenance/gc", List.of("post")),
            Map.entry("/v1/shards/{shard}/maintenance/leaked-blobs", List.of("post")),
            Map.entry("/v1/shards/{shard}/watch", List.of("get")));

    @Test
    void documentsEveryOperation() {
        JsonPath doc = Management.given().accept("application/json").get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath();
        Map<String, Object> paths = doc.getMap("paths");
        assertThat(paths.keySet()).filteredOn(p -> p.startsWith("/v1")).containsExactlyInAnyOrderElementsOf(
                OPERATIONS.keySet());
        OPERATIONS.forEach((path, methods) -> {
            for (String method : methods) {
                String op = "paths['" + path + "']." + method;
                assertThat(doc.getString(op + ".summary")).as(op + " summary").isNotBlank();
                assertThat(doc.getString(op + ".description")).as(op + " description").isNotBlank();
                Map<String, Map<String, Object>> responses = doc.getMap(op + ".responses");
                assertThat(responses).as(op + " responses").containsKeys("400", "500", "503", "504");
                assertThat(responses.keySet()).as(op + " success").anyMatch(s -> s.startsWith("2"));
                responses.forEach((status, response) -> {
                    assertThat((String) response.get("description")).as(op + " " + status).isNotBlank();
                    String type = !status.startsWith("2") ? "application/problem+json"
                            : path.endsWith("/watch") ? "text/event-stream" : "application/json";
                    assertThat(doc.getMap(op + ".responses['" + status + "'].content['" + type + "'].schema"))
                            .as(op + " " + status + " schema").isNotEmpty();
                });
                if (!method.equals("get") && !path.endsWith("/heartbeat") && !method.equals("delete")
                        && !path.contains("/finalize") && !path.contains("/maintenance/")) {
                    assertThat(responses).as(op + " body cap").containsKey("413");
                }
                if (!path.equals("/v1/shards") && !op.endsWith("{shard}'].put")) { // open initializes
                    assertThat(responses).as(op + " unknown shard").containsKey("404");
                }
            }
        });
        assertThat(doc.getMap("paths['/v1/shards/{shard}'].put.responses")).containsKeys("200", "201", "409");
        assertThat(doc.getMap("paths['/v1/shards/{shard}/batches'].post.responses")).containsKeys("409", "429");
        assertThat(doc.getMap("paths['/v1/shards/{shard}/versions/{seqno}'].get.responses")).containsKeys("410");
        assertThat(doc.getMap("components.schemas")).containsKeys("Frontier", "Problem", "ShardState",
                "ShardSummary", "Batch", "Part", "MergeRequest");
        assertThat(doc.getMap("components.schemas.ChangeView.properties")).containsKeys("field", "op", "key", "old",
                "new");
        assertThat(doc.getString("components.schemas.ShardSummary.properties.since.$ref"))
                .isEqualTo("#/components/schemas/Frontier");
    }

    /** Generated clients name their methods by operationId: one per operation, unique, as the gRPC method is named. */
    @Test
    void everyOperationHasTheOperationIdOfItsGrpcMethod() {
        JsonPath doc = Management.given().accept("application/json").get("/q/openapi?format=json").then().statusCode(200)
                .extract().jsonPath();
        Map<String, String> expected = Map.of(
                "paths['/v1/shards/{shard}/batches'].post", "compareAndAppend",
                "paths['/v1/shards/{shard}'].put", "openShard",
                "paths['/v1/shards/{shard}'].get", "getState",
                "paths['/v1/shards/{shard}/watch'].get", "watch",
                "paths['/v1/shards/{shard}/critical-readers/{reader}'].delete", "expireCriticalReader",
                "paths['/v1/shards/{shard}/maintenance/leaked-blobs'].post", "sweepLeakedBlobs");
        expected.forEach((op, id) -> assertThat(doc.getString(op + ".operationId")).as(op).isEqualTo(id));
        java.util.Set<String> ids = new java.util.HashSet<>();
        OPERATIONS.forEach((path, methods) -> {
            for (String method : methods) {
                String id = doc.getString("paths['" + path + "']." + method + ".operationId");
                assertThat(id).as(path + " " + method).matches("[a-z][A-Za-z]+");
                assertThat(ids.add(id)).as("operationId %s is unique", id).isTrue();
            }
        });
    }

    @Test
    void swaggerUi() {
        Management.given().get("/q/swagger-ui/").then().statusCode(200).body(containsString("swagger"));
    }

    /** The strict JSON settings are global: Quarkus' own JSON endpoints must not mind. */
    @Test
    void quarkusEndpointsUnaffected() {
        Management.given().get("/q/health/ready").then().statusCode(200);
        Management.given().get("/q/metrics").then().statusCode(200).body(containsString("stateversions_"));
        Management.given().get("/q/openapi").then().statusCode(200).body(containsString("openapi:"));
    }
}
