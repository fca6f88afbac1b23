package io.stateversions.api.security;

import io.quarkus.test.junit.QuarkusTestProfile;
import io.stateversions.testing.TestPki;
import io.stateversions.testing.TestTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;

/**
 * Security on as the Kubernetes manifests turn it on, plus client certificates: TLS only (no plain port) with a
 * certificate of the tests' authority, re-read every 500 ms; bearer tokens verified against the tests' key; client
 * certificates requested and mapped to roles by common name. The material lives in files of a directory per test JVM,
 * which the tests read back ({@link #pki()}, {@link #tokens()}).
 */
public class SecureProfile implements QuarkusTestProfile {

    static final String WRITER_CN = "billing-writer";
    static final String UNMAPPED_CN = "nobody-in-particular";

    static Path dir(String name) {
        return Path.of("target", "security-tests", Long.toString(ProcessHandle.current().pid()), name)
                .toAbsolutePath();
    }

    static TestPki pki() {
        return TestPki.in(dir("secure"));
    }

    static TestTokens tokens() {
        return TestTokens.in(dir("secure"));
    }

    static int port() {
        return org.eclipse.microprofile.config.ConfigProvider.getConfig()
                .getOptionalValue("quarkus.http.test-ssl-port", Integer.class).orElse(8444);
    }

    @Override
    public Map<String, String> getConfigOverrides() {
        TestPki pki = pki();
        if (!Files.exists(dir("secure").resolve("server.crt"))) {
            pki.server("server");
        }
        Map<String, String> config = new HashMap<>(tls(pki));
        config.put("stateversions.security.enabled", "true");
        config.put("mp.jwt.verify.publickey.location", tokens().publicKey().toString());
        config.put("mp.jwt.verify.issuer", TestTokens.ISSUER);
        config.put("mp.jwt.verify.audiences", TestTokens.AUDIENCE);
        config.put("stateversions.security.client-auth", "REQUEST");
        config.put("stateversions.security.certificate-roles." + WRITER_CN, "writer");
        return config;
    }

    /**
     * TLS on the API port only (the named configuration {@code api}: the default one would apply to the management
     * interface too), with {@code server.crt}, trusting the tests' authority for client certificates.
     */
    static Map<String, String> tls(TestPki pki) {
        Path dir = pki.caFile().getParent();
        return Map.of(
                "quarkus.http.tls-configuration-name", "api",
                "quarkus.tls.api.key-store.pem.0.cert", dir.resolve("server.crt").toString(),
                "quarkus.tls.api.key-store.pem.0.key", dir.resolve("server.key").toString(),
                "quarkus.tls.api.trust-store.pem.certs", pki.caFile().toString(),
                "quarkus.tls.api.reload-period", "500ms",
                "quarkus.http.insecure-requests", "disabled");
    }
}
