package io.stateversions.watch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.location.postgres.PostgresPools;
import io.vertx.core.Vertx;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** LISTEN/NOTIFY between two replicas' buses on the real PostgreSQL of the test resources. */
@QuarkusTest
class PostgresCommitBusTest {

    @Inject
    Vertx vertx;

    @ConfigProperty(name = "stateversions.consensus.url")
    String consensusUrl;

    private final List<PostgresCommitBus> buses = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        buses.forEach(PostgresCommitBus::close);
    }

    private PostgresCommitBus bus() {
        PostgresCommitBus bus = new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                WatchMetrics.NONE);
        buses.add(bus);
        bus.start();
        await().atMost(Duration.ofSeconds(30)).until(bus::receiving);
        return bus;
    }

    record Heard(ShardId shard, SeqNo seqno) {}

    @Test
    void a_publish_reaches_the_other_replicas_and_not_the_publisher() {
        PostgresCommitBus a = bus();
        PostgresCommitBus b = bus();
        List<Heard> heardByA = new CopyOnWriteArrayList<>();
        List<Heard> heardByB = new CopyOnWriteArrayList<>();
        a.addListener((shard, seqno) -> heardByA.add(new Heard(shard, seqno)));
        b.addListener((shard, seqno) -> heardByB.add(new Heard(shard, seqno)));
        ShardId shard = ShardId.random();

        a.publish(shard, SeqNo.of(7));

        await().atMost(Duration.ofSeconds(10)).until(() -> heardByB.contains(new Heard(shard, SeqNo.of(7))));
        b.publish(shard, SeqNo.of(8));
        await().atMost(Duration.ofSeconds(10)).until(() -> heardByA.contains(new Heard(shard, SeqNo.of(8))));
        assertThat(heardByA).doesNotContain(new Heard(shard, SeqNo.of(7)));
        assertThat(heardByB).doesNotContain(new Heard(shard, SeqNo.of(8)));
    }

    @Test
    void many_publishes_arrive_with_the_highest_seqno_of_each_shard_last() {
        PostgresCommitBus a = bus();
        PostgresCommitBus b = bus();
        List<Heard> heard = new CopyOnWriteArrayList<>();
        b.addListener((shard, seqno) -> heard.add(new Heard(shard, seqno)));
        List<ShardId> shards = List.of(ShardId.random(), ShardId.random(), ShardId.random());

        for (int seqno = 1; seqno <= 500; seqno++) {
            for (ShardId shard : shards) {
                a.publish(shard, SeqNo.of(seqno));
            }
        }

        for (ShardId shard : shards) {
            await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(new Heard(shard, SeqNo.of(500))));
        }
        // Coalesced: one statement carries whatever accumulated while the previous one was in flight.
        assertThat(heard.size()).isLessThanOrEqualTo(3 * 500);
    }
}
