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
        return started(new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                WatchMetrics.NONE));
    }

    private PostgresCommitBus started(PostgresCommitBus bus) {
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

    @Test
    void commits_within_the_interval_of_the_last_statement_wait_for_the_rest_of_it_and_go_in_one() {
        List<Runnable> delayed = new CopyOnWriteArrayList<>();
        List<Long> delaysMs = new CopyOnWriteArrayList<>();
        // A clock that stands still: every statement after the first is within the interval of the one before.
        PostgresCommitBus a = started(new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                WatchMetrics.NONE, Duration.ofSeconds(10), () -> 0L, (delayMs, task) -> {
                    delaysMs.add(delayMs);
                    delayed.add(task);
                }));
        PostgresCommitBus b = bus();
        List<SeqNo> heard = new CopyOnWriteArrayList<>();
        ShardId shard = ShardId.random();
        b.addListener((s, seqno) -> {
            if (s.equals(shard)) {
                heard.add(seqno);
            }
        });

        a.publish(shard, SeqNo.of(1)); // the first statement goes at once
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(SeqNo.of(1)));
        a.publish(shard, SeqNo.of(2));
        a.publish(shard, SeqNo.of(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> delayed.size() == 1);

        // Nothing more was sent: the next statement is the delayed one, and it has not run.
        assertThat(heard).containsExactly(SeqNo.of(1));
        assertThat(delaysMs).containsExactly(10_000L);
        delayed.get(0).run();
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(SeqNo.of(3)));
        assertThat(heard).as("the two commits in one statement, the shard's highest seqno")
                .containsExactly(SeqNo.of(1), SeqNo.of(3));
    }
}
