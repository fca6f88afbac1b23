package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.NettyChannelBuilder;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.api.grpc.RawGrpc;
import io.stateversions.core.ShardId;
import io.stateversions.testing.Management;
import io.stateversions.testing.TestTokens;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Every REST route and every gRPC method of {@link Operation}'s table, over TLS, with every kind of credential: none,
 * malformed, wrongly signed, expired, not yet valid, unsigned ({@code alg: none}), for another issuer or audience,
 * and a valid token of each role (and of no role). Refused requests address a canary shard with requests that would
 * commit, and the canary's seqno is checked unchanged; allowed ones address another shard and must pass the access
 * check (whatever the operation then answers, never 401/403 nor a 5xx).
 */
@QuarkusTest
@TestProfile(SecureProfile.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessMatrixTest {

    private static final Set<String> ALL_ROLES = Set.of("admin");

    private final TestTokens tokens = SecureProfile.tokens();
    private HttpClient http;
    private ManagedChannel channel;
    private ShardId canary;
    private ShardId target;
    private final List<ShardId> neverOpened = new ArrayList<>();

    /** A credential and, for a valid one, the role it carries (null: refused as unauthenticated). */
    record Credential(String name, String authorization, Role role, boolean valid) {}

    @BeforeAll
    void connect() throws Exception {
        http = HttpClient.newBuilder().sslContext(SecureProfile.pki().sslContext(null))
                .connectTimeout(Duration.ofSeconds(10)).build();
        channel = NettyChannelBuilder.forAddress("localhost", SecureProfile.port())
                .sslContext(GrpcSslContexts.forClient().trustManager(SecureProfile.pki().caFile().toFile()).build())
                .build();
        canary = ShardId.random();
        target = ShardId.random();
        for (ShardId shard : List.of(canary, target)) {
            assertThat(rest("PUT", "/v1/shards/" + shard, Samples.CODECS, bearer("admin")).statusCode()).isEqualTo(201);
        }
    }

    @AfterAll
    void disconnect() throws InterruptedException {
        channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
    }

    List<Credential> credentials() {
        List<Credential> all = new ArrayList<>();
        all.add(new Credential("none", null, null, false));
        all.add(new Credential("malformed", "Bearer not.a-jwt", null, false));
        all.add(new Credential("not bearer", "Basic YWRtaW46YWRtaW4=", null, false));
        all.add(new Credential("wrongly signed", "Bearer " + tokens.wronglySigned(ALL_ROLES), null, false));
        all.add(new Credential("expired", "Bearer " + tokens.expired(ALL_ROLES), null, false));
        all.add(new Credential("not yet valid", "Bearer " + tokens.notYetValid(ALL_ROLES), null, false));
        all.add(new Credential("alg none", "Bearer " + TestTokens.unsigned(ALL_ROLES), null, false));
        all.add(new Credential("other issuer", "Bearer " + tokens.otherIssuer(ALL_ROLES), null, false));
        all.add(new Credential("other audience", "Bearer " + tokens.otherAudience(ALL_ROLES), null, false));
        all.add(new Credential("no role", bearer("auditor"), null, true));
        for (Role role : Role.values()) {
            all.add(new Credential(role.roleName(), bearer(role.roleName()), role, true));
        }
        return all;
    }

    private String bearer(String role) {
        return "Bearer " + tokens.token("client-" + role, Set.of(role));
    }

    @Test
    void everyRestRouteWithEveryCredential() throws Exception {
        long before = seqno(canary);
        int checked = 0;
        List<Runnable> allowed = new ArrayList<>();
        for (Operation operation : Operation.values()) {
            if (operation.httpMethod().isEmpty()) {
                continue;
            }
            for (Credential credential : credentials()) {
                boolean grants = credential.role() != null && credential.role().includes(operation.role());
                if (grants) {
                    allowed.add(() -> assertAllowedRest(operation, credential));
                    continue;
                }
                ShardId shard = operation == Operation.OPEN_SHARD ? fresh() : canary;
                HttpResponse<String> response = restCall(operation, shard, credential.authorization());
                String what = operation + " with " + credential.name();
                int expected = credential.valid() ? 403 : 401;
                assertThat(response.statusCode()).as(what + ": " + response.body()).isEqualTo(expected);
                assertThat(response.headers().firstValue("content-type")).as(what).hasValue("application/problem+json");
                assertThat(response.body()).as(what).contains(expected == 401 ? "\"code\":\"unauthenticated\""
                        : "\"code\":\"forbidden\"");
                if (expected == 401) {
                    assertThat(response.headers().firstValue("www-authenticate")).as(what).isPresent();
                }
                if (credential.authorization() != null && credential.authorization().length() > 20) {
                    assertThat(response.body()).as("no credential echoed").doesNotContain(
                            credential.authorization().substring(7));
                }
                checked++;
            }
        }
        assertThat(seqno(canary)).as("the canary after %d refused requests", checked).isEqualTo(before);
        for (ShardId shard : neverOpened) {
            assertThat(rest("GET", "/v1/shards/" + shard, null, bearer("reader")).statusCode()).isEqualTo(404);
        }
        allowed.forEach(Runnable::run);
        System.out.printf("access matrix, REST: %d refused and %d allowed requests%n", checked, allowed.size());
    }

    @Test
    void everyGrpcMethodWithEveryCredential() throws Exception {
        long before = seqno(canary);
        int refused = 0;
        int allowed = 0;
        for (Operation operation : Operation.values()) {
            for (String method : operation.grpcMethods()) {
                for (Credential credential : credentials()) {
                    boolean grants = credential.role() != null && credential.role().includes(operation.role());
                    ShardId shard = grants ? target : operation == Operation.OPEN_SHARD ? fresh() : canary;
                    RawGrpc.Outcome outcome = RawGrpc.call(channel, method, Samples.grpcRequest(operation, method, shard),
                            headers(credential.authorization()));
                    Status status = outcome.status();
                    String what = method + " with " + credential.name() + ": " + status;
                    if (!status.isOk() && method.startsWith(Operation.SERVICE)) {
                        assertThat(outcome.errorCode()).as("sv-error-code of " + what).isNotNull();
                    }
                    if (grants) {
                        assertThat(status.getCode()).as(what).isNotIn(Status.Code.UNAUTHENTICATED,
                                Status.Code.PERMISSION_DENIED, Status.Code.INTERNAL, Status.Code.UNKNOWN);
                        allowed++;
                    } else {
                        assertThat(status.getCode()).as(what).isEqualTo(credential.valid()
                                ? Status.Code.PERMISSION_DENIED : Status.Code.UNAUTHENTICATED);
                        refused++;
                    }
                }
            }
        }
        assertThat(seqno(canary)).as("the canary after %d refused calls", refused).isEqualTo(before);
        System.out.printf("access matrix, gRPC: %d refused and %d allowed calls%n", refused, allowed);
    }

    @Test
    void managementNeedsNoCredentials() {
        Management.given().get("/q/health/ready").then().statusCode(200);
        Management.given().get("/q/metrics").then().statusCode(200);
    }

    // ----------------------------------------------------------------------------------------------- requests

    private ShardId fresh() {
        ShardId shard = ShardId.random();
        neverOpened.add(shard);
        return shard;
    }

    private void assertAllowedRest(Operation operation, Credential credential) {
        try {
            HttpResponse<String> response = restCall(operation, target, credential.authorization());
            assertThat(response.statusCode()).as(operation + " with " + credential.name() + ": " + response.body())
                    .isNotIn(401, 403).isLessThan(500);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A request of {@code operation} that would commit on {@code shard} if it were allowed. */
    private HttpResponse<String> restCall(Operation operation, ShardId shard, String authorization) throws Exception {
        return rest(operation.httpMethod().orElseThrow(), Samples.restPath(operation, shard),
                Samples.restBody(operation), authorization);
    }

    private HttpResponse<String> rest(String method, String pathAndQuery, String body, String authorization)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + SecureProfile.port()
                + pathAndQuery)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        if (pathAndQuery.contains("/watch")) {
            // A stream: the status is all the matrix needs.
            HttpResponse<InputStream> streaming = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
            String text = streaming.statusCode() == 200 ? "" : new String(streaming.body().readAllBytes());
            streaming.body().close();
            return new StringResponse(streaming, text);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private long seqno(ShardId shard) throws Exception {
        HttpResponse<String> state = rest("GET", "/v1/shards/" + shard, null, bearer("reader"));
        assertThat(state.statusCode()).isEqualTo(200);
        return com.fasterxml.jackson.databind.json.JsonMapper.builder().build().readTree(state.body()).get("seqno")
                .asLong();
    }

    private static Metadata headers(String authorization) {
        Metadata headers = new Metadata();
        if (authorization != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), authorization);
        }
        return headers;
    }

    /** A streamed response with the little of its body the matrix read. */
    private record StringResponse(HttpResponse<InputStream> delegate, String body) implements HttpResponse<String> {
        public int statusCode() {
            return delegate.statusCode();
        }

        public HttpRequest request() {
            return delegate.request();
        }

        public java.util.Optional<HttpResponse<String>> previousResponse() {
            return java.util.Optional.empty();
        }

        public java.net.http.HttpHeaders headers() {
            return delegate.headers();
        }

        public java.util.Optional<javax.net.ssl.SSLSession> sslSession() {
            return delegate.sslSession();
        }

        public URI uri() {
            return delegate.uri();
        }

        public HttpClient.Version version() {
            return delegate.version();
        }
    }
}
