package io.stateversions.testing;

import static io.restassured.RestAssured.given;

import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A shard with something to inspect, built through the REST API of the service under test: a writer's appends (with
 * their part blobs written first, as a client does, when a {@link Blob} of the service's store is given), a rollup
 * and a GC that truncates, then two leased readers holding versions, a critical reader, and more appends and a
 * second rollup. What the inspector's and the command-line tool's tests look at.
 */
public final class InspectedShard {

    public static final Map<String, Object> CODECS =
            Map.of("keyCodec", "bytes", "valCodec", "unit", "tsCodec", "u64", "diffCodec", "i64");

    public final ShardId shard = ShardId.random();
    public final String writer = WriterId.random().toString();
    /**
     * The version of the append right after the first reader registered: live for good (the reader holds the version
     * before it), with an upper below the current one.
     */
    public long heldAppend;
    public final List<String> readers = new ArrayList<>();
    private final Blob blob;
    private long upper;

    private final int moreAppends;

    private InspectedShard(Blob blob, int moreAppends) {
        this.blob = blob;
        this.moreAppends = moreAppends;
    }

    /** Builds the shard; {@code blob} (or null) is the service's blob store, where the part blobs are written. */
    public static InspectedShard build(Blob blob) {
        return build(blob, 0);
    }

    /** {@link #build(Blob)} with {@code moreAppends} appends between the two readers' registrations. */
    public static InspectedShard build(Blob blob, int moreAppends) {
        InspectedShard s = new InspectedShard(blob, moreAppends);
        s.seed();
        return s;
    }

    private void seed() {
        given().contentType(ContentType.JSON).body(CODECS).put(path("")).then().statusCode(201);
        given().contentType(ContentType.JSON).body(Map.of("purpose", "ingest")).put(path("/writers/" + writer))
                .then().statusCode(200);
        append();
        append();
        append();
        given().post(path("/maintenance/rollup")).then().statusCode(200);
        given().post(path("/maintenance/gc")).then().statusCode(200);
        for (String purpose : List.of("dashboard", "export")) {
            readers.add(given().contentType(ContentType.JSON).body(Map.of("purpose", purpose))
                    .post(path("/leased-readers")).then().statusCode(200).extract().path("readerId"));
            long seqno = append();
            if (heldAppend == 0) {
                heldAppend = seqno;
                for (int i = 0; i < moreAppends; i++) {
                    append();
                }
            }
        }
        given().contentType(ContentType.JSON).body(Map.of("purpose", "sink", "opaqueCodec", "u64"))
                .put(path("/critical-readers/c" + UUID.randomUUID())).then().statusCode(200);
        append();
        given().post(path("/maintenance/rollup")).then().statusCode(200);
        append();
    }

    /** Appends [upper, upper + 1) with one blob part; returns the version it committed. */
    public long append() {
        String key = writer + "/p" + UUID.randomUUID();
        if (blob != null) {
            try {
                blob.set(shard + "/" + key, new byte[] {1, 2, 3, (byte) upper}).toCompletableFuture()
                        .get(30, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("writing part " + key, e);
            }
        }
        Map<String, Object> body = Map.of("writerId", writer, "idempotencyToken", "i" + UUID.randomUUID(),
                "lower", List.of(upper), "upper", List.of(upper + 1), "len", 1,
                "parts", List.of(Map.of("key", key, "encodedSizeBytes", 4)));
        long seqno = given().contentType(ContentType.JSON).body(body).post(path("/batches")).then().statusCode(200)
                .extract().jsonPath().getLong("seqno");
        upper++;
        return seqno;
    }

    /** The current state, from the REST API. */
    public JsonPath state() {
        return given().get(path("")).then().statusCode(200).extract().jsonPath();
    }

    /** {@code /v1/shards/<shard><suffix>}. */
    public String path(String suffix) {
        return "/v1/shards/" + shard + suffix;
    }
}
