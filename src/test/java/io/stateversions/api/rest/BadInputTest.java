package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.rawJson;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.ValidatableResponse;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Malformed input of every kind is a 4xx problem with the right code, never a 5xx, and commits nothing: every test
 * runs against a fresh shard whose seqno is checked unchanged afterwards.
 */
@QuarkusTest
class BadInputTest {

    private ShardId shard;
    private long seqnoBefore;

    @BeforeEach
    void openShard() {
        shard = Rest.newShard();
        seqnoBefore = Rest.seqno(shard);
    }

    @AfterEach
    void nothingCommitted() {
        assertThat(Rest.seqno(shard)).as("seqno after a rejected request").isEqualTo(seqnoBefore);
    }

    private String path(String rest) {
        return shards(shard) + rest;
    }

    private static ValidatableResponse badRequest(ValidatableResponse response) {
        return problem(response, 400, "invalid_request");
    }

    private static ValidatableResponse badId(ValidatableResponse response) {
        return problem(response, 400, "invalid_id");
    }

    private Map<String, Object> append(Map<String, Object> overrides) {
        Map<String, Object> body = new HashMap<>();
        body.put("writerId", WriterId.random().toString());
        body.put("idempotencyToken", "i" + java.util.UUID.randomUUID());
        body.put("lower", List.of(0));
        body.put("upper", List.of(5));
        body.put("len", 1);
        body.put("parts", List.of(Map.of("inline", "AAEC")));
        body.putAll(overrides);
        return body;
    }

    // ------------------------------------------------------------------------------------------ identifiers

    @ParameterizedTest
    @ValueSource(strings = {"x", "s", "s1234", "r00000000-0000-0000-0000-000000000000",
            "s00000000-0000-0000-0000-00000000000g", "s00000000000000000000000000000000000",
            "s00000000-0000-0000-0000-0000000000000", "s0000000A-0000-0000-0000-000000000000",
            "sABCDEF00-0000-0000-0000-000000000000"})
    void malformedShardIdInPath(String bad) {
        badId(given().get("/v1/shards/" + bad).then());
        badId(json(Rest.CODECS).put("/v1/shards/" + bad).then());
        badId(given().post("/v1/shards/" + bad + "/finalize").then());
        badId(given().get("/v1/shards/" + bad + "/versions").then());
    }

    @Test
    void malformedHandleIdsInPath() {
        badId(given().post(path("/leased-readers/w00000000-0000-0000-0000-000000000000/heartbeat")).then());
        badId(given().delete(path("/leased-readers/nope")).then());
        badId(json(Map.of("since", List.of(1))).post(path("/leased-readers/r123/downgrade-since")).then());
        badId(json(Map.of("purpose", "p", "opaqueCodec", "u64")).put(path("/critical-readers/r00000000-0000-0000-0000-000000000000")).then());
        badId(given().delete(path("/critical-readers/c-1")).then());
        badId(json(Map.of("purpose", "p")).put(path("/writers/c00000000-0000-0000-0000-000000000000")).then());
        badId(given().post(path("/writers/w0/heartbeat")).then());
        badId(given().delete(path("/writers/W00000000-0000-0000-0000-000000000000")).then());
    }

    @Test
    void malformedIdsInBody() {
        badId(json(append(Map.of("writerId", "r00000000-0000-0000-0000-000000000000"))).post(path("/batches")).then())
                .body("detail", containsString("writer"));
        badId(json(append(Map.of("idempotencyToken", "i-not-a-uuid"))).post(path("/batches")).then())
                .body("detail", containsString("idempotency token"));
        badId(json(Map.of("readerId", "c00000000-0000-0000-0000-000000000000", "purpose", "p"))
                .post(path("/leased-readers")).then());
        badId(json(append(Map.of("writerId", "w0000000F-0000-0000-0000-000000000000"))).post(path("/batches")).then())
                .body("detail", containsString("lower-case"));
    }

    @Test
    void missingIdsInBodyAreInvalid() {
        Map<String, Object> body = append(Map.of());
        body.remove("writerId");
        badId(json(body).post(path("/batches")).then());
    }

    // -------------------------------------------------------------------------------------- malformed JSON

    @ParameterizedTest
    @ValueSource(strings = {"{", "{\"keyCodec\": }", "{\"keyCodec\": \"a\",}", "not json", "{} {}", "{}]",
            "{\"keyCodec\": \"a\" \"valCodec\": \"b\"}", "'single'"})
    void malformedJson(String body) {
        badRequest(rawJson(body).put(shards(shard)).then());
        badRequest(rawJson(body).post(path("/batches")).then());
    }

    @Test
    void missingOrNullBody() {
        badRequest(given().contentType(ContentType.JSON).put(shards(shard)).then())
                .body("detail", containsString("body is required"));
        badRequest(rawJson("null").post(path("/leased-readers")).then());
        badRequest(rawJson("[]").post(path("/leased-readers")).then());
        badRequest(rawJson("5").put(shards(shard)).then());
    }

    @Test
    void unknownFieldIsNamed() {
        Map<String, Object> codecs = new HashMap<>(Rest.CODECS);
        codecs.put("keyCodek", "bytes");
        badRequest(json(codecs).put(shards(shard)).then()).body("detail", containsString("\"keyCodek\""));
        badRequest(json(Map.of("purpose", "p", "leaseDuration", 5)).post(path("/leased-readers")).then())
                .body("detail", containsString("leaseDuration"));
        badRequest(json(append(Map.of("parts", List.of(Map.of("inline", "AAEC", "inlin", "x")))))
                .post(path("/batches")).then()).body("detail", containsString("inlin"));
    }

    @Test
    void duplicateField() {
        badRequest(rawJson("{\"since\": [1], \"since\": [2]}")
                .post(path("/leased-readers/r00000000-0000-0000-0000-000000000000/downgrade-since")).then());
    }

    @Test
    void otherMediaType() {
        problem(given().contentType(ContentType.TEXT).body("{}").put(shards(shard)).then(), 415, "invalid_request");
    }

    // ----------------------------------------------------------------------------------------- wrong types

    @Test
    void floatForInteger() {
        badRequest(json(append(Map.of("len", 6.5))).post(path("/batches")).then()).body("detail", containsString("len"));
        badRequest(json(append(Map.of("lower", List.of(1.5)))).post(path("/batches")).then());
        badRequest(rawJson("{\"purpose\": \"p\", \"leaseDurationMs\": 1000.0}").post(path("/leased-readers")).then());
    }

    @Test
    void stringForNumber() {
        badRequest(json(append(Map.of("len", "5"))).post(path("/batches")).then()).body("detail", containsString("len"));
        badRequest(json(append(Map.of("upper", List.of("5")))).post(path("/batches")).then());
        badRequest(json(Map.of("purpose", "p", "opaqueCodec", "u64", "initialOpaque", "1"))
                .put(path("/critical-readers/c00000000-0000-0000-0000-000000000000")).then());
        badRequest(json(Map.of("purpose", "p", "leaseDurationMs", "")).post(path("/leased-readers")).then());
    }

    @Test
    void numberOrBooleanForString() {
        Map<String, Object> codecs = new HashMap<>(Rest.CODECS);
        codecs.put("keyCodec", 5);
        badRequest(json(codecs).put(shards(shard)).then()).body("detail", containsString("keyCodec"));
        badRequest(json(Map.of("purpose", true)).post(path("/leased-readers")).then());
        badRequest(json(Map.of("purpose", List.of("p"))).post(path("/leased-readers")).then());
    }

    @Test
    void malformedFrontiers() {
        String downgrade = path("/leased-readers/r00000000-0000-0000-0000-000000000000/downgrade-since");
        badRequest(rawJson("{\"since\": [null]}").post(downgrade).then()).body("detail", containsString("since"));
        badRequest(rawJson("{\"since\": [1, 2]}").post(downgrade).then()).body("detail", containsString("since"));
        badRequest(rawJson("{\"since\": 5}").post(downgrade).then());
        badRequest(rawJson("{\"since\": \"[]\"}").post(downgrade).then());
        badRequest(rawJson("{\"since\": [[1]]}").post(downgrade).then());
        badRequest(rawJson("{\"since\": [-1]}").post(downgrade).then());
        badRequest(rawJson("{\"since\": null}").post(downgrade).then());
        badRequest(rawJson("{}").post(downgrade).then()).body("detail", containsString("since"));
    }

    @Test
    void timestampsOutOfRange() {
        // 2^63 and 2^64 - 1: valid u64, outside the service's 0..2^63-1.
        badRequest(rawJson(appendJson("[9223372036854775808]")).post(path("/batches")).then())
                .body("detail", containsString("range"));
        badRequest(rawJson(appendJson("[18446744073709551615]")).post(path("/batches")).then());
        badRequest(rawJson(appendJson("[1e3]")).post(path("/batches")).then());
        badRequest(given().get(path("/snapshot?asOf=9223372036854775808")).then());
    }

    private static String appendJson(String upper) {
        return "{\"writerId\": \"" + WriterId.random() + "\", \"idempotencyToken\": \"i" + java.util.UUID.randomUUID()
                + "\", \"lower\": [0], \"upper\": " + upper + ", \"len\": 0, \"parts\": []}";
    }

    @Test
    void negativeCountsAndLeases() {
        badRequest(json(append(Map.of("len", -1))).post(path("/batches")).then()).body("detail", containsString("len"));
        badRequest(json(Map.of("purpose", "p", "leaseDurationMs", -5)).post(path("/leased-readers")).then())
                .body("detail", containsString("leaseDurationMs"));
        badRequest(json(Map.of("purpose", "p", "leaseDurationMs", 0))
                .put(path("/writers/w00000000-0000-0000-0000-000000000000")).then());
        badRequest(json(append(Map.of("parts", List.of(Map.of("key",
                "w00000000-0000-0000-0000-000000000000/p00000000-0000-0000-0000-000000000001",
                "encodedSizeBytes", -1))))).post(path("/batches")).then())
                .body("detail", containsString("encodedSizeBytes"));
    }

    @Test
    void missingRequiredFields() {
        for (String field : List.of("lower", "upper", "len", "parts")) {
            Map<String, Object> body = append(Map.of());
            body.remove(field);
            badRequest(json(body).post(path("/batches")).then()).body("detail", containsString(field));
        }
        for (String field : List.of("keyCodec", "valCodec", "tsCodec", "diffCodec")) {
            Map<String, Object> codecs = new HashMap<>(Rest.CODECS);
            codecs.remove(field);
            badRequest(json(codecs).put(shards(shard)).then()).body("detail", containsString(field));
        }
        badRequest(json(Map.of()).post(path("/leased-readers")).then()).body("detail", containsString("purpose"));
        badRequest(json(Map.of("purpose", "p"))
                .put(path("/critical-readers/c00000000-0000-0000-0000-000000000000")).then())
                .body("detail", containsString("opaqueCodec"));
        badRequest(json(Map.of("expectedOpaque", 0, "since", List.of(1)))
                .post(path("/critical-readers/c00000000-0000-0000-0000-000000000000/compare-and-downgrade-since"))
                .then()).body("detail", containsString("newOpaque"));
        badRequest(json(Map.of("keySchema", "AA==")).post(path("/schemas")).then())
                .body("detail", containsString("valSchema"));
    }

    @Test
    void badCodecNames() {
        Map<String, Object> codecs = new HashMap<>(Rest.CODECS);
        codecs.put("tsCodec", "");
        badRequest(json(codecs).put(shards(shard)).then()).body("detail", containsString("tsCodec"));
        codecs.put("tsCodec", "x".repeat(257));
        badRequest(json(codecs).put(shards(shard)).then()).body("detail", containsString("tsCodec"));
        codecs.put("tsCodec", "\ud800");
        badRequest(json(codecs).put(shards(shard)).then());
    }

    @Test
    void badParts() {
        String key = "w00000000-0000-0000-0000-000000000000/p00000000-0000-0000-0000-000000000001";
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", key, "encodedSizeBytes", 1, "inline", "AA==")))))
                .post(path("/batches")).then()).body("detail", containsString("parts[0]"));
        badRequest(json(append(Map.of("parts", List.of(Map.of())))).post(path("/batches")).then());
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", "nope", "encodedSizeBytes", 1)))))
                .post(path("/batches")).then()).body("detail", containsString("parts[0].key"));
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", key)))))
                .post(path("/batches")).then()).body("detail", containsString("encodedSizeBytes"));
        badRequest(rawJson("{\"writerId\": \"" + WriterId.random() + "\", \"idempotencyToken\": \"i"
                + java.util.UUID.randomUUID() + "\", \"lower\": [0], \"upper\": [1], \"len\": 1, \"parts\": [null]}")
                .post(path("/batches")).then());
        badRequest(json(append(Map.of("runSplits", List.of(0)))).post(path("/batches")).then())
                .body("detail", containsString("run splits"));
        String upper = "wABCDEF00-0000-0000-0000-000000000000/p00000000-0000-0000-0000-00000000000A";
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", upper, "encodedSizeBytes", 1)))))
                .post(path("/batches")).then())
                .body("detail", containsString("lower-case"));
        String tooLong = java.util.Base64.getEncoder().encodeToString(new byte[1025]);
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", key, "encodedSizeBytes", 1, "keyLower",
                tooLong))))).post(path("/batches")).then()).body("detail", containsString("parts[0].keyLower"));
        badRequest(json(append(Map.of("parts", List.of(Map.of("key", key, "encodedSizeBytes", 1, "stats",
                java.util.Base64.getEncoder().encodeToString(new byte[4097])))))).post(path("/batches")).then())
                .body("detail", containsString("parts[0].stats"));
        Map<String, Object> part = Map.of("key", key, "encodedSizeBytes", 1);
        badRequest(json(append(Map.of("parts", List.of(part, part)))).post(path("/batches")).then())
                .body("detail", containsString("twice"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"AAE", "AAE=\n", "_-8=", "-_8=", "AA==AA==", "####", "AB=="})
    void badBase64(String bad) {
        badRequest(json(Map.of("keySchema", bad, "valSchema", "AA==")).post(path("/schemas")).then())
                .body("detail", containsString("keySchema"));
        badRequest(json(append(Map.of("parts", List.of(Map.of("inline", bad))))).post(path("/batches")).then())
                .body("detail", containsString("inline"));
    }

    // ---------------------------------------------------------------------------------------- query params

    @ParameterizedTest
    @ValueSource(strings = {"?limit=0", "?limit=1001", "?limit=abc", "?limit=-1", "?limit=+5", "?limit=1.0",
            "?limit=%201", "?from=-1", "?from=v3", "?from=9223372036854775808"})
    void badPagingParams(String query) {
        badRequest(given().get(path("/versions" + query)).then());
        badRequest(given().get(path("/diffs" + query)).then());
    }

    @ParameterizedTest
    @ValueSource(strings = {"?after=nope", "?after=S00000000", "?after=r00000000-0000-0000-0000-000000000000"})
    void badShardPagingParams(String query) {
        badId(given().get("/v1/shards" + query).then());
    }

    @Test
    void badShardListLimit() {
        badRequest(given().get("/v1/shards?limit=0").then());
        badRequest(given().get("/v1/shards?limit=x").then());
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "?asOf=", "?asOf=-1", "?asOf=x", "?asOf=1.5", "?asOf=0x10", "?asOf=%205"})
    void badAsOf(String query) {
        badRequest(given().get(path("/snapshot" + query)).then()).body("detail", containsString("asOf"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"v1", "-1", "x", "1.0", "9223372036854775808"})
    void badSeqnoInPath(String seqno) {
        badRequest(given().get(path("/versions/" + seqno)).then());
    }

    // ----------------------------------------------------------------------------------------------- size

    private static final int OVER_LIMIT = 4 * 1024 * 1024 + 1; // quarkus.http.limits.max-body-size + 1

    @Test
    void oversizeBodyDeclared() throws Exception {
        // Content-Length over the cap: the answer comes before the body is sent (Expect: 100-continue).
        RawHttp.Response response = RawHttp.send(RestAssured.port, "POST " + path("/batches") + " HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Type: application/json\r\nContent-Length: " + OVER_LIMIT + "\r\n"
                + "Expect: 100-continue\r\n\r\n", out -> {});
        assertTooLarge(response);
    }

    @Test
    void oversizeBodyChunked() throws Exception {
        // No declared length: the cap is applied while the body arrives.
        RawHttp.Response response = RawHttp.send(RestAssured.port, "POST " + path("/batches") + " HTTP/1.1\r\n"
                + "Host: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
                out -> {
                    byte[] chunk = new byte[64 * 1024];
                    Arrays.fill(chunk, (byte) 'A');
                    String prefix = "{\"parts\": [{\"inline\": \"";
                    out.write((Integer.toHexString(prefix.length()) + "\r\n" + prefix + "\r\n").getBytes());
                    for (int sent = prefix.length(); sent < OVER_LIMIT; sent += chunk.length) {
                        out.write((Integer.toHexString(chunk.length) + "\r\n").getBytes());
                        out.write(chunk);
                        out.write("\r\n".getBytes());
                    }
                });
        assertTooLarge(response);
    }

    private static void assertTooLarge(RawHttp.Response response) throws Exception {
        assertThat(response.status()).isEqualTo(413);
        assertThat(response.header("content-type")).isEqualTo("application/problem+json");
        JsonPath problem = new JsonPath(response.body());
        assertThat(problem.getString("code")).isEqualTo("invalid_request");
        assertThat(problem.getInt("status")).isEqualTo(413);
        assertThat(problem.getString("detail")).contains("too large");
    }

    @Test
    void chunkedBodiesUnderTheCapAreRead() throws Exception {
        ShardId other = ShardId.random();
        RawHttp.Response opened = RawHttp.send(RestAssured.port, RawHttp.chunkedHead("PUT", shards(other)),
                RawHttp.chunked("{\"keyCodec\": \"k\", \"valCodec\": \"v\", \"tsCodec\": \"t\", \"diffCodec\": \"d\"}"));
        assertThat(opened.status()).as(opened.body()).isEqualTo(201);
        assertThat(new JsonPath(opened.body()).getString("shardId")).isEqualTo(other.toString());

        RawHttp.Response empty = RawHttp.send(RestAssured.port, RawHttp.chunkedHead("PUT", shards(shard)),
                RawHttp.chunked(""));
        assertThat(empty.status()).as(empty.body()).isEqualTo(400);
        assertThat(new JsonPath(empty.body()).getString("detail")).contains("body is required");

        RawHttp.Response large = RawHttp.send(RestAssured.port, RawHttp.chunkedHead("POST", path("/schemas")),
                RawHttp.chunked("{\"keySchema\": \"" + "A".repeat(3 * 1024 * 1024) + "=\", \"valSchema\": \"AA==\"}"));
        assertThat(large.status()).as(large.body()).isEqualTo(400);
        assertThat(new JsonPath(large.body()).getString("detail")).contains("keySchema");
    }

    @Test
    void bodyUnderTheCapIsRead() {
        // 3 MiB of base64 in a 4 MiB cap: parsed (and rejected for its content, not its size).
        badRequest(json(Map.of("keySchema", "A".repeat(3 * 1024 * 1024) + "=", "valSchema", "AA=="))
                .post(path("/schemas")).then()).body("detail", containsString("keySchema"));
    }

    @Test
    void unknownPathOrMethodIsAProblemNot5xx() {
        problem(given().get(path("/nope")).then(), 404, "invalid_request");
        given().delete(path("/batches")).then().statusCode(org.hamcrest.Matchers.anyOf(
                org.hamcrest.Matchers.is(404), org.hamcrest.Matchers.is(405)))
                .contentType("application/problem+json").body("code", org.hamcrest.Matchers.equalTo("invalid_request"));
    }

    @Test
    void overLongValuesAreRefusedQuotingOnlyAPrefix() {
        String longId = "s" + "a".repeat(5000);
        String detail = badId(given().get("/v1/shards/" + longId).then()).extract().path("detail");
        assertThat(detail).hasSizeLessThan(300).contains("5001 characters");
        detail = badId(given().queryParam("after", longId).get("/v1/shards").then()).extract().path("detail");
        assertThat(detail).hasSizeLessThan(300);
        detail = badRequest(json(Map.of("purpose", "p".repeat(100_000)))
                .put(path("/writers/" + WriterId.random())).then()).extract().path("detail");
        assertThat(detail).hasSizeLessThan(300);
    }

    @Test
    void longUrisAndBadEncodingsAreRefused() throws Exception {
        RawHttp.Response tooLong = RawHttp.send(RestAssured.port, "GET /v1/shards/s" + "a".repeat(65_500)
                + " HTTP/1.1\r\nHost: localhost\r\n\r\n", out -> {});
        assertThat(tooLong.status()).isEqualTo(414);
        assertThat(tooLong.header("content-type")).isEqualTo("application/problem+json");
        assertThat(new JsonPath(tooLong.body()).getString("code")).isEqualTo("invalid_request");

        // Decodable but not UTF-8, or not an id once decoded: the resource's own problem.
        for (String encoded : List.of("%C3%28", "%ff", "%00", "a%2Fb")) {
            badId(given().urlEncodingEnabled(false).get("/v1/shards/" + encoded).then());
        }
        // Not a URI at all: Quarkus' root handler answers an empty 400 before any router handler runs.
        RawHttp.Response badEncoding = RawHttp.send(RestAssured.port, "GET /v1/shards/%ZZ HTTP/1.1\r\n"
                + "Host: localhost\r\n\r\n", out -> {});
        assertThat(badEncoding.status()).isEqualTo(400);
    }
}
