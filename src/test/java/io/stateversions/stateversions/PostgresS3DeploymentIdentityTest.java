package io.stateversions.stateversions;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.location.s3.S3Blob;
import io.stateversions.testing.StorageServers;
import io.stateversions.testing.TestDatabases;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * {@link DeploymentIdentityTest} on the real servers of the test resources: each consensus is a database of its own
 * on PostgreSQL, each blob store a prefix of its own in S3Proxy's unversioned bucket; a second client is a second
 * pool, or a second {@link S3Blob} on the prefix.
 */
@QuarkusTest
class PostgresS3DeploymentIdentityTest extends DeploymentIdentityTest {

    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static final PostgresPools.Settings SETTINGS = new PostgresPools.Settings(2, Duration.ofSeconds(10),
            Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofSeconds(30));

    @Inject
    Vertx vertx;

    @Inject
    S3AsyncClient s3;

    @ConfigProperty(name = "test.postgres.url")
    String serverUrl;

    private final Map<Object, String> locationOf = new IdentityHashMap<>();

    @Override
    protected Consensus openConsensus() {
        return consensusAt(TestDatabases.urlOf(serverUrl, TestDatabases.create(vertx, serverUrl, "identity")));
    }

    @Override
    protected Consensus peer(Consensus consensus) {
        return consensusAt(locationOf.get(consensus));
    }

    @Override
    protected Blob openBlob() {
        return blobAt("identity/" + ProcessHandle.current().pid() + "/" + PREFIXES.incrementAndGet());
    }

    @Override
    protected Blob peer(Blob blob) {
        return blobAt(locationOf.get(blob));
    }

    private Consensus consensusAt(String url) {
        Consensus consensus = PostgresPools.consensus(vertx, url, SETTINGS, () -> {});
        locationOf.put(consensus, url);
        return consensus;
    }

    private Blob blobAt(String prefix) {
        // Replicas read a marker while others rewrite it, which S3Proxy's versioned buckets do not do atomically.
        Blob blob = new S3Blob(s3, false, StorageServers.UNVERSIONED_BUCKET, prefix);
        locationOf.put(blob, prefix);
        return blob;
    }
}
