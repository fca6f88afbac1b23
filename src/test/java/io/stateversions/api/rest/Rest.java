package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import io.restassured.specification.RequestSpecification;
import io.stateversions.core.ShardId;
import java.util.Map;

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

    /** Asserts a problem document with this status and code. */
    static ValidatableResponse problem(ValidatableResponse response, int status, String code) {
        return response.statusCode(status)
                .contentType("application/problem+json")
                .body("status", equalTo(status))
                .body("code", equalTo(code))
                .body("type", equalTo("https://stateversions.io/problems/" + code));
    }
}
