package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.TestPki;
import io.stateversions.testing.TestTokens;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service with security on, as the Kubernetes manifests run it (TLS only, bearer tokens): health and
 * metrics answer on the management port without credentials, the API port refuses an unauthenticated append and
 * takes an authorized one. Started with security on and a token key that is not there, or TLS with a certificate
 * that is not there, it stops with a message naming the file.
 */
class SecurityIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);

    @TempDir
    Path temp;

    private Process service;

    @AfterEach
    void stopService() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroy();
            if (!service.waitFor(30, TimeUnit.SECONDS)) {
                service.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void managementAnswersWithoutCredentialsAndTheApiRefusesAnUnauthenticatedAppend() throws Exception {
        TestPki pki = TestPki.in(temp.resolve("pki"));
        TestPki.Issued server = pki.server("server");
        TestTokens tokens = TestTokens.in(temp.resolve("jwt"));
        int port = freePort();
        int management = freePort();
        service = launch(temp.resolve("service.log"), List.of(
                "-Dquarkus.http.ssl-port=" + port,
                "-Dquarkus.http.port=" + freePort(),
                "-Dquarkus.http.insecure-requests=disabled",
                "-Dquarkus.http.tls-configuration-name=api",
                "-Dquarkus.tls.api.key-store.pem.0.cert=" + server.cert(),
                "-Dquarkus.tls.api.key-store.pem.0.key=" + server.key(),
                "-Dquarkus.management.port=" + management,
                "-Dstateversions.security.enabled=true",
                "-Dmp.jwt.verify.publickey.location=" + tokens.publicKey(),
                "-Dmp.jwt.verify.issuer=" + TestTokens.ISSUER,
                "-Dmp.jwt.verify.audiences=" + TestTokens.AUDIENCE));
        HttpClient plain = HttpClient.newHttpClient();
        await().atMost(READY_WITHIN).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            assertThat(service.isAlive()).as("the service is running").isTrue();
            HttpResponse<String> ready = plain.send(get("http://127.0.0.1:" + management + "/q/health/ready"),
                    HttpResponse.BodyHandlers.ofString());
            return ready.statusCode() == 200 && ready.body().contains("\"UP\"");
        });
        assertThat(plain.send(get("http://127.0.0.1:" + management + "/q/metrics"), HttpResponse.BodyHandlers.ofString())
                .body()).contains("stateversions_");
        assertThat(Files.readString(temp.resolve("service.log"))).contains("Security is on");

        HttpClient api = HttpClient.newBuilder().sslContext(pki.sslContext(null)).build();
        String base = "https://localhost:" + port + "/v1/shards/";
        ShardId shard = ShardId.random();
        String admin = tokens.token("operator", Set.of("admin"));
        assertThat(send(api, "PUT", base + shard, "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\","
                + "\"diffCodec\":\"d\"}", admin).statusCode()).isEqualTo(201);
        String append = "{\"writerId\":\"" + WriterId.random() + "\",\"idempotencyToken\":\"" + IdempotencyToken.random()
                + "\",\"lower\":[0],\"upper\":[1],\"len\":1,\"parts\":[{\"inline\":\"AAEC\"}]}";

        HttpResponse<String> refused = send(api, "POST", base + shard + "/batches", append, null);
        assertThat(refused.statusCode()).isEqualTo(401);
        assertThat(refused.body()).contains("\"code\":\"unauthenticated\"");
        assertThat(send(api, "GET", base + shard, null, admin).body()).contains("\"seqno\":1");

        HttpResponse<String> appended = send(api, "POST", base + shard + "/batches", append,
                tokens.token("billing", Set.of("writer")));
        assertThat(appended.statusCode()).as(appended.body()).isEqualTo(200);
        assertThat(appended.body()).contains("\"seqno\":2");
    }

    @Test
    void aMissingTokenKeyStopsTheStartWithAClearMessage() throws Exception {
        Path missing = temp.resolve("no-such-key.pem");
        Path log = temp.resolve("failed.log");
        service = launch(log, List.of(
                "-Dquarkus.http.port=" + freePort(),
                "-Dquarkus.management.port=" + freePort(),
                "-Dstateversions.consensus.url=mem://test",
                "-Dstateversions.blob.url=mem://test",
                "-Dstateversions.security.enabled=true",
                "-Dmp.jwt.verify.publickey.location=" + missing,
                "-Dmp.jwt.verify.issuer=" + TestTokens.ISSUER,
                "-Dmp.jwt.verify.audiences=" + TestTokens.AUDIENCE));
        assertThat(service.waitFor(90, TimeUnit.SECONDS)).as("the service stops by itself").isTrue();
        assertThat(service.exitValue()).isNotZero();
        assertThat(Files.readString(log)).contains("mp.jwt.verify.publickey.location names " + missing
                + ", which is not a readable file");
    }

    @Test
    void aMissingCertificateStopsTheStartWithAClearMessage() throws Exception {
        Path missing = temp.resolve("no-such-cert.crt");
        Path log = temp.resolve("no-cert.log");
        service = launch(log, List.of(
                "-Dquarkus.http.port=" + freePort(),
                "-Dquarkus.http.ssl-port=" + freePort(),
                "-Dquarkus.management.port=" + freePort(),
                "-Dstateversions.consensus.url=mem://test",
                "-Dstateversions.blob.url=mem://test",
                "-Dquarkus.http.tls-configuration-name=api",
                "-Dquarkus.tls.api.key-store.pem.0.cert=" + missing,
                "-Dquarkus.tls.api.key-store.pem.0.key=" + temp.resolve("no-such-key.key")));
        assertThat(service.waitFor(90, TimeUnit.SECONDS)).as("the service stops by itself").isTrue();
        assertThat(service.exitValue()).isNotZero();
        assertThat(Files.readString(log)).contains("cannot read the key/certificate files")
                .contains("Unable to read file " + missing);
    }

    /** The packaged service with {@code properties}, its data in the test's directory, its output in {@code log}. */
    private Process launch(Path log, List<String> properties) throws IOException {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath();
        assertThat(jar).as("the packaged service").exists();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(properties);
        command.add("-Dstateversions.data-dir=" + temp.resolve("data"));
        command.add("-jar");
        command.add(jar.toString());
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    }

    private static HttpRequest get(String uri) {
        return HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(5)).build();
    }

    private static HttpResponse<String> send(HttpClient client, String method, String uri, String body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(uri)).timeout(Duration.ofSeconds(20))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
