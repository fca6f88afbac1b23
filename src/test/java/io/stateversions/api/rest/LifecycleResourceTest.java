package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Schemas, finalization and tombstones, maintenance on demand (rollup, GC, leaked-blob sweep). */
@QuarkusTest
class LifecycleResourceTest {

    @jakarta.inject.Inject
    io.stateversions.machine.Maintenance maintenance;


    @Inject
    Blob blob;

    // ------------------------------------------------------------------------------------------------ schemas

    @Test
    void schemaIdsAreDenseAndStable() {
        ShardId shard = Rest.newShard();
        json(Map.of("keySchema", "AQ==", "valSchema", "Ag==")).post(shards(shard) + "/schemas").then()
                .statusCode(200)
                .body("schemaId", equalTo(0))
                .body("seqno", equalTo(2));
        // The identical pair again: the same id, and no new version.
        json(Map.of("keySchema", "AQ==", "valSchema", "Ag==")).post(shards(shard) + "/schemas").then()
                .statusCode(200)
                .body("schemaId", equalTo(0));
        assertThat(Rest.seqno(shard)).isEqualTo(2);
        json(Map.of("keySchema", "AQ==", "valSchema", "Aw==")).post(shards(shard) + "/schemas").then()
                .statusCode(200)
                .body("schemaId", equalTo(1));
        json(Map.of("keySchema", "AQ==", "valSchema", "Ag==")).post(shards(shard) + "/schemas").then()
                .statusCode(200)
                .body("schemaId", equalTo(0));
        given().get(shards(shard)).then()
                .body("schemas", hasSize(2))
                .body("schemas.schemaId", contains(0, 1))
                .body("schemas[0].keySchema", equalTo("AQ=="))
                .body("schemas[0].valSchema", equalTo("Ag=="));
        problem(json(Map.of("keySchema", "AQ==", "valSchema", "Ag==")).post(shards(ShardId.random()) + "/schemas")
                .then(), 404, "shard_not_found");
    }

    // ----------------------------------------------------------------------------------- finalize, tombstones

    @Test
    void finalizeNeedsSinceAndUpperClosed() {
        ShardId shard = Rest.newShard();
        problem(given().post(shards(shard) + "/finalize").then(), 409, "not_finalizable")
                .body("title", equalTo("Shard not finalizable"));
        // Upper closed, since not: still not finalizable.
        json(Rest.append(WriterId.random().toString(), Rest.token(), 0, -1, 1)).post(shards(shard) + "/batches")
                .then().statusCode(200);
        long seqno = Rest.seqno(shard);
        problem(given().post(shards(shard) + "/finalize").then(), 409, "not_finalizable");
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
    }

    /** A shard with a writer, a leased and a critical reader, upper and since closed, finalized. */
    private ShardId tombstone(String writer, String leased, String critical) {
        ShardId shard = Rest.newShard();
        json(Rest.append(writer, Rest.token(), 0, 5, 1)).post(shards(shard) + "/batches").then().statusCode(200);
        json(Rest.append(writer, Rest.token(), 5, -1, 1)).post(shards(shard) + "/batches").then().statusCode(200);
        json(Map.of("readerId", leased, "purpose", "p")).post(shards(shard) + "/leased-readers").then()
                .statusCode(200);
        json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(shards(shard) + "/critical-readers/" + critical)
                .then().statusCode(200);
        json(Map.of("since", List.of())).post(shards(shard) + "/leased-readers/" + leased + "/downgrade-since")
                .then().statusCode(200);
        json(Map.of("expectedOpaque", 0, "newOpaque", 1, "since", List.of()))
                .post(shards(shard) + "/critical-readers/" + critical + "/compare-and-downgrade-since").then()
                .statusCode(200);
        given().get(shards(shard)).then().body("since", empty()).body("upper", empty());
        given().post(shards(shard) + "/finalize").then().statusCode(200)
                .contentType("application/json")
                .body("shardId", equalTo(shard.toString()))
                .body("tombstone", equalTo(true))
                .body("since", empty())
                .body("upper", empty())
                .body("codecs.keyCodec", equalTo("bytes"))
                .body("earliestSeqno", equalTo(1));
        // A tombstone is assigned one last rollup, which maintenance commits in the background (api.md: nothing but
        // maintenance commits on a tombstone); wait for it, so that the versions the tests compare are stable.
        maintenance.idle(shard).orTimeout(30, java.util.concurrent.TimeUnit.SECONDS).join();
        return shard;
    }

    @Test
    void finalizeMakesATombstone() {
        ShardId shard = tombstone(WriterId.random().toString(), LeasedReaderId.random().toString(),
                CriticalReaderId.random().toString());
        given().get(shards(shard)).then().statusCode(200)
                .body("tombstone", equalTo(true))
                .body("leasedReaders", empty())
                .body("criticalReaders", empty())
                .body("writers", empty())
                .body("batches", hasSize(1))
                .body("batches[0].parts", empty());
        long seqno = Rest.seqno(shard);
        // Finalizing again: 200, nothing new.
        given().post(shards(shard) + "/finalize").then().statusCode(200).body("tombstone", equalTo(true))
                .body("seqno", equalTo((int) seqno));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
    }

    @Test
    void tombstoneRefusesWritesAndRegistrationsAndCommitsNothing() {
        String writer = WriterId.random().toString();
        String leased = LeasedReaderId.random().toString();
        String critical = CriticalReaderId.random().toString();
        ShardId shard = tombstone(writer, leased, critical);
        long seqno = Rest.seqno(shard);
        String path = shards(shard);

        problem(json(Rest.append(writer, Rest.token(), 0, 1, 1)).post(path + "/batches").then(), 409,
                "upper_mismatch").body("currentUpper", empty());
        problem(json(Map.of("purpose", "p")).post(path + "/leased-readers").then(), 409, "shard_tombstoned")
                .body("title", equalTo("Shard tombstoned"));
        problem(json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(path + "/critical-readers/" + critical)
                .then(), 409, "shard_tombstoned");
        problem(json(Map.of("purpose", "p")).put(path + "/writers/" + writer).then(), 409, "shard_tombstoned");
        problem(json(Map.of("keySchema", "AQ==", "valSchema", "Ag==")).post(path + "/schemas").then(), 409,
                "shard_tombstoned");
        // Expiries are 200 and change nothing.
        given().delete(path + "/leased-readers/" + leased).then().statusCode(200).body("seqno", equalTo((int) seqno));
        given().delete(path + "/critical-readers/" + critical).then().statusCode(200);
        given().delete(path + "/writers/" + writer).then().statusCode(200);
        // The handles are gone: heartbeats find nothing to extend.
        problem(given().post(path + "/leased-readers/" + leased + "/heartbeat").then(), 404, "reader_expired");
        problem(given().post(path + "/writers/" + writer + "/heartbeat").then(), 404, "writer_expired");
        // Reads still work.
        given().get(path + "/snapshot?asOf=0").then().statusCode(409);
        given().get(path + "/merge-requests").then().statusCode(200);
        given().get(path + "/versions").then().statusCode(200);

        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
        // Open answers the tombstone.
        json(Rest.CODECS).put(path).then().statusCode(200).body("tombstone", equalTo(true));
    }

    // ------------------------------------------------------------------------------------------- maintenance

    @Test
    void writeRollupNow() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 1);
        JsonPath written = given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200)
                .body("rollupKey", startsWith("v2/r"))
                .extract().jsonPath();
        long seqno = written.getLong("seqno");
        assertThat(seqno).isEqualTo(Rest.seqno(shard));
        given().get(shards(shard) + "/rollups").then().body("rollups.seqno", contains(1, 2));
        // The version that linked it has no rollup of its own yet: the next call writes one.
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200)
                .body("rollupKey", startsWith("v" + seqno + "/r"))
                .body("seqno", equalTo((int) seqno + 1));
    }

    @Test
    void writeRollupWhenTheLatestVersionHasOne() {
        ShardId shard = Rest.newShard();
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200)
                .body("seqno", equalTo(1))
                .body("rollupKey", nullValue());
        assertThat(Rest.seqno(shard)).isEqualTo(1);
    }

    @Test
    void gcNow() {
        ShardId shard = Rest.newShard();
        for (int i = 0; i < 3; i++) {
            Rest.appendOk(shard, i, i + 1);
        }
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200);
        JsonPath gc = given().post(shards(shard) + "/maintenance/gc").then().statusCode(200)
                .body("seqno", notNullValue())
                .body("rollupsDeleted", greaterThanOrEqualTo(0)) // v1 goes from state now, its blob with a later GC
                .body("partsDeleted", greaterThanOrEqualTo(0))
                .extract().jsonPath();
        assertThat(gc.getLong("truncatedBelow")).isEqualTo(4);
        given().get(shards(shard) + "/versions").then().body("earliest", equalTo(4));
        given().get(shards(shard) + "/rollups").then().body("rollups.seqno", contains(4));
        // Nothing more to collect: GC again is harmless.
        given().post(shards(shard) + "/maintenance/gc").then().statusCode(200).body("truncatedBelow", equalTo(4));
    }

    @Test
    void gcKeepsWhatAReaderHolds() {
        ShardId shard = Rest.newShard();
        String reader = Rest.leasedReader(shard); // holds v2
        Rest.appendOk(shard, 0, 1);
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200);
        given().post(shards(shard) + "/maintenance/gc").then().statusCode(200)
                .body("truncatedBelow", equalTo(1));
        given().get(shards(shard) + "/versions/2").then().statusCode(200);
        given().delete(shards(shard) + "/leased-readers/" + reader).then().statusCode(200);
    }

    @Test
    void maintenanceOfUnknownShard() {
        problem(given().post(shards(ShardId.random()) + "/maintenance/rollup").then(), 404, "shard_not_found");
        problem(given().post(shards(ShardId.random()) + "/maintenance/gc").then(), 404, "shard_not_found");
        problem(given().post(shards(ShardId.random()) + "/maintenance/leaked-blobs").then(), 404,
                "shard_not_found");
    }

    // ------------------------------------------------------------------------------------- leaked-blob sweep

    @Test
    void sweepLeakedBlobsKeepsYoungOrphansAndDeletesOldOnes() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 1);
        String orphan = new PartialBatchKey(WriterKey.of(WriterId.random()), PartId.random()).complete(shard);
        join(blob.set(orphan, new byte[] {1}));
        long seqno = Rest.seqno(shard);

        // Just written: the default grace (1 hour) keeps it, as a writer may still append it.
        JsonPath young = given().post(shards(shard) + "/maintenance/leaked-blobs").then().statusCode(200)
                .body("deleted", equalTo(0))
                .body("tooYoung", equalTo(1))
                .extract().jsonPath();
        assertThat(young.getLong("seqno")).isEqualTo(seqno);
        assertThat(young.getLong("referenced")).isGreaterThanOrEqualTo(1); // the initial rollup at least
        assertThat(young.getLong("listed")).isEqualTo(young.getLong("referenced") + 1);
        assertThat(join(blob.get(orphan))).isPresent();
        given().post(shards(shard) + "/maintenance/leaked-blobs?graceMs=").then().statusCode(200)
                .body("deleted", equalTo(0));

        // Once the orphan is as old as the least grace allowed (200 ms in tests), a sweep at that grace deletes it.
        String sweep = shards(shard) + "/maintenance/leaked-blobs?graceMs=" + MIN_GRACE_MS;
        await().atMost(Duration.ofSeconds(10)).until(() -> given().post(sweep).then().statusCode(200)
                .body("tooYoung", equalTo(0))
                .body("referenced", equalTo(young.getInt("referenced")))
                .body("listed", equalTo(young.getInt("listed")))
                .extract().jsonPath().getInt("deleted") == 1);
        assertThat(join(blob.get(orphan))).isEmpty();
        // Nothing left: a second sweep deletes nothing, and the shard's state is untouched.
        given().post(sweep).then().statusCode(200)
                .body("deleted", equalTo(0))
                .body("listed", equalTo(young.getInt("referenced")));
        given().get(shards(shard)).then().statusCode(200).body("batches", hasSize(1));
    }

    /** {@code stateversions.maintenance.leaked-blob-min-grace} in the test profile. */
    static final long MIN_GRACE_MS = 200;

    @Test
    void sweepLeakedBlobsRefusesAGraceBelowTheMinimumAndDeletesNothing() {
        ShardId shard = Rest.newShard();
        String orphan = new PartialBatchKey(WriterKey.of(WriterId.random()), PartId.random()).complete(shard);
        join(blob.set(orphan, new byte[] {1}));

        for (long grace : List.of(0L, MIN_GRACE_MS - 1)) {
            problem(given().post(shards(shard) + "/maintenance/leaked-blobs?graceMs=" + grace).then(), 400,
                    "invalid_request")
                    .body("detail", containsString(Long.toString(MIN_GRACE_MS)))
                    .body("minGraceMs", equalTo((int) MIN_GRACE_MS));
        }
        assertThat(join(blob.get(orphan))).isPresent();
    }

    @Test
    void sweepLeakedBlobsRefusesBadInput() {
        ShardId shard = Rest.newShard();
        for (String grace : List.of("-1", "1.5", "abc", "9223372036854775808")) {
            problem(given().post(shards(shard) + "/maintenance/leaked-blobs?graceMs=" + grace).then(), 400,
                    "invalid_request");
        }
        problem(given().post("/v1/shards/not-a-shard/maintenance/leaked-blobs").then(), 400, "invalid_id");
    }

    private static <T> T join(java.util.concurrent.CompletionStage<T> stage) {
        return stage.toCompletableFuture().join();
    }
}
