package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.ServiceProcess;
import io.stateversions.testing.TestPki;
import io.stateversions.testing.TestTokens;
import java.io.IOException;
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

    private ServiceProcess service;

    @AfterEach
    void stopService() throws InterruptedException {
        if (service != null) {
            service.stop();
        }
    }

    @Test
    void managementAnswersWithoutCredentialsAndTheApiRefusesAnUnauthenticatedAppend() throws Exception {
        TestPki pki = TestPki.in(temp.resolve("pki"));
        TestPki.Issued server = pki.server("server");
        TestTokens tokens = TestTokens.in(temp.resolve("jwt"));
        int port = ServiceProcess.freePort();
        List<String> properties = new ArrayList<>(List.of("-Dquarkus.http.ssl-port=" + port,
                "-Dquarkus.http.insecure-requests=disabled"));
        properties.addAll(tlsAndTokens(server, tokens));
        service = launch("secure", properties);
        HttpClient plain = HttpClient.newHttpClient();
        service.awaitReady(plain, READY_WITHIN); // health on the management port, without credentials
        assertThat(plain.send(HttpRequest.newBuilder(service.managementUri("/q/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body()).contains("stateversions_");
        assertThat(Files.readString(service.log)).contains("Security is on");

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
        service = launch("no-key", List.of(
                "-Dstateversions.consensus.url=mem://test",
                "-Dstateversions.blob.url=mem://test",
                "-Dstateversions.security.enabled=true",
                "-Dmp.jwt.verify.publickey.location=" + missing,
                "-Dmp.jwt.verify.issuer=" + TestTokens.ISSUER,
                "-Dmp.jwt.verify.audiences=" + TestTokens.AUDIENCE));
        assertThat(service.awaitExit(Duration.ofSeconds(90))).isNotZero();
        assertThat(Files.readString(service.log)).contains("mp.jwt.verify.publickey.location names " + missing
                + ", which is not a readable file");
    }

    @Test
    void aMissingCertificateStopsTheStartWithAClearMessage() throws Exception {
        Path missing = temp.resolve("no-such-cert.crt");
        service = launch("no-cert", List.of(
                "-Dquarkus.http.ssl-port=" + ServiceProcess.freePort(),
                "-Dstateversions.consensus.url=mem://test",
                "-Dstateversions.blob.url=mem://test",
                "-Dquarkus.http.tls-configuration-name=api",
                "-Dquarkus.tls.api.key-store.pem.0.cert=" + missing,
                "-Dquarkus.tls.api.key-store.pem.0.key=" + temp.resolve("no-such-key.key")));
        assertThat(service.awaitExit(Duration.ofSeconds(90))).isNotZero();
        assertThat(Files.readString(service.log)).contains("cannot read the key/certificate files")
                .contains("Unable to read file " + missing);
    }

    @Test
    void tlsWithThePlainPortOpenStopsTheStartWithAClearMessage() throws Exception {
        TestPki.Issued server = TestPki.in(temp.resolve("pki")).server("server");
        TestTokens tokens = TestTokens.in(temp.resolve("jwt"));
        List<String> properties = new ArrayList<>(List.of("-Dquarkus.http.ssl-port=" + ServiceProcess.freePort(),
                "-Dstateversions.consensus.url=mem://test", "-Dstateversions.blob.url=mem://test"));
        properties.addAll(tlsAndTokens(server, tokens)); // quarkus.http.insecure-requests left enabled
        service = launch("plain-open", properties);
        assertThat(service.awaitExit(Duration.ofSeconds(90))).isNotZero();
        assertThat(Files.readString(service.log)).contains("requires quarkus.http.insecure-requests=disabled");
    }

    /** Security on, TLS on the API port with {@code server}'s certificate, bearer tokens of {@code tokens}. */
    private static List<String> tlsAndTokens(TestPki.Issued server, TestTokens tokens) {
        return List.of(
                "-Dquarkus.http.tls-configuration-name=api",
                "-Dquarkus.tls.api.key-store.pem.0.cert=" + server.cert(),
                "-Dquarkus.tls.api.key-store.pem.0.key=" + server.key(),
                "-Dstateversions.security.enabled=true",
                "-Dmp.jwt.verify.publickey.location=" + tokens.publicKey(),
                "-Dmp.jwt.verify.issuer=" + TestTokens.ISSUER,
                "-Dmp.jwt.verify.audiences=" + TestTokens.AUDIENCE);
    }

    /** The packaged service with {@code properties}, its data in the test's directory. */
    private ServiceProcess launch(String name, List<String> properties) throws IOException {
        List<String> all = new ArrayList<>(properties);
        all.add("-Dstateversions.data-dir=" + temp.resolve("data-" + name));
        return ServiceProcess.start(name, temp.resolve("logs"), all);
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
}
