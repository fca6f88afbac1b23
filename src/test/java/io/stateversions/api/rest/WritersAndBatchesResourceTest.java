package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.ShardId;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Writers, compare_and_append, snapshots and compaction. */
@QuarkusTest
class WritersAndBatchesResourceTest {

    private static String batches(ShardId shard) {
        return shards(shard) + "/batches";
    }

    // ------------------------------------------------------------------------------------------------ writers

    @Test
    void registerHeartbeatExpireWriter() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        json(Map.of("purpose", "ingest", "leaseDurationMs", 120_000)).put(shards(shard) + "/writers/" + writer)
                .then().statusCode(200)
                .body("writerId", equalTo(writer))
                .body("upper", contains(0))
                .body("leaseDurationMs", equalTo(120_000))
                .body("seqno", equalTo(2));
        given().get(shards(shard)).then().body("writers[0].writerId", equalTo(writer))
                .body("writers[0].purpose", equalTo("ingest"));
        // Registering again heartbeats.
        json(Map.of("purpose", "ingest")).put(shards(shard) + "/writers/" + writer).then().statusCode(200);

        given().post(shards(shard) + "/writers/" + writer + "/heartbeat").then().statusCode(200)
                .body("seqno", equalTo((int) Rest.seqno(shard)));
        given().delete(shards(shard) + "/writers/" + writer).then().statusCode(200);
        given().get(shards(shard)).then().body("writers", empty());
        given().delete(shards(shard) + "/writers/" + writer).then().statusCode(200);
        problem(given().post(shards(shard) + "/writers/" + writer + "/heartbeat").then(), 404, "writer_expired")
                .body("title", equalTo("Writer not registered"));
    }

    @Test
    void writersOfUnknownShard() {
        ShardId shard = ShardId.random();
        String writer = WriterId.random().toString();
        problem(json(Map.of("purpose", "p")).put(shards(shard) + "/writers/" + writer).then(), 404, "shard_not_found");
        problem(given().post(shards(shard) + "/writers/" + writer + "/heartbeat").then(), 404, "shard_not_found");
        problem(given().delete(shards(shard) + "/writers/" + writer).then(), 404, "shard_not_found");
    }

    // ------------------------------------------------------------------------------------------------ appends

    @Test
    void appendRegistersTheWriterAndAdvancesUpper() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        Map<String, Object> body = Rest.append(writer, Rest.token(), 0, 5, 1);
        json(body).post(batches(shard)).then().statusCode(200)
                .body("seqno", equalTo(2))
                .body("upper", contains(5))
                .body("alreadyCommitted", equalTo(false))
                .body("mergeRequests", empty());
        given().get(shards(shard)).then()
                .body("upper", contains(5))
                .body("writers[0].writerId", equalTo(writer))
                .body("writers[0].mostRecentWriteToken", equalTo(body.get("idempotencyToken")))
                .body("writers[0].mostRecentWriteUpper", contains(5));
    }

    @Test
    void appendRetriedWithTheSameTokenIsAlreadyCommitted() {
        ShardId shard = Rest.newShard();
        Map<String, Object> body = Rest.append(WriterId.random().toString(), Rest.token(), 0, 5, 1);
        json(body).post(batches(shard)).then().statusCode(200).body("alreadyCommitted", equalTo(false));
        long seqno = Rest.seqno(shard);
        json(body).post(batches(shard)).then().statusCode(200)
                .body("alreadyCommitted", equalTo(true))
                .body("upper", contains(5))
                .body("seqno", equalTo((int) seqno));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
        given().get(shards(shard)).then().body("batches", hasSize(1));
    }

    @Test
    void appendAtTheWrongLowerIsUpperMismatch() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        json(Rest.append(writer, Rest.token(), 0, 5, 1)).post(batches(shard)).then().statusCode(200);
        long seqno = Rest.seqno(shard);
        problem(json(Rest.append(writer, Rest.token(), 3, 8, 1)).post(batches(shard)).then(), 409, "upper_mismatch")
                .body("title", equalTo("Upper mismatch"))
                .body("currentUpper", contains(5))
                .body("writerUpper", contains(5));
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 0, 8, 1)).post(batches(shard)).then(),
                409, "upper_mismatch")
                .body("currentUpper", contains(5))
                .body("writerUpper", contains(0));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
    }

    @Test
    void appendWithUpperBelowLowerIsInvalidBounds() {
        ShardId shard = Rest.newShard();
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 5, 3, 1)).post(batches(shard)).then(),
                400, "invalid_bounds").body("title", equalTo("Invalid bounds"));
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), -1, 3, 0)).post(batches(shard)).then(),
                400, "invalid_bounds");
        assertThat(Rest.seqno(shard)).isEqualTo(1);
    }

    @Test
    void appendOfAnEmptyIntervalWithParts() {
        ShardId shard = Rest.newShard();
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 0, 0, 1)).post(batches(shard)).then(),
                400, "invalid_empty_time_interval");
        assertThat(Rest.seqno(shard)).isEqualTo(1);
        // Without parts it is allowed: it registers the writer and moves nothing.
        json(Rest.append(WriterId.random().toString(), Rest.token(), 0, 0, 0)).post(batches(shard)).then()
                .statusCode(200).body("upper", contains(0));
    }

    @Test
    void appendClosingTheShard() {
        ShardId shard = Rest.newShard();
        json(Rest.append(WriterId.random().toString(), Rest.token(), 0, -1, 1)).post(batches(shard)).then()
                .statusCode(200).body("upper", empty());
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 5, 6, 1)).post(batches(shard)).then(),
                409, "upper_mismatch").body("currentUpper", empty());
    }

    @Test
    void inlinePartsAndBackpressure() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        String small = Base64.getEncoder().encodeToString(new byte[] {1, 2, 3});
        Map<String, Object> body = new HashMap<>(Rest.append(writer, Rest.token(), 0, 1, 0));
        body.put("len", 1);
        body.put("parts", List.of(Map.of("inline", small)));
        json(body).post(batches(shard)).then().statusCode(200);
        given().get(shards(shard)).then()
                .body("batches[0].parts[0].inline", equalTo(small))
                .body("stats.inlineParts", equalTo(1))
                .body("stats.inlineBytes", equalTo(3));

        // 600 KiB twice passes the 1 MiB per-shard cap: the second is pushed back.
        String big = Base64.getEncoder().encodeToString(new byte[600 * 1024]);
        body.put("idempotencyToken", Rest.token());
        body.put("lower", List.of(1));
        body.put("upper", List.of(2));
        body.put("parts", List.of(Map.of("inline", big)));
        json(body).post(batches(shard)).then().statusCode(200);
        long seqno = Rest.seqno(shard);
        body.put("idempotencyToken", Rest.token());
        body.put("lower", List.of(2));
        body.put("upper", List.of(3));
        problem(json(body).post(batches(shard)).then(), 429, "inline_backpressure")
                .body("title", equalTo("Inline backpressure"));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);

        // One inline part over the cap can never be appended: invalid_request.
        body.put("parts", List.of(Map.of("inline", Base64.getEncoder().encodeToString(new byte[1024 * 1024 + 1]))));
        problem(json(body).post(batches(shard)).then(), 400, "invalid_request");
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
    }

    @Test
    void appendKeepsPartFields() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        String key = writer + "/p00000000-0000-0000-0000-000000000007";
        Map<String, Object> body = new HashMap<>(Rest.append(writer, Rest.token(), 0, 3, 0));
        body.put("len", 4);
        body.put("parts", List.of(Map.of("key", key, "encodedSizeBytes", 1000, "keyLower", "AAE=", "stats", "Ag=="),
                Map.of("inline", "AwQ=")));
        body.put("runSplits", List.of(1));
        body.put("since", List.of(0));
        json(body).post(batches(shard)).then().statusCode(200);
        given().get(shards(shard)).then()
                .body("batches[0].len", equalTo(4))
                .body("batches[0].runSplits", contains(1))
                .body("batches[0].parts[0].key", equalTo(key))
                .body("batches[0].parts[0].encodedSizeBytes", equalTo(1000))
                .body("batches[0].parts[0].keyLower", equalTo("AAE="))
                .body("batches[0].parts[0].stats", equalTo("Ag=="))
                .body("batches[0].parts[1].inline", equalTo("AwQ="))
                .body("batches[0].parts[1]", org.hamcrest.Matchers.not(org.hamcrest.Matchers.hasKey("key")));
    }

    @Test
    void largestTimestampAndLease() {
        ShardId shard = Rest.newShard();
        long max = Long.MAX_VALUE; // 2^63-1, the largest timestamp
        json(Rest.append(WriterId.random().toString(), Rest.token(), 0, max, 1)).post(batches(shard)).then()
                .statusCode(200).body("upper", contains(max));
        given().get(shards(shard) + "/snapshot?asOf=" + (max - 1)).then().statusCode(200).body("batches", hasSize(1));
        problem(given().get(shards(shard) + "/snapshot?asOf=" + max).then(), 409, "as_of_not_available");
        // Any positive lease is accepted, the largest too.
        json(Map.of("purpose", "p", "leaseDurationMs", max)).put(shards(shard) + "/writers/" + WriterId.random())
                .then().statusCode(200).body("leaseDurationMs", equalTo(max));
        json(Map.of("purpose", "p", "leaseDurationMs", max)).post(shards(shard) + "/leased-readers").then()
                .statusCode(200).body("leaseDurationMs", equalTo(max));
    }

    // ----------------------------------------------------------------------------------------------- snapshot

    @Test
    void snapshot() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 5);
        json(Rest.append(WriterId.random().toString(), Rest.token(), 5, 10, 0)).post(batches(shard)).then()
                .statusCode(200);
        Rest.appendOk(shard, 10, 15);
        // The spec's worked example: as of 9 the first two batches, as of 10 all three.
        given().get(shards(shard) + "/snapshot?asOf=9").then().statusCode(200)
                .body("asOf", equalTo(9))
                .body("since", contains(0))
                .body("upper", contains(15))
                .body("seqno", equalTo((int) Rest.seqno(shard)))
                .body("batches.lower", contains(List.of(0), List.of(5)));
        given().get(shards(shard) + "/snapshot?asOf=10").then().statusCode(200).body("batches", hasSize(3));

        problem(given().get(shards(shard) + "/snapshot?asOf=15").then(), 409, "as_of_not_available")
                .body("since", contains(0))
                .body("upper", contains(15));

        String reader = Rest.leasedReader(shard);
        json(Map.of("since", List.of(4))).post(shards(shard) + "/leased-readers/" + reader + "/downgrade-since")
                .then().statusCode(200);
        problem(given().get(shards(shard) + "/snapshot?asOf=3").then(), 409, "as_of_before_since")
                .body("since", contains(4))
                .body("upper", contains(15));
        given().get(shards(shard) + "/snapshot?asOf=4").then().statusCode(200);
        problem(given().get(shards(ShardId.random()) + "/snapshot?asOf=1").then(), 404, "shard_not_found");
    }

    // ------------------------------------------------------------------------------------------------- merges

    private static final int CHUNK = Trace.MAX_MERGE_INPUTS;
    private static final String CHUNK_ID = "0-" + CHUNK;

    /**
     * A chunk of appended batches of one update each, [0, 1) to [CHUNK - 1, CHUNK): the last append completes it, and
     * the merge policy asks to merge them. Returns the last append's answer.
     */
    private static JsonPath chunkOfBatches(ShardId shard) {
        for (int i = 0; i < CHUNK - 1; i++) {
            assertThat(Rest.appendOk(shard, i, i + 1).getList("mergeRequests")).as("append %s", i).isEmpty();
        }
        JsonPath last = Rest.appendOk(shard, CHUNK - 1, CHUNK);
        assertThat(last.getList("mergeRequests")).hasSize(1);
        return last;
    }

    private static Map<String, Object> output(JsonPath request, long len, long since) {
        String writer = WriterId.random().toString();
        return Map.of("lower", request.getList("lower"), "upper", request.getList("upper"), "since", List.of(since),
                "len", len, "parts", List.of(Rest.part(writer, 150)));
    }

    @Test
    void mergeRequestsAndExactMerge() {
        ShardId shard = Rest.newShard();
        JsonPath appended = chunkOfBatches(shard);
        appended.setRootPath("mergeRequests[0]");
        assertThat(appended.getString("id")).isEqualTo(CHUNK_ID);
        assertThat(appended.getList("lower", Long.class)).containsExactly(0L);
        assertThat(appended.getList("upper", Long.class)).containsExactly((long) CHUNK);
        assertThat(appended.getList("since", Long.class)).containsExactly(0L);

        JsonPath listed = given().get(shards(shard) + "/merge-requests").then().statusCode(200)
                .body("mergeRequests", hasSize(1))
                .body("mergeRequests[0].id", equalTo(CHUNK_ID))
                .body("mergeRequests[0].inputs", hasSize(CHUNK))
                .extract().jsonPath();
        listed.setRootPath("mergeRequests[0]");
        Map<String, Object> merge = Map.of("id", CHUNK_ID, "inputs", listed.getList("inputs"),
                "output", output(listed, 2, 0));
        json(merge).post(shards(shard) + "/merges").then().statusCode(200)
                .body("result", equalTo("applied_exact"))
                .body("seqno", equalTo((int) Rest.seqno(shard)));
        given().get(shards(shard)).then()
                .body("batches", hasSize(1))
                .body("batches[0].len", equalTo(2))
                .body("batches[0].parts[0].encodedSizeBytes", equalTo(150));
        given().get(shards(shard) + "/merge-requests").then().statusCode(200).body("mergeRequests", empty());

        // A result whose range no run of batches spans.
        String writer = WriterId.random().toString();
        Map<String, Object> first = Map.of("lower", List.of(0), "upper", List.of(1), "since", List.of(0), "len", 1,
                "parts", List.of(Rest.part(writer, 10)));
        Map<String, Object> rest = Map.of("lower", List.of(1), "upper", List.of(5), "since", List.of(0), "len", 1,
                "parts", List.of(Rest.part(writer, 10)));
        Map<String, Object> wide = Map.of("lower", List.of(0), "upper", List.of(5), "since", List.of(0), "len", 2,
                "parts", List.of(Rest.part(writer, 20)));
        json(Map.of("id", "0-5", "inputs", List.of(first, rest), "output", wide)).post(shards(shard) + "/merges")
                .then().statusCode(200).body("result", equalTo("not_applied_no_match"));
        given().get(shards(shard)).then().body("batches", hasSize(1)).body("batches[0].parts[0].encodedSizeBytes",
                equalTo(150));
    }

    @Test
    void mergesThatAreNotApplied() {
        ShardId shard = Rest.newShard();
        chunkOfBatches(shard);
        JsonPath listed = given().get(shards(shard) + "/merge-requests").then().extract().jsonPath();
        listed.setRootPath("mergeRequests[0]");
        List<Object> inputs = listed.getList("inputs");
        json(Map.of("id", CHUNK_ID, "inputs", inputs, "output", output(listed, CHUNK + 1, 0)))
                .post(shards(shard) + "/merges")
                .then().statusCode(200).body("result", equalTo("not_applied_too_many_updates"));
        json(Map.of("id", CHUNK_ID, "inputs", inputs, "output", output(listed, 2, 1))).post(shards(shard) + "/merges")
                .then().statusCode(200).body("result", equalTo("not_applied_invalid_since"));
        given().get(shards(shard)).then().body("batches", hasSize(CHUNK));

        // An id that does not name the output's range is a bad request.
        problem(json(Map.of("id", "0-3", "inputs", inputs, "output", output(listed, 2, 0)))
                .post(shards(shard) + "/merges").then(), 400, "invalid_request");
    }
}
