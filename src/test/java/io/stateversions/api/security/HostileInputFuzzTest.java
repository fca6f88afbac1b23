package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.stateversions.api.grpc.RawGrpc;
import io.stateversions.core.ShardId;
import io.stateversions.testing.Management;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * A bounded, seeded fuzzer of every operation of {@link Operation}'s table: well-formed requests ({@link Samples})
 * mutated into malformed ones — truncated, bytes flipped, values of the wrong type, over-long strings and ids, deep
 * nesting, garbage — sent over REST and gRPC. No answer may be a 5xx or {@code INTERNAL}/{@code UNKNOWN}, every call
 * is answered within its deadline (one caller's bad request never stalls the connection), a canary shard no request
 * addresses stays unchanged and the service stays ready throughout. {@code -Dfuzz.seed=N} replays a run,
 * {@code -Dfuzz.seed=random} explores a new one.
 */
@QuarkusTest
class HostileInputFuzzTest {

    private static final int REST_REQUESTS_PER_OPERATION = 24;
    private static final int GRPC_CALLS_PER_METHOD = 16;

    /**
     * The suite's run is reproducible (a seed that once found an open-ended watch); {@code -Dfuzz.seed=random} explores
     * a new one, {@code -Dfuzz.seed=N} replays N.
     */
    private final long seed = "random".equals(System.getProperty("fuzz.seed")) ? System.nanoTime()
            : Long.getLong("fuzz.seed", 11_772_471_014_544L);
    private final Random random = new Random(seed);
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void malformedRequestsOfEveryOperationHurtNobody() throws Exception {
        System.out.printf("fuzz seed %d (replay with -Dfuzz.seed=%d)%n", seed, seed);
        ShardId canary = open();
        ShardId target = open();
        long canarySeqno = seqno(canary);
        long started = System.nanoTime();
        int rest = 0;
        for (Operation operation : Operation.values()) {
            if (operation.httpMethod().isEmpty()) {
                continue;
            }
            for (int i = 0; i < REST_REQUESTS_PER_OPERATION; i++) {
                String path = mutatePath(Samples.restPath(operation, target));
                String body = Samples.restBody(operation);
                String mutated = body == null ? (random.nextInt(4) == 0 ? garbage() : null) : mutateJson(body);
                HttpResponse<String> response = send(operation.httpMethod().orElseThrow(), path, mutated);
                assertThat(response.statusCode()).as("seed %d: %s %s %s -> %s", seed, operation, abbreviated(path),
                        abbreviated(mutated), abbreviated(response.body())).isLessThan(500);
                rest++;
            }
            Management.given().get("/q/health/ready").then().statusCode(200);
        }
        int grpc = 0;
        java.util.ArrayDeque<String> recent = new java.util.ArrayDeque<>(); // the calls before a failure, on one connection
        ManagedChannel channel = NettyChannelBuilder.forAddress("localhost", RestAssured.port).usePlaintext().build();
        try {
            for (Operation operation : Operation.values()) {
                for (String method : operation.grpcMethods()) {
                    if (!method.startsWith(Operation.SERVICE)) {
                        continue;
                    }
                    for (int i = 0; i < GRPC_CALLS_PER_METHOD; i++) {
                        byte[] payload = mutateBytes(Samples.grpcRequest(operation, method, target), method);
                        boolean openEnded = openEndedWatch(method, payload);
                        Status status = openEnded
                                ? RawGrpc.call(channel, method, payload, new Metadata(), 2, TimeUnit.SECONDS).status()
                                : RawGrpc.call(channel, method, payload, new Metadata()).status();
                        recent.addLast(method.substring(method.indexOf('/') + 1) + "(" + payload.length + " bytes): "
                                + status.getCode());
                        if (recent.size() > 8) {
                            recent.removeFirst();
                        }
                        if (openEnded) {
                            // A well-formed watch of the versions after the current one waits for the next commit,
                            // which may never come: its deadline is the only end it can have.
                            assertThat(status.getCode()).as("seed %d: an open-ended watch: %s", seed, status)
                                    .isIn(Status.Code.OK, Status.Code.DEADLINE_EXCEEDED, Status.Code.NOT_FOUND,
                                            Status.Code.FAILED_PRECONDITION);
                            grpc++;
                            continue;
                        }
                        assertThat(status.getCode()).as("seed %d: %s with %d bytes: %s; the last calls: %s", seed,
                                method, payload.length, status, recent).isNotIn(Status.Code.INTERNAL, Status.Code.UNKNOWN,
                                Status.Code.DEADLINE_EXCEEDED, Status.Code.UNAVAILABLE);
                        grpc++;
                    }
                }
                Management.given().get("/q/health/ready").then().statusCode(200);
            }
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        assertThat(seqno(canary)).as("seed %d: the canary", seed).isEqualTo(canarySeqno);
        System.out.printf("fuzz: %d REST requests and %d gRPC calls in %d ms, no 5xx, no INTERNAL, canary unchanged%n",
                rest, grpc, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
    }

    /**
     * Whether {@code payload} is a well-formed {@code Watch} of a valid shard id without {@code from_seqno}: a watch
     * of whatever commits next, which a quiet shard never answers.
     */
    private static boolean openEndedWatch(String method, byte[] payload) {
        if (!method.endsWith("/Watch")) {
            return false;
        }
        try {
            io.stateversions.api.grpc.v1.WatchRequest request = io.stateversions.api.grpc.v1.WatchRequest
                    .parseFrom(payload);
            ShardId.parse(request.getShardId());
            return !request.hasFromSeqno();
        } catch (Exception malformed) {
            return false;
        }
    }

    // ----------------------------------------------------------------------------------------------- mutations

    private String mutatePath(String path) {
        return switch (random.nextInt(8)) {
            case 0 -> path.replaceFirst("/s[0-9a-f-]{36}", "/s" + "a".repeat(1 + random.nextInt(70_000)));
            case 1 -> path.replaceFirst("([rcw])[0-9a-f-]{36}", "$1" + "Z".repeat(random.nextInt(100)));
            case 2 -> path + (path.contains("?") ? "&" : "?") + "after=" + "x".repeat(random.nextInt(10_000))
                    + "&limit=" + random.nextInt() + "&from=-1";
            case 3 -> path.replaceFirst("/s[0-9a-f-]{36}", "/%C3%28%00%E2%82%AC");
            default -> path;
        };
    }

    private String mutateJson(String json) {
        return switch (random.nextInt(9)) {
            case 0 -> json.substring(0, random.nextInt(json.length()));
            case 1 -> flip(json);
            case 2 -> json.replaceFirst(":(\"[^\"]*\"|\\[[^\\]]*]|[0-9]+)", ":" + wrongValue());
            case 3 -> json.replaceFirst("\"[^\"]*\"", "\"" + "p".repeat(1 + random.nextInt(200_000)) + "\"");
            case 4 -> "[".repeat(1 + random.nextInt(5000)) + "]".repeat(random.nextInt(5000));
            case 5 -> json.replaceFirst("\\{", "{\"unknown\":1,");
            case 6 -> json.replaceFirst("\\{", "{\"purpose\":\"a\",\"purpose\":\"b\",");
            case 7 -> garbage();
            default -> json.replace("[0]", "[" + Long.MAX_VALUE + "0]");
        };
    }

    private String wrongValue() {
        String[] values = {"null", "true", "-1", "1.5", "\"x\"", "{}", "[null]", "[1,2]", "18446744073709551616",
            "\"\\ud800\""};
        return values[random.nextInt(values.length)];
    }

    private String flip(String text) {
        char[] chars = text.toCharArray();
        for (int n = 1 + random.nextInt(4); n > 0; n--) {
            chars[random.nextInt(chars.length)] = (char) (32 + random.nextInt(95));
        }
        return new String(chars);
    }

    private String garbage() {
        byte[] bytes = new byte[random.nextInt(2048)];
        random.nextBytes(bytes);
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }

    private byte[] mutateBytes(byte[] message, String method) {
        switch (random.nextInt(7)) {
            case 0:
                return Arrays.copyOf(message, random.nextInt(message.length + 1));
            case 1: {
                byte[] flipped = message.clone();
                for (int n = 1 + random.nextInt(4); n > 0 && flipped.length > 0; n--) {
                    flipped[random.nextInt(flipped.length)] = (byte) random.nextInt(256);
                }
                return flipped;
            }
            case 2: {
                byte[] bytes = new byte[random.nextInt(4096)];
                random.nextBytes(bytes);
                return bytes;
            }
            case 3:
                // Field 1 (the shard id, or ListShards' after) as an over-long string.
                return lengthDelimited(1, 60_000 + random.nextInt(200_000));
            case 4:
                return concat(message, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff});
            case 5:
                return concat(message, lengthDelimited(2 + random.nextInt(10), random.nextInt(100_000)));
            default:
                return message;
        }
    }

    private static byte[] lengthDelimited(int field, int length) {
        List<Byte> out = new ArrayList<>();
        out.add((byte) (field << 3 | 2));
        int value = length;
        while ((value & ~0x7f) != 0) {
            out.add((byte) ((value & 0x7f) | 0x80));
            value >>>= 7;
        }
        out.add((byte) value);
        byte[] bytes = new byte[out.size() + length];
        for (int i = 0; i < out.size(); i++) {
            bytes[i] = out.get(i);
        }
        Arrays.fill(bytes, out.size(), bytes.length, (byte) 'a');
        return bytes;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    // ------------------------------------------------------------------------------------------------- transport

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://localhost:" + RestAssured.port + path))
                .timeout(Duration.ofSeconds(20)).method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body, StandardCharsets.ISO_8859_1));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (path.contains("/watch")) {
            HttpResponse<java.io.InputStream> streaming = http.send(request.build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            streaming.body().close();
            return new Ended(streaming.statusCode());
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private ShardId open() throws Exception {
        ShardId shard = ShardId.random();
        assertThat(send("PUT", "/v1/shards/" + shard, Samples.CODECS).statusCode()).isEqualTo(201);
        return shard;
    }

    private long seqno(ShardId shard) throws Exception {
        HttpResponse<String> state = send("GET", "/v1/shards/" + shard, null);
        return com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(state.body()).get("seqno")
                .asLong();
    }

    private static String abbreviated(String text) {
        return text == null ? "(no body)" : text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    /** A streamed answer, of which only the status was read. */
    private record Ended(int statusCode) implements HttpResponse<String> {
        public HttpRequest request() {
            return null;
        }

        public java.util.Optional<HttpResponse<String>> previousResponse() {
            return java.util.Optional.empty();
        }

        public java.net.http.HttpHeaders headers() {
            return java.net.http.HttpHeaders.of(java.util.Map.of(), (a, b) -> true);
        }

        public String body() {
            return "(stream)";
        }

        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
            return java.util.Optional.empty();
        }

        public URI uri() {
            return null;
        }

        public HttpClient.Version version() {
            return HttpClient.Version.HTTP_1_1;
        }
    }
}
