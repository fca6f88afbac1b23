package io.stateversions.api.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.testing.TestPki;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/**
 * Client certificates required (and no bearer tokens): a client without a certificate, or with one of another
 * authority, cannot even connect; a trusted one is served with the roles of its name.
 */
@QuarkusTest
@TestProfile(MutualTlsRequiredTest.Required.class)
class MutualTlsRequiredTest {

    public static class Required implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            TestPki pki = pki();
            if (!Files.exists(SecureProfile.dir("required").resolve("server.crt"))) {
                pki.server("server");
            }
            Map<String, String> config = new HashMap<>(SecureProfile.tls(pki));
            config.put("stateversions.security.enabled", "true");
            config.put("stateversions.security.client-auth", "REQUIRED");
            config.put("stateversions.security.certificate-roles." + SecureProfile.WRITER_CN, "reader");
            // Tests get an in-memory token key from the SmallRye JWT extension; with security on it needs these.
            config.put("mp.jwt.verify.issuer", io.stateversions.testing.TestTokens.ISSUER);
            config.put("mp.jwt.verify.audiences", io.stateversions.testing.TestTokens.AUDIENCE);
            return config;
        }
    }

    static TestPki pki() {
        return TestPki.in(SecureProfile.dir("required"));
    }

    @Test
    void aClientWithoutATrustedCertificateCannotConnect() {
        SSLContext none = pki().sslContext(null);
        assertThatThrownBy(() -> get(none)).isInstanceOf(IOException.class);
        TestPki.Issued stranger = TestPki.in(SecureProfile.dir("required-other-ca"))
                .client("stranger", SecureProfile.WRITER_CN);
        assertThatThrownBy(() -> get(pki().sslContext(stranger))).isInstanceOf(IOException.class);
    }

    @Test
    void aTrustedCertificateIsServedWithItsRoles() throws Exception {
        SSLContext trusted = pki().sslContext(pki().client("reader", SecureProfile.WRITER_CN));
        assertThat(get(trusted).statusCode()).isEqualTo(200);
    }

    private static HttpResponse<String> get(SSLContext context) throws IOException, InterruptedException {
        HttpClient client = HttpClient.newBuilder().sslContext(context).connectTimeout(Duration.ofSeconds(10)).build();
        return client.send(HttpRequest.newBuilder(URI.create("https://localhost:" + SecureProfile.port()
                + "/v1/shards")).timeout(Duration.ofSeconds(20)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
