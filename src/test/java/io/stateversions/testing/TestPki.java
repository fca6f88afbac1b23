package io.stateversions.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

/**
 * A certificate authority of the tests, kept as PEM files in one directory: {@code ca.crt} and {@code ca.key}, and the
 * certificates it issues ({@code <name>.crt}, {@code <name>.key}). Everything is read back from the files, so a test
 * and the Quarkus test profile that configured the service from them (loaded by different class loaders) share one
 * authority. Keys are EC P-256 (fast to generate).
 */
public final class TestPki {

    /** A certificate and its private key, as files. */
    public record Issued(Path cert, Path key) {}

    private final Path dir;

    private TestPki(Path dir) {
        this.dir = dir;
    }

    /** The authority in {@code dir}, created if {@code dir} holds none. */
    public static synchronized TestPki in(Path dir) {
        TestPki pki = new TestPki(dir);
        if (!Files.exists(dir.resolve("ca.key"))) {
            try {
                Files.createDirectories(dir);
                KeyPair ca = keyPair();
                X509Certificate caCert = sign(new X500Name("CN=state-versions test CA " + dir.getFileName()),
                        ca, null, ca.getPrivate(), true, null);
                pki.write("ca", caCert, ca.getPrivate());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
                throw new IllegalStateException(e);
            }
        }
        return pki;
    }

    public Path caFile() {
        return dir.resolve("ca.crt");
    }

    /** A server certificate for {@code localhost} and {@code 127.0.0.1}, in {@code <name>.crt} / {@code .key}. */
    public Issued server(String name) {
        return issue(name, "CN=localhost", new GeneralNames(new GeneralName[] {
            new GeneralName(GeneralName.dNSName, "localhost"), new GeneralName(GeneralName.iPAddress, "127.0.0.1")}));
    }

    /** A client certificate whose subject's common name is {@code commonName}. */
    public Issued client(String name, String commonName) {
        return issue(name, "CN=" + commonName, null);
    }

    /** The serial number of the certificate in {@code file}. */
    public static BigInteger serial(Path file) {
        return certificate(file).getSerialNumber();
    }

    /** A TLS context trusting this authority, presenting {@code client} (issued by any authority) if given. */
    public SSLContext sslContext(Issued client) {
        try {
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("ca", certificate(caFile()));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            KeyManagerFactory kmf = null;
            if (client != null) {
                KeyStore keys = KeyStore.getInstance("PKCS12");
                keys.load(null, null);
                keys.setKeyEntry("client", privateKey(client.key()), new char[0],
                        new java.security.cert.Certificate[] {certificate(client.cert())});
                kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
                kmf.init(keys, new char[0]);
            }
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(kmf == null ? null : kmf.getKeyManagers(), tmf.getTrustManagers(), new SecureRandom());
            return context;
        } catch (GeneralSecurityException | IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private Issued issue(String name, String subject, GeneralNames altNames) {
        try {
            KeyPair key = keyPair();
            X509Certificate cert = sign(new X500Name(subject), key, certificate(caFile()), privateKey(dir.resolve("ca.key")),
                    false, altNames);
            return write(name, cert, key.getPrivate());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException | org.bouncycastle.operator.OperatorCreationException e) {
            throw new IllegalStateException(e);
        }
    }

    private static X509Certificate sign(X500Name subject, KeyPair key, X509Certificate issuer, PrivateKey issuerKey,
            boolean ca, GeneralNames altNames)
            throws IOException, GeneralSecurityException, org.bouncycastle.operator.OperatorCreationException {
        Instant now = Instant.now();
        X500Name issuerName = issuer == null ? subject : new X500Name(issuer.getSubjectX500Principal().getName());
        X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(issuerName,
                new BigInteger(64, new SecureRandom()), Date.from(now.minus(Duration.ofHours(1))),
                Date.from(now.plus(Duration.ofDays(2))), subject, key.getPublic());
        builder.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
        builder.addExtension(Extension.keyUsage, true, ca ? new KeyUsage(KeyUsage.keyCertSign | KeyUsage.cRLSign)
                : new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyAgreement));
        if (altNames != null) {
            builder.addExtension(Extension.subjectAlternativeName, false, altNames);
        }
        return new JcaX509CertificateConverter().getCertificate(builder.build(
                new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
    }

    private Issued write(String name, X509Certificate cert, PrivateKey key) throws IOException, GeneralSecurityException {
        Path certFile = dir.resolve(name + ".crt");
        Path keyFile = dir.resolve(name + ".key");
        // Written beside and moved into place: a reloading server never reads half a file.
        Path certTemp = Files.writeString(dir.resolve(name + ".crt.tmp"), pem("CERTIFICATE", cert.getEncoded()));
        Path keyTemp = Files.writeString(dir.resolve(name + ".key.tmp"), pem("PRIVATE KEY", key.getEncoded()));
        Files.move(keyTemp, keyFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        Files.move(certTemp, certFile, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        return new Issued(certFile, keyFile);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    static byte[] der(Path pemFile) {
        try {
            String pem = Files.readString(pemFile);
            String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
            return Base64.getDecoder().decode(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static X509Certificate certificate(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static PrivateKey privateKey(Path file) throws GeneralSecurityException {
        return KeyFactory.getInstance("EC").generatePrivate(new PKCS8EncodedKeySpec(der(file)));
    }

    private static KeyPair keyPair() throws GeneralSecurityException {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("EC");
        generator.initialize(new ECGenParameterSpec("secp256r1"));
        return generator.generateKeyPair();
    }
}
