package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.ShardId;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Leased and critical readers. */
@QuarkusTest
class ReadersResourceTest {

    // ------------------------------------------------------------------------------------------ leased readers

    @Test
    void registerLeasedReader() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 10);
        JsonPath reader = json(Map.of("purpose", "scan", "leaseDurationMs", 60_000))
                .post(shards(shard) + "/leased-readers").then().statusCode(200).extract().jsonPath();
        assertThat(reader.getString("readerId")).startsWith("r");
        assertThat(reader.getLong("seqno")).isEqualTo(3);
        assertThat(reader.getList("since", Long.class)).containsExactly(0L);
        assertThat(reader.getList("upper", Long.class)).containsExactly(10L);
        assertThat(reader.getLong("leaseDurationMs")).isEqualTo(60_000);
        given().get(shards(shard)).then()
                .body("leasedReaders.readerId", contains(reader.getString("readerId")))
                .body("leasedReaders[0].seqno", equalTo(3))
                .body("seqnoSince", equalTo(3));
    }

    @Test
    void newLeasedReaderGetsTheShardsSince() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 10);
        String first = Rest.leasedReader(shard);
        json(Map.of("since", List.of(6))).post(shards(shard) + "/leased-readers/" + first + "/downgrade-since")
                .then().statusCode(200);
        json(Map.of("purpose", "second")).post(shards(shard) + "/leased-readers").then().statusCode(200)
                .body("since", contains(6))
                .body("seqno", equalTo((int) Rest.seqno(shard)));
    }

    @Test
    void registerLeasedReaderWithItsIdIsIdempotent() {
        ShardId shard = Rest.newShard();
        String id = LeasedReaderId.random().toString();
        long seqno = json(Map.of("readerId", id, "purpose", "p")).post(shards(shard) + "/leased-readers").then()
                .statusCode(200)
                .body("readerId", equalTo(id))
                .body("leaseDurationMs", equalTo(900_000)) // the configured default
                .extract().jsonPath().getLong("seqno");
        String other = Rest.leasedReader(shard);
        // The repeat leaves the reader's hold where it was, however many versions came in between.
        json(Map.of("readerId", id, "purpose", "p")).post(shards(shard) + "/leased-readers").then().statusCode(200)
                .body("readerId", equalTo(id))
                .body("seqno", equalTo((int) seqno));
        given().get(shards(shard)).then()
                .body("leasedReaders.readerId", containsInAnyOrder(id, other))
                .body("leasedReaders.find { it.readerId == '" + id + "' }.seqno", equalTo((int) seqno));
    }

    @Test
    void heartbeatLeasedReader() {
        ShardId shard = Rest.newShard();
        String reader = Rest.leasedReader(shard);
        long before = Rest.state(shard).getLong("leasedReaders[0].lastHeartbeatMs");
        long seqno = given().post(shards(shard) + "/leased-readers/" + reader + "/heartbeat").then().statusCode(200)
                .extract().jsonPath().getLong("seqno");
        assertThat(seqno).isEqualTo(Rest.seqno(shard));
        assertThat(Rest.state(shard).getLong("leasedReaders[0].lastHeartbeatMs")).isGreaterThanOrEqualTo(before);

        problem(given().post(shards(shard) + "/leased-readers/" + LeasedReaderId.random() + "/heartbeat").then(),
                404, "reader_expired").body("title", equalTo("Reader not registered"));
    }

    @Test
    void downgradeSinceNeverRegresses() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 10);
        String reader = Rest.leasedReader(shard);
        String path = shards(shard) + "/leased-readers/" + reader + "/downgrade-since";
        json(Map.of("since", List.of(5))).post(path).then().statusCode(200)
                .body("since", contains(5))
                .body("seqno", equalTo((int) Rest.seqno(shard)));
        given().get(shards(shard)).then().body("since", contains(5)).body("leasedReaders[0].since", contains(5));
        // An older since is a no-op that answers the reader's since.
        json(Map.of("since", List.of(2))).post(path).then().statusCode(200).body("since", contains(5));
        json(Map.of("since", List.of())).post(path).then().statusCode(200).body("since", empty());
        given().get(shards(shard)).then().body("since", empty());

        problem(json(Map.of("since", List.of(1))).post(shards(shard) + "/leased-readers/" + LeasedReaderId.random()
                + "/downgrade-since").then(), 404, "reader_expired");
    }

    @Test
    void expireLeasedReaderIsIdempotent() {
        ShardId shard = Rest.newShard();
        String reader = Rest.leasedReader(shard);
        long seqno = given().delete(shards(shard) + "/leased-readers/" + reader).then().statusCode(200)
                .extract().jsonPath().getLong("seqno");
        assertThat(seqno).isEqualTo(Rest.seqno(shard));
        given().get(shards(shard)).then().body("leasedReaders", empty());
        given().delete(shards(shard) + "/leased-readers/" + reader).then().statusCode(200);
        given().delete(shards(shard) + "/leased-readers/" + LeasedReaderId.random()).then().statusCode(200);
        problem(given().post(shards(shard) + "/leased-readers/" + reader + "/heartbeat").then(), 404, "reader_expired");
    }

    // ---------------------------------------------------------------------------------------- critical readers

    private static String critical(ShardId shard, String reader) {
        return shards(shard) + "/critical-readers/" + reader;
    }

    @Test
    void registerCriticalReaderIsIdempotent() {
        ShardId shard = Rest.newShard();
        String reader = CriticalReaderId.random().toString();
        json(Map.of("purpose", "controller", "opaqueCodec", "u64", "initialOpaque", 42)).put(critical(shard, reader))
                .then().statusCode(200)
                .body("readerId", equalTo(reader))
                .body("since", contains(0))
                .body("opaque", equalTo(42))
                .body("opaqueCodec", equalTo("u64"))
                .body("seqno", equalTo(2));
        // Again (even with another initial value): the existing reader, unchanged.
        json(Map.of("purpose", "controller", "opaqueCodec", "u64", "initialOpaque", 9)).put(critical(shard, reader))
                .then().statusCode(200)
                .body("opaque", equalTo(42));
        // Default initial opaque: 0.
        json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(critical(shard, CriticalReaderId.random().toString()))
                .then().statusCode(200).body("opaque", equalTo(0));
    }

    @Test
    void registerCriticalReaderWithAnotherOpaqueCodec() {
        ShardId shard = Rest.newShard();
        String reader = CriticalReaderId.random().toString();
        json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(critical(shard, reader)).then().statusCode(200);
        long seqno = Rest.seqno(shard);
        problem(json(Map.of("purpose", "p", "opaqueCodec", "i64")).put(critical(shard, reader)).then(), 409,
                "opaque_codec_mismatch").body("title", equalTo("Opaque codec mismatch"));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
    }

    @Test
    void compareAndDowngradeSince() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 10);
        String reader = CriticalReaderId.random().toString();
        json(Map.of("purpose", "p", "opaqueCodec", "u64", "initialOpaque", 1)).put(critical(shard, reader)).then()
                .statusCode(200);
        String path = critical(shard, reader) + "/compare-and-downgrade-since";
        json(Map.of("expectedOpaque", 1, "newOpaque", 2, "since", List.of(4))).post(path).then().statusCode(200)
                .body("since", contains(4))
                .body("opaque", equalTo(2))
                .body("seqno", equalTo((int) Rest.seqno(shard)));
        given().get(shards(shard)).then().body("since", contains(4)).body("criticalReaders[0].opaque", equalTo(2));

        problem(json(Map.of("expectedOpaque", 1, "newOpaque", 3, "since", List.of(6))).post(path).then(), 409,
                "opaque_mismatch")
                .body("title", equalTo("Opaque mismatch"))
                .body("currentOpaque", equalTo(2))
                .body("since", contains(4));
        given().get(shards(shard)).then().body("since", contains(4)).body("criticalReaders[0].opaque", equalTo(2));

        // Negative opaques are int64 values like any other.
        json(Map.of("expectedOpaque", 2, "newOpaque", -5, "since", List.of(4))).post(path).then().statusCode(200)
                .body("opaque", equalTo(-5));
    }

    @Test
    void compareAndDowngradeSinceOfUnknownReader() {
        ShardId shard = Rest.newShard();
        problem(json(Map.of("expectedOpaque", 0, "newOpaque", 1, "since", List.of(1)))
                .post(critical(shard, CriticalReaderId.random().toString()) + "/compare-and-downgrade-since").then(),
                404, "reader_expired");
    }

    @Test
    void expireCriticalReaderIsIdempotent() {
        ShardId shard = Rest.newShard();
        String reader = CriticalReaderId.random().toString();
        json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(critical(shard, reader)).then().statusCode(200);
        given().delete(critical(shard, reader)).then().statusCode(200)
                .body("seqno", equalTo((int) Rest.seqno(shard)));
        given().get(shards(shard)).then().body("criticalReaders", empty());
        given().delete(critical(shard, reader)).then().statusCode(200);
    }

    @Test
    void readersOfUnknownShard() {
        ShardId shard = ShardId.random();
        String reader = LeasedReaderId.random().toString();
        problem(given().post(shards(shard) + "/leased-readers/" + reader + "/heartbeat").then(), 404,
                "shard_not_found");
        problem(json(Map.of("since", List.of(1))).post(shards(shard) + "/leased-readers/" + reader
                + "/downgrade-since").then(), 404, "shard_not_found");
        problem(given().delete(shards(shard) + "/leased-readers/" + reader).then(), 404, "shard_not_found");
        String critical = CriticalReaderId.random().toString();
        problem(json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(critical(shard, critical)).then(), 404,
                "shard_not_found").body("detail", startsWith("shard " + shard));
        problem(given().delete(critical(shard, critical)).then(), 404, "shard_not_found");
    }
}
