package io.stateversions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A running service, through its REST API ({@code /v1}) and, for the blob inventory and the invariant check, the
 * inspector's JSON answers ({@code /ui/shards/{shard}/blobs|check} with {@code Accept: application/json}). Errors are
 * the service's problem documents, printed with their code.
 */
final class OnlineTarget implements Target {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);

    private final URI base;
    private final Optional<String> token;
    private final ObjectMapper json;
    private final HttpClient http;

    OnlineTarget(String url, Optional<String> token, ObjectMapper json) {
        String trimmed = url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
        try {
            this.base = URI.create(trimmed);
        } catch (IllegalArgumentException e) {
            throw new CliException("invalid --url " + url + ": " + e.getMessage(), 2);
        }
        if (base.getScheme() == null || !(base.getScheme().equals("http") || base.getScheme().equals("https"))) {
            throw new CliException("invalid --url " + url + ": expected http://host:port or https://host:port", 2);
        }
        this.token = token;
        this.json = json;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    }

    @Override
    public JsonNode shards(Optional<String> after, int limit) {
        return get("/v1/shards?limit=" + limit + after.map(a -> "&after=" + query(a)).orElse(""));
    }

    @Override
    public JsonNode state(String shard) {
        return get("/v1/shards/" + path(shard));
    }

    @Override
    public JsonNode versions(String shard, OptionalLong from, int limit) {
        return get("/v1/shards/" + path(shard) + "/versions?limit=" + limit
                + (from.isPresent() ? "&from=" + from.getAsLong() : ""));
    }

    @Override
    public JsonNode diff(String shard, long seqno) {
        JsonNode page = get("/v1/shards/" + path(shard) + "/diffs?limit=1&from=" + seqno);
        JsonNode diffs = page.path("diffs");
        if (diffs.size() == 1 && diffs.get(0).path("seqnoTo").asLong() == seqno) {
            return diffs.get(0);
        }
        // The page starts at the earliest live version when seqno is below it.
        JsonNode versions = versions(shard, OptionalLong.empty(), 1);
        throw Commands.noSuchVersion(shard, seqno, versions.path("earliest").asLong(),
                versions.path("current").asLong());
    }

    @Override
    public JsonNode rollups(String shard) {
        return get("/v1/shards/" + path(shard) + "/rollups");
    }

    @Override
    public JsonNode blobs(String shard) {
        return get("/ui/shards/" + path(shard) + "/blobs");
    }

    @Override
    public JsonNode check(String shard) {
        return get("/ui/shards/" + path(shard) + "/check");
    }

    @Override
    public JsonNode gc(String shard) {
        return post("/v1/shards/" + path(shard) + "/maintenance/gc");
    }

    @Override
    public JsonNode rollup(String shard) {
        return post("/v1/shards/" + path(shard) + "/maintenance/rollup");
    }

    @Override
    public JsonNode sweep(String shard, OptionalLong graceMs) {
        return post("/v1/shards/" + path(shard) + "/maintenance/leaked-blobs"
                + (graceMs.isPresent() ? "?graceMs=" + graceMs.getAsLong() : ""));
    }

    private JsonNode get(String pathAndQuery) {
        return send(request(pathAndQuery).GET().build());
    }

    private JsonNode post(String pathAndQuery) {
        return send(request(pathAndQuery).POST(HttpRequest.BodyPublishers.noBody()).build());
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base + pathAndQuery)).timeout(TIMEOUT)
                .header("Accept", "application/json");
        token.ifPresent(t -> request.header("Authorization", "Bearer " + t));
        return request;
    }

    private JsonNode send(HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new CliException("cannot reach the service at " + base + ": " + e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
        JsonNode body;
        try {
            body = json.readTree(response.body());
        } catch (IOException e) {
            throw new CliException(request.method() + " " + request.uri().getPath() + " answered "
                    + response.statusCode() + " without JSON: " + abbreviated(response.body()));
        }
        if (response.statusCode() >= 400) {
            // A malformed id or parameter is the user's to fix, whichever mode found it.
            throw new CliException(response.statusCode() + " " + body.path("code").asText("error") + ": "
                    + body.path("detail").asText(abbreviated(response.body())),
                    response.statusCode() == 400 ? StateVersionsCli.USAGE : CliException.FAILED);
        }
        return body;
    }

    private static String path(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String query(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static String abbreviated(String text) {
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    @Override
    public void close() {
        // HttpClient has no close() on Java 17; its threads are daemons.
    }
}
