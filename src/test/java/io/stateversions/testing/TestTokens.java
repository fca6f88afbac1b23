package io.stateversions.testing;

import io.smallrye.jwt.build.Jwt;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Set;

/**
 * Bearer tokens signed the way a client's identity provider would sign them (RS256), with the signing key kept as PEM
 * files in one directory ({@code jwt-private.pem}, and {@code jwt-public.pem} for the service), so that a test and the
 * profile that configured the service share it. Also the tokens the service must refuse: expired, not yet valid,
 * signed by another key, for another issuer or audience, unsigned ({@code alg: none}) and malformed.
 */
public final class TestTokens {

    public static final String ISSUER = "https://issuer.test/state-versions";
    public static final String AUDIENCE = "state-versions";

    private final Path dir;

    private TestTokens(Path dir) {
        this.dir = dir;
    }

    /** The signing key in {@code dir}, created if {@code dir} holds none. */
    public static synchronized TestTokens in(Path dir) {
        if (!Files.exists(dir.resolve("jwt-private.pem"))) {
            write(dir, "jwt");
            write(dir, "jwt-other");
        }
        return new TestTokens(dir);
    }

    /** The public key file the service verifies tokens with. */
    public Path publicKey() {
        return dir.resolve("jwt-public.pem");
    }

    /** A valid token of {@code subject} holding {@code roles} (in the default role claim, {@code groups}). */
    public String token(String subject, Set<String> roles) {
        return Jwt.issuer(ISSUER).audience(AUDIENCE).subject(subject).groups(roles).expiresIn(Duration.ofMinutes(10))
                .jws().keyId("test").sign(key("jwt"));
    }

    public String expired(Set<String> roles) {
        Instant past = Instant.now().minus(Duration.ofHours(2));
        return Jwt.issuer(ISSUER).audience(AUDIENCE).subject("expired").groups(roles).issuedAt(past)
                .expiresAt(past.plus(Duration.ofMinutes(10))).sign(key("jwt"));
    }

    public String notYetValid(Set<String> roles) {
        Instant future = Instant.now().plus(Duration.ofHours(1));
        return Jwt.issuer(ISSUER).audience(AUDIENCE).subject("early").groups(roles)
                .claim("nbf", future.getEpochSecond()).expiresAt(future.plus(Duration.ofHours(1))).sign(key("jwt"));
    }

    /** Signed by a key the service does not know. */
    public String wronglySigned(Set<String> roles) {
        return Jwt.issuer(ISSUER).audience(AUDIENCE).subject("forger").groups(roles)
                .expiresIn(Duration.ofMinutes(10)).sign(key("jwt-other"));
    }

    public String otherIssuer(Set<String> roles) {
        return Jwt.issuer("https://elsewhere.test").audience(AUDIENCE).subject("x").groups(roles)
                .expiresIn(Duration.ofMinutes(10)).sign(key("jwt"));
    }

    public String otherAudience(Set<String> roles) {
        return Jwt.issuer(ISSUER).audience("another-service").subject("x").groups(roles)
                .expiresIn(Duration.ofMinutes(10)).sign(key("jwt"));
    }

    /** The claims of a valid admin token, unsigned: {@code alg: none} and an empty signature. */
    public static String unsigned(Set<String> roles) {
        String header = base64Url("{\"alg\":\"none\",\"typ\":\"JWT\"}");
        long exp = Instant.now().plus(Duration.ofMinutes(10)).getEpochSecond();
        String claims = base64Url("{\"iss\":\"" + ISSUER + "\",\"aud\":\"" + AUDIENCE + "\",\"sub\":\"none\",\"exp\":"
                + exp + ",\"groups\":[" + String.join(",", roles.stream().map(r -> "\"" + r + "\"").toList()) + "]}");
        return header + "." + claims + ".";
    }

    private static String base64Url(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private PrivateKey key(String name) {
        try {
            return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(
                    TestPki.der(dir.resolve(name + "-private.pem"))));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void write(Path dir, String name) {
        try {
            Files.createDirectories(dir);
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            Files.writeString(dir.resolve(name + "-public.pem"), TestPki.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            Files.writeString(dir.resolve(name + "-private.pem"),
                    TestPki.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
