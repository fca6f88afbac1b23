package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.appendOk;
import static io.stateversions.api.rest.Rest.newShard;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.grpc.GrpcClient;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.core.ShardId;
import io.stateversions.testing.Management;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * A scrape of {@code /q/metrics} with the shipped metrics settings, after 1,000 shards were opened and appended to:
 * it stays under the size the README states ("Metrics"), the replica-wide shard aggregates count every shard, no
 * family is exposed twice or without samples, and no series is per shard or per request path.
 */
@QuarkusTest
@TestProfile(ScrapeTest.OwnReplica.class)
class ScrapeTest {

    /** The README's bound on a scrape of a replica with 1,000 active shards: measured 173,575 bytes, times ~1.3. */
    static final int MAX_SCRAPE_BYTES = 220 * 1024;
    static final int SHARDS = 1000;

    /** No settings of its own: a replica of its own, so that the aggregates count this test's shards only. */
    public static class OwnReplica implements QuarkusTestProfile {}

    @GrpcClient("state-versions")
    StateVersionsGrpc.StateVersionsBlockingStub grpc;

    private static String scrape;

    /** The scrape after the workload: 1,000 shards with one batch each, a gRPC read, a watch of a missing shard. */
    private String scrapeAfterWorkload() {
        if (scrape == null) {
            List<ShardId> opened = new ArrayList<>();
            for (int i = 0; i < SHARDS; i++) {
                ShardId shard = newShard();
                appendOk(shard, 0, 1);
                opened.add(shard);
            }
            assertThat(grpc.getState(GetStateRequest.newBuilder().setShardId(opened.get(0).toString()).build())
                    .getSeqno()).isEqualTo(2);
            given().get(shards(ShardId.random()) + "/watch").then().statusCode(404);
            // Maintenance registers the meters of its results on first use: the alerts use them.
            appendOk(opened.get(0), 1, 2);
            given().post(shards(opened.get(0)) + "/maintenance/rollup").then().statusCode(200);
            given().post(shards(opened.get(0)) + "/maintenance/gc").then().statusCode(200);
            scrape = Management.given().get("/q/metrics").then().statusCode(200).extract().asString();
        }
        return scrape;
    }

    @Test
    void a_replica_with_1000_shards_scrapes_under_the_stated_size() {
        String metrics = scrapeAfterWorkload();
        int bytes = metrics.getBytes(StandardCharsets.UTF_8).length;
        System.out.printf("scrape of a replica with %d shards: %d bytes, %d lines%n", SHARDS, bytes,
                metrics.lines().count());
        assertThat(bytes).isLessThan(MAX_SCRAPE_BYTES);
        assertThat(metrics).doesNotContain("shard=\"").doesNotContain("stateversions_shard_");
    }

    @Test
    void grpc_calls_are_timed_once_by_the_grpc_meters_not_again_as_http_requests() {
        String metrics = scrapeAfterWorkload();
        assertThat(metrics).containsPattern("grpc_server_processing_duration_seconds_count\\{method=\"GetState\",[^}]*"
                + "statusCode=\"OK\"\\} 1\\.0");
        assertThat(metrics).doesNotContain("uri=\"/stateversions.v1.").doesNotContain("uri=\"/grpc.");
        // REST requests keep theirs, by route template.
        assertThat(metrics).contains("http_server_requests_seconds_count{method=\"POST\",outcome=\"SUCCESS\","
                + "status=\"200\",uri=\"/v1/shards/{shard}/batches\"}");
    }

    @Test
    void the_shard_aggregates_cover_every_shard() {
        String metrics = scrapeAfterWorkload();
        assertThat(value(metrics, "stateversions_shards", "")).isEqualTo(SHARDS);
        assertThat(value(metrics, "stateversions_shards_summed", "stat=\"batch_count\"")).isEqualTo(SHARDS + 1);
        assertThat(value(metrics, "stateversions_shards_max", "stat=\"batch_count\"")).isEqualTo(2);
        assertThat(value(metrics, "stateversions_shards_summed", "stat=\"live_writers\"")).isEqualTo(SHARDS + 1);
        assertThat(value(metrics, "stateversions_shards_max", "stat=\"seqnos_held\"")).isEqualTo(0);
        // The others are one version past their first rollup; the first shard two: its maintenance rollup is linked by
        // the version after the one it rolls up, and its GC adds one more.
        assertThat(value(metrics, "stateversions_shards_max", "stat=\"seqnos_since_last_rollup\"")).isEqualTo(2);
    }

    @Test
    void no_family_is_exposed_twice_or_without_samples() {
        String metrics = scrapeAfterWorkload();
        Set<String> families = new HashSet<>();
        List<String> twice = new ArrayList<>();
        List<String> empty = new ArrayList<>();
        Matcher type = Pattern.compile("^# TYPE (\\S+) (\\S+)$", Pattern.MULTILINE).matcher(metrics);
        while (type.find()) {
            String family = type.group(1);
            if (!families.add(family)) {
                twice.add(family);
            }
            // _active_count and _duration_sum: the samples of a long task timer (http_server_connections_seconds).
            Pattern sample = Pattern.compile(
                    "^" + Pattern.quote(family) + "(_total|_count|_sum|_bucket|_active_count|_duration_sum)?[{ ]",
                    Pattern.MULTILINE);
            if (!sample.matcher(metrics).find()) {
                empty.add(family);
            }
        }
        assertThat(families).hasSizeGreaterThan(50);
        assertThat(twice).isEmpty();
        assertThat(empty).isEmpty();
        // The Vert.x SQL client's request meters, once per client under a family named after it (MeterFilters).
        assertThat(metrics).doesNotContain("clientType=");
        // Exemplars carry trace ids only while tracing is on; it is off by default.
        assertThat(metrics).doesNotContain("trace_id");
    }

    @Test
    void request_metrics_are_tagged_by_route_not_by_path() {
        String metrics = scrapeAfterWorkload();
        Set<String> uris = new TreeSet<>();
        Matcher uri = Pattern.compile("uri=\"([^\"]*)\"").matcher(metrics);
        while (uri.find()) {
            uris.add(uri.group(1));
        }
        System.out.println("uri tags: " + uris);
        assertThat(uris).contains("/v1/shards/{shard}", "/v1/shards/{shard}/batches")
                .allSatisfy(u -> assertThat(u).doesNotContainPattern("s[0-9a-f]{8}-"));
    }

    /**
     * The alerts and the dashboard in {@code k8s/monitoring/} name only metrics the service exposes: every metric
     * name of ours (and of the JVM and HTTP binders) in their expressions is a sample name in the scrape, so a typo or
     * a renamed meter fails here rather than in a silent alert. ({@code up} and {@code kube_pod_status_ready} come
     * from Prometheus and kube-state-metrics.)
     */
    @Test
    void alerts_and_dashboard_name_only_metrics_the_service_exposes() throws java.io.IOException {
        String metrics = scrapeAfterWorkload();
        Set<String> samples = new HashSet<>();
        Matcher sample = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]", Pattern.MULTILINE).matcher(metrics);
        while (sample.find()) {
            samples.add(sample.group(1));
        }
        Pattern ours = Pattern.compile("\\b((?:stateversions|jvm|http_server|process|sql_pool|netty)_[a-z0-9_]+)\\b");
        for (String file : List.of("k8s/monitoring/prometheusrule.yaml",
                "k8s/monitoring/state-versions-dashboard.json")) {
            Set<String> named = new TreeSet<>();
            Matcher m = ours.matcher(java.nio.file.Files.readString(java.nio.file.Path.of(file)));
            while (m.find()) {
                named.add(m.group(1));
            }
            assertThat(named).as(file).isNotEmpty();
            assertThat(named).as(file + ": names not in a scrape of the service").allSatisfy(
                    name -> assertThat(samples).as(name).contains(name));
        }
    }

    /** The value of the series {@code name{...tags...}} whose tags contain {@code tags}; NaN if there is none. */
    static double value(String metrics, String name, String tags) {
        Matcher m = Pattern.compile("^" + Pattern.quote(name) + "(?:\\{([^}]*)\\})? (\\S+)", Pattern.MULTILINE)
                .matcher(metrics);
        while (m.find()) {
            if ((m.group(1) == null ? "" : m.group(1)).contains(tags)) {
                return Double.parseDouble(m.group(2));
            }
        }
        return Double.NaN;
    }
}
