package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.TestPki;
import java.io.IOException;
import java.math.BigInteger;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Set;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;

/**
 * TLS on the API port: a rotated server certificate is served without a restart; client certificates (requested)
 * authenticate their holder with the roles of their common name; a certificate of another authority is refused in
 * the handshake.
 */
@QuarkusTest
@TestProfile(SecureProfile.class)
class TlsTest {

    private final TestPki pki = SecureProfile.pki();

    @Test
    void aRotatedCertificateIsServedWithoutARestart() throws Exception {
        Path served = SecureProfile.dir("secure").resolve("server.crt");
        assertThat(peerSerial(pki.sslContext(null))).isEqualTo(TestPki.serial(served));
        long handshakes = 0;
        long started = System.nanoTime();
        for (int i = 0; i < 20; i++) {
            peerSerial(pki.sslContext(null));
            handshakes++;
        }
        System.out.printf("TLS handshake (new connection, EC P-256): %.1f ms on average over %d%n",
                (System.nanoTime() - started) / 1e6 / handshakes, handshakes);

        pki.server("server"); // a new certificate and key, written in place as a Secret update does
        BigInteger rotated = TestPki.serial(served);
        // The two files are replaced one after the other: a reload in between may fail, the next one succeeds.
        await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).ignoreExceptions()
                .until(() -> peerSerial(pki.sslContext(null)).equals(rotated));
        assertThat(peerSerial(pki.sslContext(null))).isEqualTo(rotated);
    }

    @Test
    void aClientCertificateAuthenticatesWithTheRolesOfItsName() throws Exception {
        ShardId shard = ShardId.random();
        HttpClient admin = HttpClient.newBuilder().sslContext(pki.sslContext(null)).build();
        String token = SecureProfile.tokens().token("admin", Set.of("admin"));
        assertThat(send(admin, "PUT", "/v1/shards/" + shard,
                "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}", token).statusCode())
                .isEqualTo(201);

        HttpClient writer = HttpClient.newBuilder()
                .sslContext(pki.sslContext(pki.client("writer-client", SecureProfile.WRITER_CN))).build();
        assertThat(send(writer, "PUT", "/v1/shards/" + shard + "/writers/" + WriterId.random(),
                "{\"purpose\":\"mtls\"}", null).statusCode()).isEqualTo(200);
        HttpResponse<String> open = send(writer, "PUT", "/v1/shards/" + ShardId.random(),
                "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}", null);
        assertThat(open.statusCode()).isEqualTo(403);
        assertThat(open.body()).contains("\"code\":\"forbidden\"");

        HttpClient unmapped = HttpClient.newBuilder()
                .sslContext(pki.sslContext(pki.client("unmapped-client", SecureProfile.UNMAPPED_CN))).build();
        assertThat(send(unmapped, "GET", "/v1/shards", null, null).statusCode()).isEqualTo(403);
    }

    /** Requested, not required: a certificate of another authority, whatever its name, authenticates nobody. */
    @Test
    void aCertificateOfAnotherAuthorityAuthenticatesNobody() throws Exception {
        TestPki other = TestPki.in(SecureProfile.dir("other-ca"));
        TestPki.Issued stranger = other.client("stranger", SecureProfile.WRITER_CN);
        HttpClient client = HttpClient.newBuilder().sslContext(pki.sslContext(stranger)).build();
        HttpResponse<String> refused;
        try {
            refused = send(client, "PUT", "/v1/shards/" + ShardId.random() + "/writers/" + WriterId.random(),
                    "{\"purpose\":\"x\"}", null);
        } catch (IOException handshakeRefused) {
            return; // a TLS stack that refuses an untrusted certificate even when only requested: refused all the same
        }
        assertThat(refused.statusCode()).isEqualTo(401);
    }

    private static HttpResponse<String> send(HttpClient client, String method, String path, String body, String token)
            throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("https://localhost:" + SecureProfile.port()
                + path)).timeout(Duration.ofSeconds(20)).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** The serial of the certificate the API port presents to a new connection. */
    static BigInteger peerSerial(SSLContext context) throws IOException {
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", SecureProfile.port())) {
            socket.setSoTimeout(10_000);
            socket.startHandshake();
            return ((X509Certificate) socket.getSession().getPeerCertificates()[0]).getSerialNumber();
        }
    }
}
