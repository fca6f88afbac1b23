package io.stateversions.machine;

import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.PostgresCommitBus;
import io.stateversions.watch.WatchMetrics;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.time.Duration;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * {@link WatchTest} on PostgreSQL and S3 (S3Proxy), each replica with its own LISTEN/NOTIFY connection to the
 * PostgreSQL started by the test resources.
 */
@QuarkusTest
class PostgresS3WatchTest extends WatchTest {

    @Inject
    Consensus consensus;

    @Inject
    Blob blob;

    @Inject
    Vertx vertx;

    @ConfigProperty(name = "stateversions.consensus.url")
    String consensusUrl;

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    /** Each test's channel: the service's own bus and other tests' are not its replicas. */
    private String channel;
    private final java.util.List<PostgresCommitBus> buses = new java.util.concurrent.CopyOnWriteArrayList<>();

    @org.junit.jupiter.api.BeforeEach
    void channelOfItsOwn() {
        channel = "watch_test_" + java.util.UUID.randomUUID().toString().replace("-", "");
        buses.clear();
    }

    @Override
    protected CommitBus newBus() {
        PostgresCommitBus bus = new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                WatchMetrics.NONE, channel, System::nanoTime);
        bus.start();
        await().atMost(Duration.ofSeconds(30)).until(bus::receiving);
        // A bus publishes only to replicas it has heard: the test's replicas are all there before it commits.
        for (PostgresCommitBus earlier : buses) {
            await().atMost(Duration.ofSeconds(30)).until(() -> bus.hears(earlier) && earlier.hears(bus));
        }
        buses.add(bus);
        return bus;
    }
}
