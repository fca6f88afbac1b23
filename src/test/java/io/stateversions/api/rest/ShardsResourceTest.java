package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasItem;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code /v1/shards}: open, list, state, versions, diffs, rollups. */
@QuarkusTest
class ShardsResourceTest {

    @Test
    void openCreatesThenOpens() {
        ShardId shard = ShardId.random();
        json(Rest.CODECS).put(shards(shard)).then().statusCode(201)
                .contentType("application/json")
                .body("shardId", equalTo(shard.toString()))
                .body("seqno", equalTo(1))
                .body("seqnoSince", equalTo(1))
                .body("earliestSeqno", equalTo(1))
                .body("since", contains(0))
                .body("upper", contains(0))
                .body("codecs.keyCodec", equalTo("bytes"))
                .body("codecs.valCodec", equalTo("unit"))
                .body("codecs.tsCodec", equalTo("u64"))
                .body("codecs.diffCodec", equalTo("i64"))
                .body("tombstone", equalTo(false));
        // Opening again: 200, the same summary, no new version.
        json(Rest.CODECS).put(shards(shard)).then().statusCode(200)
                .body("shardId", equalTo(shard.toString()))
                .body("seqno", equalTo(1));
        assertThat(Rest.seqno(shard)).isEqualTo(1);
    }

    @Test
    void openWithOtherCodecsIsCodecMismatch() {
        ShardId shard = Rest.newShard();
        Map<String, Object> other = new HashMap<>(Rest.CODECS);
        other.put("valCodec", "string");
        problem(json(other).put(shards(shard)).then(), 409, "codec_mismatch")
                .body("title", equalTo("Codec mismatch"))
                .body("detail", notNullValue())
                .body("actual.keyCodec", equalTo("bytes"))
                .body("actual.valCodec", equalTo("unit"))
                .body("actual.tsCodec", equalTo("u64"))
                .body("actual.diffCodec", equalTo("i64"));
        assertThat(Rest.seqno(shard)).isEqualTo(1);
        assertThat(Rest.state(shard).getString("codecs.valCodec")).isEqualTo("unit");
    }

    @Test
    void stateHasEveryField() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        Map<String, Object> append = Rest.append(writer, Rest.token(), 0, 5, 2);
        json(append).post(shards(shard) + "/batches").then().statusCode(200);
        String reader = Rest.leasedReader(shard);
        json(Map.of("purpose", "audit", "opaqueCodec", "u64", "initialOpaque", 7))
                .put(shards(shard) + "/critical-readers/c00000000-0000-0000-0000-0000000000c1").then().statusCode(200);
        json(Map.of("keySchema", "AQI=", "valSchema", "")).post(shards(shard) + "/schemas").then().statusCode(200);

        given().get(shards(shard)).then().statusCode(200)
                .body("shardId", equalTo(shard.toString()))
                .body("seqno", equalTo(5))
                .body("seqnoSince", equalTo(3)) // the leased reader holds the version it registered at
                .body("earliestSeqno", equalTo(1))
                .body("since", contains(0))
                .body("upper", contains(5))
                .body("tombstone", equalTo(false))
                .body("walltimeMs", greaterThan(0L))
                .body("hostname", notNullValue())
                .body("applierVersion", notNullValue())
                .body("lastGcReq", org.hamcrest.Matchers.greaterThanOrEqualTo(0))
                .body("rollups", hasSize(1))
                .body("rollups[0].seqno", equalTo(1))
                .body("rollups[0].key", org.hamcrest.Matchers.startsWith("v1/r"))
                .body("leasedReaders", hasSize(1))
                .body("leasedReaders[0].readerId", equalTo(reader))
                .body("leasedReaders[0].seqno", equalTo(3))
                .body("leasedReaders[0].since", contains(0))
                .body("leasedReaders[0].lastHeartbeatMs", greaterThan(0L))
                .body("leasedReaders[0].leaseDurationMs", equalTo(900_000))
                .body("leasedReaders[0].purpose", equalTo("test"))
                .body("criticalReaders[0].readerId", equalTo("c00000000-0000-0000-0000-0000000000c1"))
                .body("criticalReaders[0].since", contains(0))
                .body("criticalReaders[0].opaque", equalTo(7))
                .body("criticalReaders[0].opaqueCodec", equalTo("u64"))
                .body("criticalReaders[0].purpose", equalTo("audit"))
                .body("writers[0].writerId", equalTo(writer))
                .body("writers[0].mostRecentWriteToken", equalTo(append.get("idempotencyToken")))
                .body("writers[0].mostRecentWriteUpper", contains(5))
                .body("writers[0].leaseDurationMs", greaterThan(0))
                .body("writers[0].lastHeartbeatMs", greaterThan(0L))
                .body("writers[0].purpose", notNullValue())
                .body("schemas", hasSize(1))
                .body("schemas[0].schemaId", equalTo(0))
                .body("schemas[0].keySchema", equalTo("AQI="))
                .body("schemas[0].valSchema", equalTo(""))
                .body("batches", hasSize(1))
                .body("batches[0].lower", contains(0))
                .body("batches[0].upper", contains(5))
                .body("batches[0].since", contains(0))
                .body("batches[0].len", equalTo(2))
                .body("batches[0].parts", hasSize(2))
                .body("batches[0].parts[0].key", equalTo(((List<Map<String, Object>>) append.get("parts")).get(0).get("key")))
                .body("batches[0].parts[0].encodedSizeBytes", equalTo(100))
                .body("batches[0].runSplits", empty())
                .body("stats.batchCount", equalTo(1))
                .body("stats.partCount", equalTo(2))
                .body("stats.updateCount", equalTo(2))
                .body("stats.inlineParts", equalTo(0))
                .body("stats.inlineBytes", equalTo(0))
                .body("stats.batchBytes", equalTo(200))
                .body("stats.rollupBytes", notNullValue());
    }

    @Test
    void unknownShardIsNotFound() {
        ShardId shard = ShardId.random();
        problem(given().get(shards(shard)).then(), 404, "shard_not_found").body("title", equalTo("Shard not found"));
        problem(given().get(shards(shard) + "/versions").then(), 404, "shard_not_found");
        problem(given().get(shards(shard) + "/versions/1").then(), 404, "shard_not_found");
        problem(given().get(shards(shard) + "/diffs").then(), 404, "shard_not_found");
        problem(given().get(shards(shard) + "/rollups").then(), 404, "shard_not_found");
        // Mutations do not initialize a shard either.
        problem(json(Map.of("purpose", "p")).post(shards(shard) + "/leased-readers").then(), 404, "shard_not_found");
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 0, 1, 1))
                .post(shards(shard) + "/batches").then(), 404, "shard_not_found");
        problem(given().post(shards(shard) + "/finalize").then(), 404, "shard_not_found");
        problem(given().get(shards(shard)).then(), 404, "shard_not_found");
    }

    @Test
    void listShardsPagesInOrder() {
        List<String> mine = List.of(Rest.newShard().toString(), Rest.newShard().toString(),
                Rest.newShard().toString());

        JsonPath first = given().get("/v1/shards?limit=2").then().statusCode(200).extract().jsonPath();
        List<String> page = first.getList("shards");
        assertThat(page).hasSize(2);
        assertThat(first.getString("next")).isEqualTo(page.get(1));
        given().get("/v1/shards?limit=2&after=" + first.getString("next")).then().statusCode(200)
                .body("shards[0]", greaterThan(page.get(1)));

        List<String> all = new ArrayList<>();
        String after = null;
        do {
            JsonPath p = given().get("/v1/shards" + (after == null ? "" : "?after=" + after)).then().statusCode(200)
                    .extract().jsonPath();
            all.addAll(p.getList("shards"));
            after = p.getString("next");
        } while (after != null);
        assertThat(all).containsAll(mine).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void versionsPage() {
        ShardId shard = Rest.newShard();
        for (int i = 0; i < 4; i++) {
            Rest.appendOk(shard, i, i + 1);
        }
        long current = Rest.seqno(shard);
        assertThat(current).isGreaterThanOrEqualTo(5);

        given().get(shards(shard) + "/versions?limit=2").then().statusCode(200)
                .body("earliest", equalTo(1))
                .body("current", equalTo((int) current))
                .body("versions.seqno", contains(1, 2))
                .body("versions[0].walltimeMs", greaterThan(0L))
                .body("versions[0].diffBytes", greaterThan(0))
                .body("next", equalTo(3));
        given().get(shards(shard) + "/versions?from=3&limit=2").then().statusCode(200)
                .body("versions.seqno", contains(3, 4))
                .body("next", equalTo(5));
        JsonPath all = given().get(shards(shard) + "/versions").then().statusCode(200).extract().jsonPath();
        assertThat(all.getList("versions.seqno", Integer.class)).hasSize((int) current).isSorted();
        assertThat(all.getString("next")).isNull();
        given().get(shards(shard) + "/versions?from=" + current).then().statusCode(200)
                .body("versions.seqno", contains((int) current))
                .body("next", nullValue());
    }

    @Test
    void stateAtAVersion() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 3);
        Rest.appendOk(shard, 3, 7);
        given().get(shards(shard) + "/versions/1").then().statusCode(200)
                .body("seqno", equalTo(1))
                .body("upper", contains(0))
                .body("batches", empty())
                .body("earliestSeqno", equalTo(1));
        given().get(shards(shard) + "/versions/2").then().statusCode(200)
                .body("seqno", equalTo(2))
                .body("upper", contains(3));
        given().get(shards(shard) + "/versions/3").then().statusCode(200)
                .body("upper", contains(7))
                .body("batches", hasSize(2));
        problem(given().get(shards(shard) + "/versions/4").then(), 404, "version_not_found");
        problem(given().get(shards(shard) + "/versions/9223372036854775807").then(), 404, "version_not_found");
    }

    @Test
    void truncatedVersionIsGone() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 1);
        Rest.appendOk(shard, 1, 2);
        given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200);
        JsonPath gc = given().post(shards(shard) + "/maintenance/gc").then().statusCode(200).extract().jsonPath();
        long earliest = gc.getLong("truncatedBelow");
        assertThat(earliest).isGreaterThan(1);

        problem(given().get(shards(shard) + "/versions/1").then(), 410, "version_truncated")
                .body("title", equalTo("Version truncated"));
        problem(given().get(shards(shard) + "/versions/0").then(), 410, "version_truncated");
        given().get(shards(shard) + "/versions/" + earliest).then().statusCode(200).body("seqno", equalTo((int) earliest));
        given().get(shards(shard)).then().statusCode(200).body("earliestSeqno", equalTo((int) earliest));
        given().get(shards(shard) + "/versions").then().statusCode(200)
                .body("earliest", equalTo((int) earliest))
                .body("versions[0].seqno", equalTo((int) earliest));
        // Paging from a truncated seqno starts at the earliest live one.
        given().get(shards(shard) + "/versions?from=1&limit=1").then().statusCode(200)
                .body("versions[0].seqno", equalTo((int) earliest));
    }

    @Test
    void diffsAreDecoded() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        json(Map.of("purpose", "ingest")).put(shards(shard) + "/writers/" + writer).then().statusCode(200);
        Rest.appendOk(shard, 0, 4);

        JsonPath diffs = given().get(shards(shard) + "/diffs").then().statusCode(200).extract().jsonPath();
        assertThat(diffs.getList("diffs.seqnoTo", Integer.class)).containsExactly(1, 2, 3);
        assertThat(diffs.getString("next")).isNull();
        assertThat(diffs.getInt("diffs[1].seqnoFrom")).isEqualTo(1);
        assertThat(diffs.getLong("diffs[1].walltimeMs")).isPositive();
        assertThat(diffs.getString("diffs[1].latestRollupKey")).startsWith("v1/r");
        assertThat(diffs.getList("diffs[1].changes.field", String.class)).contains("writers");
        Map<String, Object> insert = diffs.getMap("diffs[1].changes.find { it.field == 'writers' }");
        assertThat(insert).containsEntry("op", "insert").containsEntry("key", writer).containsEntry("old", null);
        assertThat(insert.get("new")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("purpose", "ingest");
        Map<String, Object> batches = diffs.getMap("diffs[2].changes.find { it.field == 'batches' }");
        assertThat(batches).containsEntry("op", "insert");

        given().get(shards(shard) + "/diffs?limit=1&from=2").then().statusCode(200)
                .body("diffs.seqnoTo", contains(2))
                .body("next", equalTo(3));
    }

    @Test
    void rollupsList() {
        ShardId shard = Rest.newShard();
        given().get(shards(shard) + "/rollups").then().statusCode(200)
                .body("rollups", hasSize(1))
                .body("rollups[0].seqno", equalTo(1))
                .body("rollups[0].key", org.hamcrest.Matchers.startsWith("v1/r"))
                .body("rollups[0]", org.hamcrest.Matchers.hasKey("encodedSizeBytes"));
        Rest.appendOk(shard, 0, 1);
        String key = given().post(shards(shard) + "/maintenance/rollup").then().statusCode(200)
                .extract().path("rollupKey");
        given().get(shards(shard) + "/rollups").then().statusCode(200)
                .body("rollups.key", hasItem(key))
                .body("rollups.find { it.key == '" + key + "' }.encodedSizeBytes", greaterThan(0));
    }
}
