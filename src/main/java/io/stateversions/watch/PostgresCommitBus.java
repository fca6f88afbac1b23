package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import io.vertx.pgclient.pubsub.PgSubscriber;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * {@link CommitBus} over PostgreSQL {@code LISTEN}/{@code NOTIFY} on one dedicated connection of the reactive
 * client (a {@link PgSubscriber}, reconnecting with backoff).
 *
 * <h2>Publishing</h2>
 * A notification is sent after the commit, not inside the compare-and-set: {@code NOTIFY} takes a database-wide
 * lock at commit, which would serialize every shard's commits. Commits are coalesced per shard (only the highest
 * seqno matters, since receivers read every version after the last they saw) and sent by one statement at a time,
 * {@link #NOTIFY}, on the listening connection, which runs with {@code synchronous_commit=off}: the transaction
 * carries no data, only notifications, so it need not wait for a WAL flush. Under load one statement carries many
 * commits, so publishing costs far less than one round trip per commit, and it is never on a caller's path.
 *
 * <h2>Receiving</h2>
 * The payload is {@code "<shard> <seqno> <replica>"}; a replica ignores its own. PostgreSQL delivers notifications
 * of committed transactions, in commit order, to every listening connection; those sent while a connection was
 * down are lost, so each (re)subscription is followed by {@link Listener#resync()}.
 */
public final class PostgresCommitBus implements CommitBus {

    private static final Logger LOG = Logger.getLogger(PostgresCommitBus.class);

    /** The channel every replica listens on. */
    public static final String CHANNEL = "state_versions";

    /** One statement per batch of notifications: one row per payload. */
    static final String NOTIFY = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload";

    /** The most notifications one statement carries. */
    static final int MAX_BATCH = 1000;

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final String replica = UUID.randomUUID().toString();
    private final String description;
    private final WatchMetrics metrics;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<ShardId, Long> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    private volatile PgSubscriber subscriber;
    /** The connection the current LISTEN runs on: notifications are received iff it is the subscriber's. */
    private volatile PgConnection listeningOn;
    private volatile boolean closed;

    /**
     * @param options where to connect (the consensus database); {@code synchronous_commit} is turned off for this
     *     connection only
     */
    public PostgresCommitBus(Vertx vertx, PgConnectOptions options, String description, WatchMetrics metrics) {
        this.vertx = vertx;
        this.options = new PgConnectOptions(options);
        Map<String, String> properties = new HashMap<>(this.options.getProperties());
        properties.put("synchronous_commit", "off");
        properties.putIfAbsent("application_name", "state-versions-notifications");
        this.options.setProperties(properties);
        this.description = description;
        this.metrics = metrics;
    }

    /** Connects and listens; retries in the background until it succeeds or the bus is closed. */
    public void start() {
        connect(0);
    }

    private void connect(int attempt) {
        if (closed) {
            return;
        }
        PgSubscriber s = PgSubscriber.subscriber(vertx, options)
                .reconnectPolicy(retries -> closed ? -1L : backoffMs(retries));
        s.channel(CHANNEL)
                .handler(this::received)
                .subscribeHandler(ignored -> subscribed(s));
        subscriber = s;
        s.connect().onFailure(error -> {
            // The first connection failed: PgSubscriber retries only connections that were once up.
            long delay = backoffMs(attempt);
            LOG.warnf("Commit notifications: cannot connect to %s (%s); retrying in %d ms", description,
                    error.getMessage(), delay);
            s.close();
            vertx.setTimer(delay, t -> connect(attempt + 1));
        });
    }

    private static long backoffMs(int retries) {
        return Math.min(5_000L, 100L << Math.min(retries, 6));
    }

    private void subscribed(PgSubscriber s) {
        listeningOn = s.actualConnection();
        LOG.infof("Commit notifications: listening on %s, channel %s", description, CHANNEL);
        for (Listener l : listeners) {
            l.resync();
        }
        sendPending();
    }

    @Override
    public boolean receiving() {
        PgSubscriber s = subscriber;
        PgConnection listening = listeningOn;
        return !closed && s != null && listening != null && s.actualConnection() == listening;
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    private void received(String payload) {
        String[] parts = payload.split(" ");
        if (parts.length != 3) {
            LOG.warnf("Commit notifications: ignoring a malformed payload on %s: %s", CHANNEL, payload);
            return;
        }
        if (parts[2].equals(replica)) {
            return;
        }
        ShardId shard;
        SeqNo seqno;
        try {
            shard = ShardId.parse(parts[0]);
            seqno = SeqNo.of(Long.parseLong(parts[1]));
        } catch (IllegalArgumentException e) {
            LOG.warnf("Commit notifications: ignoring a malformed payload on %s: %s", CHANNEL, payload);
            return;
        }
        for (Listener l : listeners) {
            l.committed(shard, seqno);
        }
    }

    @Override
    public void publish(ShardId shard, SeqNo seqno) {
        if (closed) {
            return;
        }
        pending.merge(shard, seqno.value(), Math::max);
        sendPending();
    }

    /** Sends what is pending, one statement at a time; what arrives meanwhile goes with the next one. */
    private void sendPending() {
        if (pending.isEmpty() || !sending.compareAndSet(false, true)) {
            return;
        }
        PgSubscriber s = subscriber;
        PgConnection connection = s == null ? null : s.actualConnection();
        if (connection == null || closed) {
            sending.set(false); // kept until the connection is back (at most one entry per shard)
            return;
        }
        List<String> payloads = new ArrayList<>();
        for (Map.Entry<ShardId, Long> e : pending.entrySet()) {
            if (payloads.size() == MAX_BATCH) {
                break;
            }
            if (pending.remove(e.getKey(), e.getValue())) {
                payloads.add(e.getKey() + " " + e.getValue() + " " + replica);
            }
        }
        connection.preparedQuery(NOTIFY)
                .execute(Tuple.tuple().addString(CHANNEL).addArrayOfString(payloads.toArray(new String[0])))
                .onComplete(done -> {
                    if (done.succeeded()) {
                        metrics.notificationsPublished(payloads.size());
                    } else {
                        // Lost notifications only delay watchers until their next poll; do not retry into a loop.
                        metrics.notificationPublishFailed();
                        LOG.warnf("Commit notifications: publishing %d failed (watchers catch up at their next poll): %s", payloads.size(),
                                done.cause().getMessage());
                    }
                    sending.set(false);
                    if (done.succeeded()) {
                        sendPending();
                    }
                });
    }

    @Override
    public void close() {
        closed = true;
        PgSubscriber s = subscriber;
        if (s != null) {
            s.close();
        }
    }

    /** This replica's id in payloads. */
    String replica() {
        return replica;
    }

    @Override
    public String toString() {
        return "PostgresCommitBus{" + description + "}";
    }
}
