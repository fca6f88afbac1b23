package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.rawJson;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasSize;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.ShardId;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The client-safety guarantees of API 1.1 over REST: stale merge results, the writer-lease floor, reused
 * idempotency tokens, resent compare-and-downgrades and the outstanding seqno of downgrade-since. (The
 * leaked-blob sweep's floor is in {@link LifecycleResourceTest}.)
 */
@QuarkusTest
class ClientSafetyResourceTest {

    /** {@code stateversions.state.writer-lease-min} by default: above 3 request timeouts (10 s). */
    static final long MIN_WRITER_LEASE_MS = 60_000;

    @Test
    void aStaleMergeResultIsNotAppliedAndCommitsNothing() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        int chunk = Trace.MAX_MERGE_INPUTS; // equal appends that form one merge request
        for (int i = 0; i < chunk; i++) {
            json(Rest.append(writer, Rest.token(), i, i + 1, 1)).post(shards(shard) + "/batches").then()
                    .statusCode(200);
        }
        JsonPath listed = given().get(shards(shard) + "/merge-requests").then().statusCode(200).extract().jsonPath();
        listed.setRootPath("mergeRequests[0]");
        List<Map<String, Object>> inputs = listed.getList("inputs");
        Map<String, Object> output = Map.of("lower", List.of(0), "upper", List.of(chunk), "since", List.of(0),
                "len", 2, "parts", List.of(Rest.part(writer, 150)));
        // A second compactor of the same request, whose output re-uses the first input's part.
        Map<String, Object> reusing = Map.of("lower", List.of(0), "upper", List.of(chunk), "since", List.of(0),
                "len", 2, "parts", inputs.get(0).get("parts"));

        String id = "0-" + chunk;
        json(Map.of("id", id, "inputs", inputs, "output", output)).post(shards(shard) + "/merges").then()
                .statusCode(200).body("result", equalTo("applied_exact"));
        long seqno = Rest.seqno(shard);
        for (Map<String, Object> late : List.of(reusing, output)) {
            json(Map.of("id", id, "inputs", inputs, "output", late)).post(shards(shard) + "/merges").then()
                    .statusCode(200)
                    .body("result", equalTo("not_applied_no_match"))
                    .body("seqno", equalTo((int) seqno));
        }
        // Inputs over the right range that are not the shard's batches.
        List<Object> fabricated = new java.util.ArrayList<>();
        for (int i = 0; i < chunk; i++) {
            fabricated.add(batch(writer, i, i + 1));
        }
        json(Map.of("id", id, "inputs", fabricated, "output", output)).post(shards(shard) + "/merges").then()
                .statusCode(200).body("result", equalTo("not_applied_no_match"));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
        given().get(shards(shard)).then().body("batches", hasSize(1))
                .body("batches[0].parts[0].encodedSizeBytes", equalTo(150));
    }

    private static Map<String, Object> batch(String writer, long lower, long upper) {
        return Map.of("lower", List.of(lower), "upper", List.of(upper), "since", List.of(0), "len", 1,
                "parts", List.of(Rest.part(writer, 100)));
    }

    @Test
    void aWriterLeaseBelowTheMinimumIsRefusedAtRegistrationAndOnAnAppend() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        long seqno = Rest.seqno(shard);

        problem(json(Map.of("purpose", "w", "leaseDurationMs", MIN_WRITER_LEASE_MS - 1))
                .put(shards(shard) + "/writers/" + writer).then(), 400, "invalid_request")
                .body("detail", containsString(Long.toString(MIN_WRITER_LEASE_MS)))
                .body("minLeaseDurationMs", equalTo((int) MIN_WRITER_LEASE_MS));
        Map<String, Object> append = new HashMap<>(Rest.append(writer, Rest.token(), 0, 1, 1));
        append.put("leaseDurationMs", 1_000);
        problem(json(append).post(shards(shard) + "/batches").then(), 400, "invalid_request")
                .body("minLeaseDurationMs", equalTo((int) MIN_WRITER_LEASE_MS));
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);

        append.put("leaseDurationMs", 2 * MIN_WRITER_LEASE_MS);
        json(append).post(shards(shard) + "/batches").then().statusCode(200);
        given().get(shards(shard)).then().body("writers[0].leaseDurationMs", equalTo((int) (2 * MIN_WRITER_LEASE_MS)));
        append.put("leaseDurationMs", 1.5);
        problem(json(append).post(shards(shard) + "/batches").then(), 400, "invalid_request");
    }

    @Test
    void anIdempotencyTokenReusedForAnotherBatchIsAConflictAndChangesNothing() {
        ShardId shard = Rest.newShard();
        String writer = WriterId.random().toString();
        String token = Rest.token();
        Map<String, Object> first = Rest.append(writer, token, 0, 1, 1);
        json(first).post(shards(shard) + "/batches").then().statusCode(200).body("alreadyCommitted", equalTo(false));
        long seqno = Rest.seqno(shard);

        problem(json(Rest.append(writer, token, 1, 2, 1)).post(shards(shard) + "/batches").then(), 409,
                "idempotency_token_reused")
                .body("writerId", equalTo(writer))
                .body("idempotencyToken", equalTo(token));
        problem(json(Rest.append(writer, token, 0, 1, 1)).post(shards(shard) + "/batches").then(), 409,
                "idempotency_token_reused");
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);
        // The retry of the append itself is still recognized.
        json(first).post(shards(shard) + "/batches").then().statusCode(200).body("alreadyCommitted", equalTo(true));
    }

    @Test
    void aResentCompareAndDowngradeThatAppliedAnswersAsItDid() {
        ShardId shard = Rest.newShard();
        String reader = CriticalReaderId.random().toString();
        String path = shards(shard) + "/critical-readers/" + reader;
        json(Map.of("purpose", "c", "opaqueCodec", "u64")).put(path).then().statusCode(200);
        Map<String, Object> cads = Map.of("expectedOpaque", 0, "newOpaque", 1, "since", List.of(5));
        JsonPath first = json(cads).post(path + "/compare-and-downgrade-since").then().statusCode(200)
                .extract().jsonPath();

        json(cads).post(path + "/compare-and-downgrade-since").then().statusCode(200)
                .body("seqno", equalTo(first.getInt("seqno")))
                .body("since", equalTo(List.of(5)))
                .body("opaque", equalTo(1));
        problem(json(Map.of("expectedOpaque", 0, "newOpaque", 1, "since", List.of(6)))
                .post(path + "/compare-and-downgrade-since").then(), 409, "opaque_mismatch");
    }

    @Test
    void downgradeSinceHoldsTheOutstandingSeqno() {
        ShardId shard = Rest.newShard();
        Rest.appendOk(shard, 0, 1);
        String reader = Rest.leasedReader(shard);
        long snapshot = given().get(shards(shard) + "/snapshot?asOf=0").then().statusCode(200).extract()
                .jsonPath().getLong("seqno");
        String downgrade = shards(shard) + "/leased-readers/" + reader + "/downgrade-since";

        json(Map.of("since", List.of(1), "outstandingSeqno", snapshot)).post(downgrade).then().statusCode(200)
                .body("since", equalTo(List.of(1)));
        given().get(shards(shard)).then().body("leasedReaders[0].seqno", equalTo((int) snapshot));

        long seqno = Rest.seqno(shard);
        problem(json(Map.of("since", List.of(1), "outstandingSeqno", snapshot - 1)).post(downgrade).then(), 400,
                "invalid_request").body("detail", containsString("outstandingSeqno"));
        problem(rawJson("{\"since\": [1], \"outstandingSeqno\": 1.5}").post(downgrade).then(), 400,
                "invalid_request");
        problem(rawJson("{\"since\": [1], \"outstandingSeqno\": -1}").post(downgrade).then(), 400,
                "invalid_request");
        assertThat(Rest.seqno(shard)).isEqualTo(seqno);

        // Without it, the hold moves to the current version.
        long current = json(Map.of("since", List.of(1))).post(downgrade).then().statusCode(200).extract().jsonPath()
                .getLong("seqno");
        given().get(shards(shard)).then().body("leasedReaders[0].seqno", equalTo((int) current));
    }
}
