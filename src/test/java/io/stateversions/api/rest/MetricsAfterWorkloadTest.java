package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.appendOk;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.leasedReader;
import static io.stateversions.api.rest.Rest.newShard;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.ShardId;
import io.stateversions.testing.Management;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * After a workload through the API, {@code /q/metrics} shows the shard aggregates and the command, batching, rollup
 * and GC meters (spec §18), with the values the workload implies.
 */
@QuarkusTest
class MetricsAfterWorkloadTest {

    @Test
    void a_workload_shows_in_every_family_of_metrics() {
        double appendsBefore = value(scrape(), "stateversions_command_seconds_count",
                "command=\"compare_and_append\",outcome=\"committed\"");
        double rollupsBefore = value(scrape(), "stateversions_rollup_seconds_count", "result=\"written\"");

        ShardId shard = newShard();
        for (int i = 0; i < 3; i++) {
            appendOk(shard, i, i + 1);
        }
        String reader = leasedReader(shard);
        given().post(shards(shard) + "/leased-readers/" + reader + "/heartbeat").then().statusCode(200);
        json(Map.of("since", java.util.List.of(1))).post(shards(shard) + "/leased-readers/" + reader
                + "/downgrade-since").then().statusCode(200);
        given().post(shards(shard) + "/leased-readers/r00000000-0000-4000-8000-000000000000/heartbeat").then()
                .statusCode(404);
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200);
        given().post(shards(shard) + "/maintenance/gc").then().statusCode(200);
        given().delete(shards(shard) + "/leased-readers/" + reader).then().statusCode(200);
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200);
        given().post(shards(shard) + "/maintenance/gc").then().statusCode(200);

        String metrics = scrape();
        assertThat(value(metrics, "stateversions_command_seconds_count",
                "command=\"compare_and_append\",outcome=\"committed\"")).isGreaterThanOrEqualTo(appendsBefore + 3);
        assertThat(value(metrics, "stateversions_command_seconds_count",
                "command=\"heartbeat_reader\",outcome=\"noop\"")).isGreaterThanOrEqualTo(1);
        assertThat(value(metrics, "stateversions_command_seconds_bucket",
                "command=\"downgrade_since\",outcome=\"committed\",le=\"5.0\"")).isGreaterThanOrEqualTo(1);
        assertThat(value(metrics, "stateversions_machine_batch_commands_count", "")).isGreaterThanOrEqualTo(8);
        assertThat(value(metrics, "stateversions_rollup_seconds_count", "result=\"written\""))
                .isGreaterThanOrEqualTo(rollupsBefore + 2);
        assertThat(value(metrics, "stateversions_gc_seconds_count", "result=\"ok\"")).isGreaterThanOrEqualTo(1);
        assertThat(value(metrics, "stateversions_gc_truncations_total", "")).isGreaterThanOrEqualTo(1);
        assertThat(metrics).contains("stateversions_lease_expired_total{handle=\"reader\"}");
        assertThat(metrics).contains("stateversions_machine_cas_mismatch_total");
        assertThat(value(metrics, "stateversions_machine_shards", "")).isGreaterThanOrEqualTo(1);
        assertThat(metrics).contains("stateversions_machine_queued_bytes");
        assertThat(value(metrics, "stateversions_machine_held_bytes", "")).isGreaterThan(0);
        // Per-shard series are off by default: the shard shows in the replica-wide aggregates (StateMetricsTest
        // covers the per-shard series).
        assertThat(metrics).doesNotContain("shard=\"" + shard + "\"");
        assertThat(value(metrics, "stateversions_shards", "")).isGreaterThanOrEqualTo(1);
        assertThat(value(metrics, "stateversions_shards_max", "stat=\"batch_count\"")).isGreaterThanOrEqualTo(3);
        assertThat(value(metrics, "stateversions_shards_summed", "stat=\"batch_count\"")).isGreaterThanOrEqualTo(3);
        assertThat(value(metrics, "stateversions_shards_max", "stat=\"rollup_count\"")).isGreaterThanOrEqualTo(1);
        assertThat(metrics).contains("stateversions_consensus_bytes_total{direction=\"written\"}");
    }

    /**
     * REST requests refused before any resource matched them (a URI over 8 KiB, a cross-site write) are measured under
     * one route, not under their paths: each refused shard id or long URI was a new {@code uri} value, and after 100 of
     * them Micrometer dropped the meters of every endpoint not seen yet.
     */
    @Test
    void requests_refused_before_routing_share_one_route_in_the_metrics() {
        double before = value(scrape(), "http_server_requests_seconds_count",
                "status=\"414\",uri=\"" + RouteRefusal.REFUSED_ROUTE + "\"");
        java.util.List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            String id = ShardId.random().toString();
            ids.add(id);
            given().queryParam("after", "x".repeat(9000)).get("/v1/shards/" + id).then().statusCode(414);
            given().header("Sec-Fetch-Site", "cross-site").contentType("application/json").body("{}")
                    .post("/v1/shards/" + id + "/maintenance/gc").then().statusCode(403);
        }
        String metrics = scrape();
        assertThat(value(metrics, "http_server_requests_seconds_count",
                "status=\"414\",uri=\"" + RouteRefusal.REFUSED_ROUTE + "\"")).isEqualTo(before + 5);
        assertThat(value(metrics, "http_server_requests_seconds_count",
                "status=\"403\",uri=\"" + RouteRefusal.REFUSED_ROUTE + "\"")).isGreaterThanOrEqualTo(5);
        assertThat(metrics.lines().filter(line -> ids.stream().anyMatch(line::contains))).isEmpty();
    }

    private static String scrape() {
        return Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
    }

    /** The value of the series {@code name{...tags...}} whose tags contain {@code tags}; 0 if there is none. */
    private static double value(String metrics, String name, String tags) {
        // Greedy: a tag's value may hold braces (a route template such as /v1/shards/{shard}).
        Pattern series = Pattern.compile("^" + Pattern.quote(name) + "\\{(.*)\\} (\\S+)$", Pattern.MULTILINE);
        Pattern bare = Pattern.compile("^" + Pattern.quote(name) + " (\\S+)$", Pattern.MULTILINE);
        Matcher m = series.matcher(metrics);
        while (m.find()) {
            if (m.group(1).contains(tags)) {
                return Double.parseDouble(m.group(2));
            }
        }
        Matcher b = bare.matcher(metrics);
        return tags.isEmpty() && b.find() ? Double.parseDouble(b.group(1)) : 0;
    }
}
