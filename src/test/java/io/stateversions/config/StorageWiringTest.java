package io.stateversions.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.SeqNo;
import io.stateversions.location.Blob;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.s3.S3Blob;
import io.stateversions.metrics.MeteredBlob;
import io.stateversions.metrics.MeteredConsensus;
import io.stateversions.testing.Management;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The service as configured by the test resources: Consensus from {@code stateversions.consensus.url} (PostgreSQL),
 * Blob from {@code s3://bucket/prefix} through the Quarkus-managed S3 client, both metered.
 */
@QuarkusTest
class StorageWiringTest {

    @Inject
    Consensus consensus;

    @Inject
    Blob blob;

    @Test
    void backendsAreChosenByUrlAndMetered() throws Exception {
        assertThat(consensus).isInstanceOf(MeteredConsensus.class);
        assertThat(((MeteredConsensus) consensus).delegate()).isInstanceOf(PostgresConsensus.class);
        assertThat(blob).isInstanceOf(MeteredBlob.class);
        assertThat(((MeteredBlob) blob).delegate()).isInstanceOf(S3Blob.class).hasToString("S3Blob{s3://state-versions/service/}");

        String shard = "s" + UUID.randomUUID();
        VersionedData first = new VersionedData(SeqNo.of(1), "diff".getBytes(StandardCharsets.UTF_8));
        assertThat(consensus.compareAndSet(shard, Optional.empty(), first).toCompletableFuture().get(30, TimeUnit.SECONDS))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(consensus.head(shard).toCompletableFuture().get(30, TimeUnit.SECONDS)).contains(first);

        String key = shard + "/v1/r" + UUID.randomUUID();
        blob.set(key, "rollup".getBytes(StandardCharsets.UTF_8)).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertThat(blob.get(key).toCompletableFuture().get(30, TimeUnit.SECONDS)).isPresent();
    }

    @Test
    void everyStorageOperationIsTimedByOutcome() throws Exception {
        String shard = "s" + UUID.randomUUID();
        VersionedData entry = new VersionedData(SeqNo.of(1), new byte[] {1, 2, 3});
        consensus.compareAndSet(shard, Optional.empty(), entry).toCompletableFuture().get(30, TimeUnit.SECONDS);
        consensus.compareAndSet(shard, Optional.empty(), entry).toCompletableFuture().get(30, TimeUnit.SECONDS);
        consensus.truncate(shard, SeqNo.of(5)).handle((v, e) -> null).toCompletableFuture().get(30, TimeUnit.SECONDS);
        blob.get("missing").toCompletableFuture().get(30, TimeUnit.SECONDS);

        Management.given().when().get("/q/metrics").then().statusCode(200)
                .body(containsString("stateversions_consensus_operation_seconds_count{op=\"compare_and_set\",outcome=\"ok\"}"))
                .body(containsString("stateversions_consensus_operation_seconds_count{op=\"compare_and_set\",outcome=\"mismatch\"}"))
                .body(containsString("stateversions_consensus_operation_seconds_count{op=\"truncate\",outcome=\"invalid\"}"))
                .body(containsString("stateversions_consensus_operation_seconds_bucket{op=\"compare_and_set\",outcome=\"ok\",le=\"0.005\"}"))
                .body(containsString("stateversions_blob_operation_seconds_count{op=\"get\",outcome=\"ok\"}"))
                .body(containsString("stateversions_consensus_bytes_total{direction=\"written\"}"));
        String metrics = Management.given().when().get("/q/metrics").asString();
        assertThat(count(metrics, "stateversions_consensus_operation_seconds_count{op=\"compare_and_set\",outcome=\"mismatch\"}"))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(count(metrics, "stateversions_consensus_bytes_total{direction=\"written\"}")).isGreaterThanOrEqualTo(3.0);
    }

    private static double count(String metrics, String series) {
        return metrics.lines().filter(line -> line.startsWith(series + " "))
                .mapToDouble(line -> Double.parseDouble(line.substring(series.length() + 1).trim()))
                .findFirst().orElseThrow(() -> new AssertionError("no series " + series));
    }
}
