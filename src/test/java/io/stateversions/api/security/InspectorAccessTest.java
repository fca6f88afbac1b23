package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.core.ShardId;
import io.stateversions.testing.TestTokens;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The web inspector with security on: its pages need {@code reader}, its maintenance buttons and the invariant check
 * {@code admin}. A reader sees the shard page with the buttons disabled and no check link, and is refused the
 * buttons' routes (403) however it sends them; an admin gets working buttons; no credentials get 401.
 */
@QuarkusTest
@TestProfile(SecureProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class InspectorAccessTest {

    private final TestTokens tokens = SecureProfile.tokens();
    private HttpClient http;
    private ShardId shard;

    @BeforeAll
    void open() throws Exception {
        http = HttpClient.newBuilder().sslContext(SecureProfile.pki().sslContext(null))
                .connectTimeout(Duration.ofSeconds(10)).build();
        shard = ShardId.random();
        HttpResponse<String> opened = send("PUT", "/v1/shards/" + shard, "admin",
                "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}");
        assertThat(opened.statusCode()).isEqualTo(201);
    }

    private HttpResponse<String> send(String method, String path, String role, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + SecureProfile.port()
                + path)).timeout(Duration.ofSeconds(30)).method(method, body == null
                ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (role != null) {
            request.header("Authorization", "Bearer " + tokens.token("client-" + role, Set.of(role)));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void readersSeeThePagesWithoutTheButtons() throws Exception {
        HttpResponse<String> page = send("GET", "/ui/shards/" + shard, "reader", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("<button id=\"rollup\" disabled", "<button id=\"gc\" disabled")
                .doesNotContain("maintenance/rollup\"", "maintenance/gc\"", "id=\"check\"");
        assertThat(send("GET", "/ui", "reader", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ui/shards/" + shard + "/live", "reader", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ui/shards/" + shard + "/versions/1", "reader", null).statusCode()).isEqualTo(200);
        assertThat(send("GET", "/ui/shards/" + shard + "/blobs", "reader", null).statusCode()).isEqualTo(200);

        long before = seqno();
        for (String button : new String[] {"rollup", "gc"}) {
            HttpResponse<String> refused = send("POST", "/ui/shards/" + shard + "/maintenance/" + button, "writer",
                    null);
            assertThat(refused.statusCode()).as(button).isEqualTo(403);
            assertThat(refused.body()).contains("\"code\":\"forbidden\"", "admin");
        }
        assertThat(send("GET", "/ui/shards/" + shard + "/check", "writer", null).statusCode()).isEqualTo(403);
        assertThat(seqno()).as("nothing committed").isEqualTo(before);
    }

    @Test
    void adminsGetTheButtons() throws Exception {
        HttpResponse<String> page = send("GET", "/ui/shards/" + shard, "admin", null);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(page.body()).contains("action=\"/ui/shards/" + shard + "/maintenance/rollup\"",
                "action=\"/ui/shards/" + shard + "/maintenance/gc\"", "id=\"check\"")
                .doesNotContain("<button id=\"rollup\" disabled");
        HttpResponse<String> gc = send("POST", "/ui/shards/" + shard + "/maintenance/gc", "admin", null);
        assertThat(gc.statusCode()).isEqualTo(303);
        assertThat(gc.headers().firstValue("location")).hasValueSatisfying(l -> assertThat(l).contains("notice="));
        HttpResponse<String> check = send("GET", "/ui/shards/" + shard + "/check", "admin", null);
        assertThat(check.statusCode()).isEqualTo(200);
        assertThat(check.body()).contains("All invariants hold");
    }

    @Test
    void nobodyWithoutCredentials() throws Exception {
        HttpResponse<String> page = send("GET", "/ui/shards/" + shard, null, null);
        assertThat(page.statusCode()).isEqualTo(401);
        assertThat(send("GET", "/ui", null, null).statusCode()).isEqualTo(401);
    }

    private long seqno() throws Exception {
        String body = send("GET", "/v1/shards/" + shard, "reader", null).body();
        return com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(body).get("seqno").asLong();
    }
}
