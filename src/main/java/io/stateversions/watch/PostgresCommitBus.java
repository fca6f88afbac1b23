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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
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
 * <h2>Only while another replica listens</h2>
 * A notification is for the other replicas (a replica ignores its own), and at moderate load nearly every commit
 * takes a statement of its own: measured in the benchmark's P4 (appends at half of peak, one replica), publishing
 * cost PostgreSQL 60 to 85 µs and the service 15 to 35 µs of CPU per append. So commits are published only while
 * some other replica has been heard within {@link #PEER_EXPIRY_NANOS}. Replicas announce themselves on a channel of
 * their own ({@code <channel>_replicas}, payload: the replica's id) when they start listening and every
 * {@link #PRESENCE_INTERVAL_MS}; a commit notification from another replica counts as hearing it too (replicas of
 * an older version do not announce themselves, but publish their commits). A replica that hears one it had not
 * heard (a newcomer, or one back after an outage) announces itself at once and polls its watched shards
 * ({@link Listener#resync()}): until then, the other had not published to it, so anything committed meanwhile is
 * found by that poll. A newcomer's own announcement is answered the same way, so each side polls once it is
 * certain to receive the other's notifications from then on.
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

    /** How often a replica announces itself to the others. */
    static final long PRESENCE_INTERVAL_MS = 1_000;

    /** A replica not heard for this long is taken to be gone: no more commits are published for it. */
    static final long PEER_EXPIRY_NANOS = TimeUnit.MILLISECONDS.toNanos(5 * PRESENCE_INTERVAL_MS);

    /** One statement per batch of notifications: one row per payload. */
    static final String NOTIFY = "SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload";

    /** The most notifications one statement carries. */
    static final int MAX_BATCH = 1000;

    /** A replica's announcement of itself: its id on {@code <channel>_replicas}. */
    static final String ANNOUNCE = "SELECT pg_notify($1, $2)";

    private final Vertx vertx;
    private final PgConnectOptions options;
    private final String channel;
    private final String presenceChannel;
    private final LongSupplier nanos;
    private final String replica = UUID.randomUUID().toString();
    private final String description;
    private final WatchMetrics metrics;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<ShardId, Long> pending = new ConcurrentHashMap<>();
    private final AtomicBoolean sending = new AtomicBoolean();
    /** The other replicas heard, by id: when each was last heard ({@link #nanos}). */
    private final ConcurrentHashMap<String, Long> peers = new ConcurrentHashMap<>();
    /** The periodic announcement's Vert.x timer, once listening; -1 before. */
    private volatile long presenceTimer = -1;
    private volatile PgSubscriber subscriber;
    /** The connection the current LISTEN runs on: notifications are received iff it is the subscriber's. */
    private volatile PgConnection listeningOn;
    private volatile boolean closed;

    /**
     * @param options where to connect (the consensus database); {@code synchronous_commit} is turned off for this
     *     connection only
     */
    public PostgresCommitBus(Vertx vertx, PgConnectOptions options, String description, WatchMetrics metrics) {
        this(vertx, options, description, metrics, CHANNEL, System::nanoTime);
    }

    /**
     * On {@code channel} (and {@code <channel>_replicas}): only buses on the same channel hear each other (tests
     * isolate themselves on a channel of their own), with {@code nanos} as the clock of hearing replicas.
     */
    public PostgresCommitBus(Vertx vertx, PgConnectOptions options, String description, WatchMetrics metrics,
            String channel, LongSupplier nanos) {
        this.vertx = vertx;
        this.channel = channel;
        this.presenceChannel = channel + "_replicas";
        this.nanos = nanos;
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
        s.channel(presenceChannel).handler(this::announced);
        s.channel(channel)
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
        LOG.infof("Commit notifications: listening on %s, channel %s", description, channel);
        for (Listener l : listeners) {
            l.resync();
        }
        announce();
        if (presenceTimer < 0 && !closed) {
            presenceTimer = vertx.setPeriodic(PRESENCE_INTERVAL_MS, t -> announce());
        }
        sendPending();
    }

    /** Tells the other replicas that this one listens (best effort: the next interval repeats it). */
    private void announce() {
        PgSubscriber s = subscriber;
        PgConnection connection = s == null ? null : s.actualConnection();
        if (connection == null || closed) {
            return;
        }
        connection.preparedQuery(ANNOUNCE).execute(Tuple.of(presenceChannel, replica)).onFailure(error ->
                LOG.debugf("Commit notifications: announcing this replica failed (repeated in %d ms): %s",
                        PRESENCE_INTERVAL_MS, error.getMessage()));
    }

    private void announced(String payload) {
        if (!payload.equals(replica) && heard(payload)) {
            // A replica this one had not heard: it may not have published to this one until now, and it is to
            // learn that this one listens. Answer at once, and poll for what its notifications would have said.
            announce();
            for (Listener l : listeners) {
                l.resync();
            }
        }
    }

    /** Notes that {@code peer} was heard now; whether it was new (not heard within the expiry). */
    private boolean heard(String peer) {
        long now = nanos.getAsLong();
        Long before = peers.put(peer, now);
        return before == null || !recent(before, now);
    }

    /** Whether a replica last heard at {@code lastNanos} counts as listening at {@code now}. */
    private static boolean recent(long lastNanos, long now) {
        return now - lastNanos < PEER_EXPIRY_NANOS;
    }

    /** The other replicas heard within {@link #PEER_EXPIRY_NANOS}; forgets the others. */
    @Override
    public int replicasHeard() {
        long now = nanos.getAsLong();
        peers.values().removeIf(last -> !recent(last, now));
        return peers.size();
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
            LOG.warnf("Commit notifications: ignoring a malformed payload on %s: %s", channel, payload);
            return;
        }
        if (parts[2].equals(replica)) {
            return;
        }
        heard(parts[2]);
        ShardId shard;
        SeqNo seqno;
        try {
            shard = ShardId.parse(parts[0]);
            seqno = SeqNo.of(Long.parseLong(parts[1]));
        } catch (IllegalArgumentException e) {
            LOG.warnf("Commit notifications: ignoring a malformed payload on %s: %s", channel, payload);
            return;
        }
        for (Listener l : listeners) {
            l.committed(shard, seqno);
        }
    }

    @Override
    public void publish(ShardId shard, SeqNo seqno) {
        if (closed || !anotherListens()) {
            return;
        }
        pending.merge(shard, seqno.value(), Math::max);
        sendPending();
    }

    /** Whether {@code other} (another bus on this channel) was heard within the expiry. */
    public boolean hears(PostgresCommitBus other) {
        Long last = peers.get(other.replica);
        return last != null && recent(last, nanos.getAsLong());
    }

    /** Whether some other replica was heard within the expiry: O(1) while one was heard just now. */
    private boolean anotherListens() {
        long now = nanos.getAsLong();
        for (long last : peers.values()) {
            if (recent(last, now)) {
                return true;
            }
        }
        return false;
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
                .execute(Tuple.tuple().addString(channel).addArrayOfString(payloads.toArray(new String[0])))
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
        long timer = presenceTimer;
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
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
