package io.stateversions.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Base64;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/** Appends through the REST API (HTTP/1.1 with keep-alive, JSON), each shard with its own registered writer. */
final class ServiceRestAppends implements Appends {

    private final HttpClient http;
    private final String base;
    private final String payload;
    private String[] shardIds = new String[0];
    private String[] writerIds = new String[0];
    private long[] uppers = new long[0];

    ServiceRestAppends(int port, int payloadBytes) {
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofSeconds(10)).build();
        this.base = "http://127.0.0.1:" + port + "/v1/shards/";
        byte[] bytes = new byte[payloadBytes];
        new Random(7).nextBytes(bytes);
        this.payload = Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public void prepare(int shards) throws Exception {
        shardIds = new String[shards];
        writerIds = new String[shards];
        uppers = new long[shards];
        ServiceGrpc.forEach(shards, ServiceGrpc.SETUP_CONCURRENCY, i -> {
            shardIds[i] = ServiceGrpc.newShardId();
            writerIds[i] = "w" + UUID.randomUUID();
            return send("PUT", shardIds[i], """
                    {"keyCodec":"bytes","valCodec":"bytes","tsCodec":"u64","diffCodec":"i64"}""")
                    .thenCompose(opened -> send("PUT", shardIds[i] + "/writers/" + writerIds[i], """
                            {"purpose":"bench"}"""));
        });
    }

    @Override
    public void append(int shard) throws Exception {
        long lower = uppers[shard];
        String body = "{\"writerId\":\"" + writerIds[shard] + "\",\"idempotencyToken\":\"i" + UUID.randomUUID()
                + "\",\"lower\":[" + lower + "],\"upper\":[" + (lower + 1) + "],\"len\":1,\"parts\":[{\"key\":\""
                + writerIds[shard] + "/p" + UUID.randomUUID() + "\",\"encodedSizeBytes\":4096,\"keyLower\":\""
                + payload + "\"}]}";
        HttpResponse<String> response = http.send(request("POST", shardIds[shard] + "/batches", body),
                HttpResponse.BodyHandlers.ofString());
        check(response);
        uppers[shard] = lower + 1;
    }

    private CompletableFuture<Void> send(String method, String path, String body) {
        return http.sendAsync(request(method, path, body), HttpResponse.BodyHandlers.ofString())
                .thenAccept(ServiceRestAppends::check);
    }

    private HttpRequest request(String method, String path, String body) {
        return HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    /** A 503 or 504 answer: the call may be retried with the same ids. */
    static final class RetryableHttpStatus extends IllegalStateException {
        RetryableHttpStatus(String message) {
            super(message);
        }
    }

    private static void check(HttpResponse<String> response) {
        if (response.statusCode() == 503 || response.statusCode() == 504) {
            throw new RetryableHttpStatus(response.request().method() + " " + response.uri() + ": "
                    + response.statusCode() + " " + response.body());
        }
        if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException(response.request().method() + " " + response.uri() + ": "
                    + response.statusCode() + " " + response.body());
        }
    }
}
