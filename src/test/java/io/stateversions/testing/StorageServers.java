package io.stateversions.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.net.URI;
import java.util.Map;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.jboss.logging.Logger;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;

/**
 * Real storage for the test suite, without Docker: a PostgreSQL 17 server from Maven artifacts and an in-process
 * S3Proxy (the S3 protocol over HTTP, with AWS v4 signatures checked, in-memory objects and bucket versioning).
 * Either failing to start fails the build; nothing is skipped.
 *
 * <p>The service under test uses both through its normal configuration: {@code stateversions.consensus.url}, and
 * the Quarkus-managed S3 client ({@code quarkus.s3.*}) behind {@code stateversions.blob.url=s3://bucket/prefix}.
 * Tests that need locations of their own read the {@code test.*} properties.
 */
public class StorageServers implements QuarkusTestResourceLifecycleManager {

    private static final Logger LOG = Logger.getLogger(StorageServers.class);

    public static final String BUCKET = "state-versions";
    /**
     * A bucket without versioning, for tests of reads during overwrites. S3Proxy's versioned buckets are not atomic
     * there: an overwrite moves the key's current version aside before it publishes the next, and a read in between
     * finds no key (2 reads in 305 of a key overwritten in a loop, measured). S3, GCS, Azure and MinIO replace a
     * key atomically, versioned or not.
     */
    public static final String UNVERSIONED_BUCKET = "state-versions-unversioned";
    public static final String ACCESS_KEY = "test-access-key";
    public static final String SECRET_KEY = "test-secret-key";
    public static final String REGION = "us-east-1";

    private TemporaryPostgres postgres;
    private S3Proxy s3;

    /** Run the suite against this PostgreSQL (or CockroachDB) server instead of starting one; it needs CREATEDB. */
    public static final String EXTERNAL_POSTGRES = "STATEVERSIONS_TEST_POSTGRES_URL";

    @Override
    public Map<String, String> start() {
        String postgresUrl = System.getenv(EXTERNAL_POSTGRES);
        if (postgresUrl == null || postgresUrl.isBlank()) {
            postgres = TemporaryPostgres.start();
            postgresUrl = postgres.url();
        } else {
            LOG.infof("Using the PostgreSQL server of %s", EXTERNAL_POSTGRES);
        }
        String s3Endpoint = startS3();
        return Map.ofEntries(
                Map.entry("stateversions.consensus.url", postgresUrl),
                Map.entry("stateversions.blob.url", "s3://" + BUCKET + "/service"),
                Map.entry("quarkus.s3.endpoint-override", s3Endpoint),
                Map.entry("quarkus.s3.aws.region", REGION),
                Map.entry("quarkus.s3.path-style-access", "true"),
                Map.entry("quarkus.s3.aws.credentials.type", "static"),
                Map.entry("quarkus.s3.aws.credentials.static-provider.access-key-id", ACCESS_KEY),
                Map.entry("quarkus.s3.aws.credentials.static-provider.secret-access-key", SECRET_KEY),
                Map.entry("test.postgres.url", postgresUrl),
                Map.entry("test.s3.endpoint", s3Endpoint));
    }

    private String startS3() {
        try {
            s3 = S3Proxy.builder()
                    .blobStore(BlobStores.create("transient", new Properties()))
                    .endpoint(URI.create("http://127.0.0.1:0"))
                    .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                    .build();
            s3.start();
        } catch (Exception e) {
            throw new IllegalStateException("could not start S3Proxy: " + e.getMessage(), e);
        }
        String endpoint = "http://127.0.0.1:" + s3.getPort();
        try (S3AsyncClient admin = client(endpoint)) {
            admin.createBucket(b -> b.bucket(BUCKET)).join();
            admin.createBucket(b -> b.bucket(UNVERSIONED_BUCKET)).join();
            // Versioning lets the S3 backend's restore() undo deletes, as on a versioned production bucket.
            admin.putBucketVersioning(b -> b.bucket(BUCKET)
                    .versioningConfiguration(v -> v.status(BucketVersioningStatus.ENABLED))).join();
        }
        LOG.infof("Started S3Proxy (S3 protocol, AWS v4 signatures, in-memory, versioned bucket %s, unversioned"
                + " bucket %s) on %s", BUCKET, UNVERSIONED_BUCKET, endpoint);
        return endpoint;
    }

    /** An administrative client of the test S3 server. */
    public static S3AsyncClient client(String endpoint) {
        return S3AsyncClient.builder()
                .endpointOverride(URI.create(endpoint))
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .build();
    }

    @Override
    public void stop() {
        try {
            if (s3 != null) {
                s3.stop();
            }
        } catch (Exception e) {
            LOG.warnf("Stopping S3Proxy: %s", e.getMessage());
        }
        if (postgres != null) {
            postgres.close();
        }
    }
}
