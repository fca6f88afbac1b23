package io.stateversions.location.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobContractTest;
import io.stateversions.location.Determinate;
import io.stateversions.testing.StorageServers;
import java.time.Duration;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import org.junit.jupiter.api.Test;

/**
 * The contract on a real S3-protocol server (S3Proxy, started by the test resources, checking AWS v4 signatures,
 * with a versioned bucket, and an unversioned one for reads during overwrites). Each location is a prefix of its
 * own, reached through a URL-configured client: endpoint, region, path style and credentials all come from the
 * {@code s3://} URL.
 */
@QuarkusTest
class S3BlobTest extends BlobContractTest {

    private static final AtomicInteger PREFIXES = new AtomicInteger();
    private static final S3Clients.Timeouts TIMEOUTS = new S3Clients.Timeouts(Duration.ofSeconds(60),
            Duration.ofSeconds(30), Duration.ofSeconds(5), Duration.ofSeconds(10));

    @ConfigProperty(name = "test.s3.endpoint")
    String endpoint;

    private final Map<Blob, String> urlOf = new IdentityHashMap<>();

    /**
     * Every test closes its clients. Closing the last client of the AWS SDK's shared Netty event loop group shuts
     * the group down and waits out Netty's two-second quiet period; one client kept open for the whole class keeps
     * the group alive, so the other closes return at once.
     */
    private static S3AsyncClient keeper;

    @BeforeAll
    static void keepEventLoopsAlive() {
        keeper = StorageServers.client(ConfigProvider.getConfig().getValue("test.s3.endpoint", String.class));
    }

    @AfterAll
    static void releaseEventLoops() {
        keeper.close();
    }

    private Blob at(String url) {
        S3Location location = S3Location.parse(url);
        assertThat(location.needsOwnClient()).isTrue();
        Blob blob = new S3Blob(S3Clients.create(location, TIMEOUTS), true, location.bucket(), location.prefix());
        urlOf.put(blob, url);
        return blob;
    }

    @Override
    protected Blob open() {
        return openIn(StorageServers.BUCKET);
    }

    /** In the unversioned bucket: S3Proxy's versioned buckets do not overwrite atomically (see the bucket's comment). */
    @Override
    protected Blob openForOverwrites() {
        return openIn(StorageServers.UNVERSIONED_BUCKET);
    }

    private Blob openIn(String bucket) {
        return at("s3://" + StorageServers.ACCESS_KEY + ":" + StorageServers.SECRET_KEY + "@" + bucket
                + "/contract/" + PREFIXES.incrementAndGet() + "?endpoint=" + endpoint + "&region="
                + StorageServers.REGION + "&path-style=true");
    }

    @Override
    protected Blob reopen(Blob blob) {
        blob.close();
        return at(urlOf.get(blob));
    }

    @Override
    protected boolean restoresDeletedKeys() {
        return true; // the test bucket is versioned
    }

    /** S3 lists LastModified in whole seconds. */
    @Override
    protected long lastModifiedResolutionMs() {
        return 1000;
    }

    @Test
    void prefixesThatExtendEachOtherAreIsolated() {
        String base = "s3://" + StorageServers.ACCESS_KEY + ":" + StorageServers.SECRET_KEY + "@" + StorageServers.BUCKET
                + "/nested-" + PREFIXES.incrementAndGet();
        String query = "?endpoint=" + endpoint + "&path-style=true";
        Blob short_ = at(base + "a" + query);
        Blob long_ = at(base + "ab" + query);
        try {
            await(short_.set("k", bytes("a")));
            await(long_.set("k", bytes("ab")));
            Map<String, Long> listed = new TreeMap<>();
            await(short_.list("", m -> listed.put(m.key(), m.sizeBytes())));
            assertThat(listed).containsExactly(Map.entry("k", 1L));
        } finally {
            short_.close();
            long_.close();
        }
    }

    /**
     * A 403 is determinate. Asked with a read: S3Proxy answers a write with bad credentials before reading its body
     * and may close the connection before the client has read the answer, which the client rightly takes as
     * indeterminate (a write whose connection closed may have happened); one fresh clone's run in three met that.
     */
    @Test
    void wrongCredentialsAreDeterminate() {
        Blob wrong = at("s3://" + StorageServers.ACCESS_KEY + ":not-the-secret@" + StorageServers.BUCKET
                + "/creds?endpoint=" + endpoint + "&path-style=true");
        try {
            assertThatThrownBy(() -> await(wrong.get("k")))
                    .cause().isInstanceOf(Determinate.class).hasMessageContaining("403");
        } finally {
            wrong.close();
        }
    }
}
