package io.stateversions.api.security;

import io.quarkus.runtime.StartupEvent;
import io.quarkus.tls.TlsConfiguration;
import io.quarkus.tls.TlsConfigurationRegistry;
import io.quarkus.vertx.http.security.HttpSecurity;
import io.quarkus.vertx.http.security.MTLS;
import io.vertx.core.http.ClientAuth;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.eclipse.microprofile.config.Config;
import org.jboss.logging.Logger;

/**
 * Security at start-up: client certificates wired into Quarkus' mTLS mechanism (with their roles), and the
 * configuration checked before the service takes a request. Security off is said in one log line; security on
 * without a usable way to authenticate, or with a key file that cannot be read, stops the start-up with a message
 * naming the key to fix. Messages name configuration keys and file paths, never their secret contents.
 */
@ApplicationScoped
public class SecuritySetup {

    private static final Logger LOG = Logger.getLogger(SecuritySetup.class);
    static final String PUBLIC_KEY_LOCATION = "mp.jwt.verify.publickey.location";
    static final String PUBLIC_KEY = "mp.jwt.verify.publickey";

    /** Client certificates: Quarkus' mTLS mechanism, at the level the configuration asks, with its role mapping. */
    void clientCertificates(@Observes HttpSecurity http, SecurityConfig config) {
        if (!config.enabled() || config.clientAuth() == ClientAuth.NONE) {
            return;
        }
        MTLS.Builder mtls = MTLS.builder().authentication(config.clientAuth())
                .certificateAttribute(config.certificateAttribute());
        for (Map.Entry<String, List<String>> entry : config.certificateRoles().entrySet()) {
            mtls.rolesMapping(entry.getKey(), new HashSet<>(entry.getValue()));
        }
        http.mTLS(mtls.build());
    }

    void check(@Observes StartupEvent event, SecurityConfig config, Config all, TlsConfigurationRegistry tls) {
        Optional<TlsConfiguration> serverTls = all.getOptionalValue("quarkus.http.tls-configuration-name", String.class)
                .flatMap(tls::get).or(tls::getDefault).filter(t -> t.getKeyStore() != null);
        if (!config.enabled()) {
            LOG.infof("Security is off (stateversions.security.enabled=false): the API answers every caller without"
                    + " credentials%s; turn it on before exposing the service (README \"Security\")",
                    serverTls.isPresent() ? "" : ", in clear text");
            return;
        }
        if (all.getOptionalValue("quarkus.grpc.server.use-separate-server", Boolean.class).orElse(false)) {
            throw new IllegalStateException("stateversions.security.enabled=true requires gRPC on the HTTP server"
                    + " (quarkus.grpc.server.use-separate-server=false): a separate gRPC server is not checked");
        }
        Optional<String> keyLocation = all.getOptionalValue(PUBLIC_KEY_LOCATION, String.class);
        boolean jwt = keyLocation.isPresent() || all.getOptionalValue(PUBLIC_KEY, String.class).isPresent();
        boolean certificates = config.clientAuth() != ClientAuth.NONE;
        if (!jwt && !certificates) {
            throw new IllegalStateException("stateversions.security.enabled=true, but no caller could authenticate:"
                    + " set " + PUBLIC_KEY_LOCATION + " (a PEM public key or a JWKS file verifying bearer tokens)"
                    + " and/or stateversions.security.client-auth (REQUEST or REQUIRED, client certificates)");
        }
        if (jwt) {
            keyLocation.filter(SecuritySetup::isFile).ifPresent(location -> {
                Path file = Path.of(location.startsWith("file:") ? location.substring("file:".length()) : location);
                if (!Files.isReadable(file) || Files.isDirectory(file)) {
                    throw new IllegalStateException(PUBLIC_KEY_LOCATION + " names " + file + ", which is not a"
                            + " readable file: bearer tokens could not be verified");
                }
            });
            for (String key : List.of("mp.jwt.verify.issuer", "mp.jwt.verify.audiences")) {
                if (all.getOptionalValue(key, String.class).isEmpty()) {
                    throw new IllegalStateException("stateversions.security.enabled=true with bearer tokens requires "
                            + key + ": a token is accepted only for the configured issuer and audience");
                }
            }
        }
        if (certificates && (serverTls.isEmpty() || serverTls.get().getTrustStore() == null)) {
            throw new IllegalStateException("stateversions.security.client-auth=" + config.clientAuth() + " requires"
                    + " TLS on the API port (quarkus.http.tls-configuration-name=api, quarkus.tls.api.key-store.pem.0.cert"
                    + " and .key) and the certificate authority of the clients (quarkus.tls.api.trust-store.pem.certs)");
        }
        if (serverTls.isPresent() && config.clientAuth() != ClientAuth.REQUIRED
                && !all.getOptionalValue("quarkus.http.insecure-requests", String.class).orElse("enabled")
                        .equalsIgnoreCase("disabled")) {
            // With client certificates required Quarkus closes the plain port itself; otherwise it serves the API
            // in clear text beside TLS, and bearer tokens sent there cross the network readable.
            throw new IllegalStateException("stateversions.security.enabled=true with TLS on the API port requires"
                    + " quarkus.http.insecure-requests=disabled: the plain port (quarkus.http.port) would serve the"
                    + " API in clear text, bearer tokens included");
        }
        if (serverTls.isEmpty()) {
            LOG.warn("Security is on but TLS is off: bearer tokens cross the network in clear text unless something"
                    + " in front of the service encrypts it (README \"Security\": quarkus.tls.api.*)");
        }
        LOG.infof("Security is on: bearer tokens %s, client certificates %s, TLS %s", jwt ? "verified" : "off",
                certificates ? config.clientAuth() : "off", serverTls.isPresent() ? "on" : "off");
    }

    private static boolean isFile(String location) {
        return !(location.startsWith("http:") || location.startsWith("https:") || location.startsWith("classpath:"));
    }
}
