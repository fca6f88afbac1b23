package io.stateversions.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.config.StorageUrls;
import io.stateversions.core.ShardId;
import io.stateversions.location.Blob;
import io.stateversions.location.s3.S3Clients;
import io.stateversions.testing.InspectedShard;
import io.stateversions.testing.StorageServers;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.ConfigProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every command of the command-line tool, online (against the service under test, REST) and offline (straight against
 * its PostgreSQL and S3Proxy), on a shard with readers, writers, rollups and a GC whose part blobs exist: both modes
 * print the same JSON, {@code --format table} prints it for people, {@code check} passes, then fails with exit
 * status 1 and the values once a rollup blob is deleted, and maintenance runs online only.
 */
@QuarkusTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CliTest {

    @TestHTTPResource("/")
    URL base;

    private String consensusUrl;
    private String blobUrl;
    private Blob blob;
    private InspectedShard shard;

    /** What one run printed and returned. */
    record Run(int status, String out, String err) {
        JsonNode json() {
            try {
                return JsonMapper.builder().build().readTree(out);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + out + "\nstderr: " + err, e);
            }
        }
    }

    /** Once, before the first test (RestAssured knows the service's port only from then on). */
    @BeforeEach
    void seed() {
        if (shard != null) {
            return;
        }
        var config = ConfigProvider.getConfig();
        consensusUrl = config.getValue("test.postgres.url", String.class);
        blobUrl = "s3://" + StorageServers.ACCESS_KEY + ":" + StorageServers.SECRET_KEY + "@" + StorageServers.BUCKET
                + "/service?endpoint=" + config.getValue("test.s3.endpoint", String.class) + "&region="
                + StorageServers.REGION + "&path-style=true";
        blob = StorageUrls.blob(blobUrl, new S3Clients.Timeouts(Duration.ofSeconds(60), Duration.ofSeconds(30),
                Duration.ofSeconds(5), Duration.ofSeconds(10)), 1, () -> null).store();
        shard = InspectedShard.build(blob);
    }

    @AfterAll
    void close() {
        if (blob != null) {
            blob.close();
        }
    }

    private Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = StateVersionsCli.run(args, new PrintWriter(out), new PrintWriter(err));
        return new Run(status, out.toString(), err.toString());
    }

    private Run online(String... args) {
        return run(with(args, "--url", base.toString()));
    }

    private Run offline(String... args) {
        return run(with(args, "--consensus", consensusUrl, "--blob", blobUrl));
    }

    private static String[] with(String[] args, String... more) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of(more));
        return all.toArray(String[]::new);
    }

    /** Runs the command in both modes, checks both succeed with the same JSON, and returns it. */
    private JsonNode same(String... args) {
        Run online = online(args);
        Run offline = offline(args);
        assertThat(online.status()).as("online %s: %s", List.of(args), online.err()).isZero();
        assertThat(offline.status()).as("offline %s: %s", List.of(args), offline.err()).isZero();
        assertThat(offline.json()).as("offline %s prints what online prints", List.of(args)).isEqualTo(online.json());
        return online.json();
    }

    @Test
    void readsAgreeOnlineAndOffline() {
        String id = shard.shard.toString();
        JsonNode state = same("state", id);
        assertThat(state.path("shardId").asText()).isEqualTo(id);
        assertThat(state.path("leasedReaders")).hasSize(2);
        assertThat(state.path("earliestSeqno").asLong()).as("GC truncated").isGreaterThan(1);

        JsonNode versions = same("versions", id);
        assertThat(versions.path("earliest").asLong()).isEqualTo(state.path("earliestSeqno").asLong());
        assertThat(versions.path("current").asLong()).isEqualTo(state.path("seqno").asLong());
        assertThat(versions.path("versions")).hasSize((int) (versions.path("current").asLong()
                - versions.path("earliest").asLong() + 1));
        JsonNode page = same("versions", id, "--from", String.valueOf(shard.heldAppend), "--limit", "2");
        assertThat(page.path("versions").get(0).path("seqno").asLong()).isEqualTo(shard.heldAppend);
        assertThat(page.path("next").asLong()).isEqualTo(shard.heldAppend + 2);

        JsonNode diff = same("diff", id, String.valueOf(shard.heldAppend));
        assertThat(diff.path("seqnoTo").asLong()).isEqualTo(shard.heldAppend);
        assertThat(diff.path("changes").toString()).contains("\"field\":\"batches\"", "\"op\":\"insert\"");

        JsonNode rollups = same("rollups", id);
        assertThat(rollups.path("rollups")).hasSize(state.path("rollups").size());

        JsonNode blobs = same("blobs", id);
        assertThat(blobs.path("missing").asLong()).isZero();
        List<String> referenced = new ArrayList<>();
        blobs.path("blobs").forEach(b -> {
            if (b.path("status").asText().equals("referenced")) {
                referenced.add(b.path("key").asText());
            }
        });
        state.path("batches").forEach(b -> b.path("parts").forEach(p -> assertThat(referenced)
                .contains(id + "/" + p.path("key").asText())));
        state.path("rollups").forEach(r -> assertThat(referenced).contains(id + "/" + r.path("key").asText()));

        JsonNode shards = same("shards", "--limit", "1000");
        List<String> ids = new ArrayList<>();
        shards.path("shards").forEach(s -> ids.add(s.asText()));
        if (!ids.contains(id)) { // the suite's other tests made many shards: page on to ours
            JsonNode next = same("shards", "--after", ids.get(ids.size() - 1));
            next.path("shards").forEach(s -> ids.add(s.asText()));
        }
        assertThat(ids).contains(id);
    }

    @Test
    void missingVersionsAndShardsAreErrors() {
        String id = shard.shard.toString();
        for (Run r : List.of(online("diff", id, "1"), offline("diff", id, "1"))) {
            assertThat(r.status()).isEqualTo(CliException.FAILED);
            assertThat(r.err()).contains("version_truncated", "earliest live version is");
        }
        for (Run r : List.of(online("diff", id, "999999"), offline("diff", id, "999999"))) {
            assertThat(r.status()).isEqualTo(CliException.FAILED);
            assertThat(r.err()).contains("version_not_found");
        }
        String unknown = ShardId.random().toString();
        for (Run r : List.of(online("state", unknown), offline("state", unknown))) {
            assertThat(r.status()).isEqualTo(CliException.FAILED);
            assertThat(r.err()).contains("shard_not_found");
        }
        for (Run r : List.of(online("state", "s-nope"), offline("state", "s-nope"))) {
            assertThat(r.status()).isEqualTo(StateVersionsCli.USAGE);
            assertThat(r.err()).contains("invalid_id");
        }
        Run neither = run("state", id);
        assertThat(neither.status()).isEqualTo(StateVersionsCli.USAGE);
        assertThat(neither.err()).contains("--url", "--consensus");
    }

    @Test
    void tablesForPeople() {
        String id = shard.shard.toString();
        Run state = online("state", id, "--format", "table");
        assertThat(state.status()).isZero();
        assertThat(state.out()).contains("shardId", id, "leasedReaders (2)", "readerId", "writers (1)", "ingest");
        Run versions = offline("versions", id, "--format", "table");
        assertThat(versions.status()).isZero();
        assertThat(versions.out()).contains("seqno", "walltimeMs", "diffBytes",
                String.valueOf(shard.heldAppend));
        Run blobs = offline("blobs", id, "--format", "table");
        assertThat(blobs.out()).contains("key", "status", "referenced", id + "/" + shard.writer + "/p");
    }

    @Test
    void maintenanceOnlineOnly() {
        String id = shard.shard.toString();
        Run rollup = online("rollup", id);
        assertThat(rollup.status()).as(rollup.err()).isZero();
        assertThat(rollup.json().has("seqno")).isTrue();
        Run gc = online("gc", id);
        assertThat(gc.status()).as(gc.err()).isZero();
        assertThat(gc.json().has("truncatedBelow")).isTrue();
        Run sweep = online("sweep", id, "--grace-ms", "3600000");
        assertThat(sweep.status()).as(sweep.err()).isZero();
        assertThat(sweep.json().path("deleted").asLong()).isZero();
        for (String command : List.of("rollup", "gc", "sweep")) {
            Run offline = offline(command, id);
            assertThat(offline.status()).isEqualTo(StateVersionsCli.USAGE);
            assertThat(offline.err()).contains("only against a service");
        }
    }

    @Test
    void checkFailsOnADeletedRollupWithItsKey() throws Exception {
        InspectedShard damaged = InspectedShard.build(blob);
        String id = damaged.shard.toString();
        for (Run ok : List.of(online("check", id), offline("check", id))) {
            assertThat(ok.status()).as(ok.out() + ok.err()).isZero();
            assertThat(ok.json().path("ok").asBoolean()).isTrue();
            assertThat(ok.json().path("liveStates").asInt()).isPositive();
        }
        JsonNode rollups = same("rollups", id);
        JsonNode earliest = rollups.path("rollups").get(0);
        String key = earliest.path("key").asText();
        blob.delete(id + "/" + key).toCompletableFuture().get(30, TimeUnit.SECONDS);

        for (Run broken : List.of(online("check", id), offline("check", id))) {
            assertThat(broken.status()).as(broken.out() + broken.err()).isEqualTo(StateVersionsCli.VIOLATION);
            String violation = broken.json().path("violation").asText();
            assertThat(violation).contains("invariant violated for shard " + id, key, "missing from Blob",
                    "earliest v" + earliest.path("seqno").asLong());
        }
        Run table = offline("check", id, "--format", "table");
        assertThat(table.status()).isEqualTo(StateVersionsCli.VIOLATION);
        assertThat(table.out()).contains("ok", "false", key);
        // The live states start from the deleted rollup: the inventory cannot be taken, and says why offline.
        Run blobs = offline("blobs", id);
        assertThat(blobs.status()).isEqualTo(CliException.FAILED);
        assertThat(blobs.err()).contains(key, "is missing from Blob");
    }
}
