package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import io.stateversions.core.ShardId;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Small helpers for the REST tests: a JSON request, a shard opened with codecs, its state, a problem check. */
final class Rest {

    private Rest() {}

    static final Map<String, Object> CODECS =
            Map.of("keyCodec", "bytes", "valCodec", "unit", "tsCodec", "u64", "diffCodec", "i64");

    static RequestSpecification json(Object body) {
        return given().contentType(ContentType.JSON).body(body);
    }

    static RequestSpecification rawJson(String body) {
        return given().contentType(ContentType.JSON).body(body);
    }

    static String shards(ShardId shard) {
        return "/v1/shards/" + shard;
    }

    /** A fresh shard, opened (initialized) with {@link #CODECS}. */
    static ShardId newShard() {
        ShardId shard = ShardId.random();
        json(CODECS).put(shards(shard)).then().statusCode(201);
        return shard;
    }

    static JsonPath state(ShardId shard) {
        return given().get(shards(shard)).then().statusCode(200).extract().jsonPath();
    }

    static long seqno(ShardId shard) {
        return state(shard).getLong("seqno");
    }

    static String token() {
        return "i" + UUID.randomUUID();
    }

    /** A blob part written by {@code writer}. */
    static Map<String, Object> part(String writer, long sizeBytes) {
        return Map.of("key", writer + "/p" + UUID.randomUUID(), "encodedSizeBytes", sizeBytes);
    }

    /** {@code []} for a negative bound, else {@code [t]}. */
    static List<Long> frontier(long t) {
        return t < 0 ? List.of() : List.of(t);
    }

    /** An append body: [lower, upper) with {@code parts} blob parts of one update each ({@code upper < 0}: []). */
    static Map<String, Object> append(String writer, String token, long lower, long upper, int parts) {
        List<Object> partList = new ArrayList<>();
        for (int i = 0; i < parts; i++) {
            partList.add(part(writer, 100));
        }
        Map<String, Object> body = new HashMap<>();
        body.put("writerId", writer);
        body.put("idempotencyToken", token);
        body.put("lower", frontier(lower));
        body.put("upper", frontier(upper));
        body.put("len", parts);
        body.put("parts", partList);
        return body;
    }

    /** Appends [lower, upper) with one part as a new writer; returns the response. */
    static JsonPath appendOk(ShardId shard, long lower, long upper) {
        return json(append(io.stateversions.core.WriterId.random().toString(), token(), lower, upper, 1))
                .post(shards(shard) + "/batches").then().statusCode(200).extract().jsonPath();
    }

    /** Registers a new leased reader; returns its id. */
    static String leasedReader(ShardId shard) {
        return json(Map.of("purpose", "test")).post(shards(shard) + "/leased-readers").then().statusCode(200)
                .extract().path("readerId");
    }

    /** Asserts a problem document with this status and code. */
    static ValidatableResponse problem(ValidatableResponse response, int status, String code) {
        return response.statusCode(status)
                .contentType("application/problem+json")
                .body("status", equalTo(status))
                .body("code", equalTo(code))
                .body("type", equalTo("https://stateversions.io/problems/" + code));
    }
}
