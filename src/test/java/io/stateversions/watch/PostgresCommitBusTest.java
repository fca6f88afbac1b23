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
    /** Each test's channel: the service's own bus (and other tests') are not its replicas. */
    private final String channel = "bus_test_" + java.util.UUID.randomUUID().toString().replace("-", "");

    @AfterEach
    void close() {
        buses.forEach(PostgresCommitBus::close);
    }

    /** A replica's bus, once it and every earlier one of the test hear each other. */
    private PostgresCommitBus bus() {
        PostgresCommitBus bus = started(WatchMetrics.NONE, System::nanoTime);
        for (PostgresCommitBus earlier : buses) {
            if (earlier != bus) {
                await().atMost(Duration.ofSeconds(30)).until(() -> bus.hears(earlier) && earlier.hears(bus));
            }
        }
        return bus;
    }

    private PostgresCommitBus started(WatchMetrics metrics, java.util.function.LongSupplier nanos) {
        PostgresCommitBus bus = new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                metrics, channel, nanos);
        buses.add(bus);
        bus.start();
        await().atMost(Duration.ofSeconds(30)).until(bus::receiving);
        return bus;
    }

    record Heard(ShardId shard, SeqNo seqno) {}

    /** A listener that counts the polls its bus asks for. */
    private static CommitBus.Listener countingResyncs(java.util.concurrent.atomic.AtomicInteger resyncs) {
        return new CommitBus.Listener() {
            @Override
            public void committed(ShardId shard, SeqNo seqno) {}

            @Override
            public void resync() {
                resyncs.incrementAndGet();
            }
        };
    }

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
    void a_replica_publishes_only_while_it_hears_another() throws Exception {
        java.util.concurrent.atomic.AtomicLong clock = new java.util.concurrent.atomic.AtomicLong();
        PostgresCommitBus bus = started(WatchMetrics.NONE, clock::get);
        java.util.concurrent.atomic.AtomicInteger resyncs = new java.util.concurrent.atomic.AtomicInteger();
        bus.addListener(countingResyncs(resyncs));
        // The test listens on the channel without announcing itself, and announces replicas that do not exist.
        List<String> delivered = new CopyOnWriteArrayList<>();
        io.vertx.pgclient.pubsub.PgSubscriber listener = io.vertx.pgclient.pubsub.PgSubscriber.subscriber(vertx,
                PostgresPools.connectOptions(consensusUrl));
        java.util.concurrent.CompletableFuture<Void> subscribed = new java.util.concurrent.CompletableFuture<>();
        listener.channel(channel).handler(payload -> delivered.add(payload.split(" ")[0]))
                .subscribeHandler(ignored -> subscribed.complete(null));
        listener.connect().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
        try {
            subscribed.get(30, java.util.concurrent.TimeUnit.SECONDS);
            java.util.function.Consumer<String> announce = replica -> listener.actualConnection()
                    .preparedQuery(PostgresCommitBus.ANNOUNCE)
                    .execute(io.vertx.sqlclient.Tuple.of(channel + "_replicas", replica));
            ShardId beforeAnyone = ShardId.random();
            ShardId whileHeard = ShardId.random();
            ShardId afterExpiry = ShardId.random();
            ShardId heardAgain = ShardId.random();

            bus.publish(beforeAnyone, SeqNo.of(1));
            announce.accept("replica-1");
            await().atMost(Duration.ofSeconds(30)).until(() -> bus.replicasHeard() == 1);
            bus.publish(whileHeard, SeqNo.of(2));
            await().atMost(Duration.ofSeconds(10)).until(() -> delivered.contains(whileHeard.toString()));
            clock.addAndGet(PostgresCommitBus.PEER_EXPIRY_NANOS);
            assertThat(bus.replicasHeard()).isZero();
            bus.publish(afterExpiry, SeqNo.of(3));
            announce.accept("replica-2");
            await().atMost(Duration.ofSeconds(30)).until(() -> bus.replicasHeard() == 1);
            bus.publish(heardAgain, SeqNo.of(4));
            await().atMost(Duration.ofSeconds(10)).until(() -> delivered.contains(heardAgain.toString()));

            // One connection's notifications arrive in order: had the others been sent, they would be here.
            assertThat(delivered).containsExactly(whileHeard.toString(), heardAgain.toString());
            // Each replica heard anew made this one poll (its poll when it started listening came before the count).
            assertThat(resyncs.get()).isEqualTo(2);
        } finally {
            listener.close();
        }
    }

    @Test
    void a_newcomer_polls_once_it_hears_a_replica_that_was_already_there() {
        PostgresCommitBus old = bus();
        java.util.concurrent.atomic.AtomicInteger resyncs = new java.util.concurrent.atomic.AtomicInteger();
        PostgresCommitBus newcomer = new PostgresCommitBus(vertx, PostgresPools.connectOptions(consensusUrl), "test",
                WatchMetrics.NONE, channel, System::nanoTime);
        buses.add(newcomer);
        newcomer.addListener(countingResyncs(resyncs));
        newcomer.start();

        // Once when it starts listening, and once when the old replica answered its announcement: from then on
        // the old replica publishes to it, and the poll covers whatever was committed before.
        await().atMost(Duration.ofSeconds(30)).until(() -> newcomer.hears(old) && resyncs.get() >= 2);
        assertThat(old.hears(newcomer)).isTrue();
        ShardId shard = ShardId.random();
        List<Heard> heard = new CopyOnWriteArrayList<>();
        newcomer.addListener((s, seqno) -> heard.add(new Heard(s, seqno)));
        old.publish(shard, SeqNo.of(3));
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(new Heard(shard, SeqNo.of(3))));
    }
}
