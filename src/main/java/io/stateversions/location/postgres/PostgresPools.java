package io.stateversions.location.postgres;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.stateversions.location.UrlQuery;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/** Builds the connection pools of {@link PostgresConsensus} from {@code postgres://} URLs. */
public final class PostgresPools {

    /** URL query parameters passed on to the driver; any other parameter is a configuration error. */
    static final Set<String> URL_PARAMETERS = Set.of("sslmode", "application_name", "search_path", "options", "host",
            "port", "user", "password", "dbname");

    private PostgresPools() {}

    /** Pool sizing and timeouts (defaults from persist's consensus pool, spec §19), and group commit. */
    public record Settings(int maxSize, Duration acquireTimeout, Duration maxLifetime, Duration connectTimeout,
            Duration statementTimeout, PostgresConsensus.GroupCommit groupCommit) {

        public Settings(int maxSize, Duration acquireTimeout, Duration maxLifetime, Duration connectTimeout,
                Duration statementTimeout) {
            this(maxSize, acquireTimeout, maxLifetime, connectTimeout, statementTimeout,
                    PostgresConsensus.GroupCommit.DEFAULTS);
        }
    }

    /**
     * The startup parameters every consensus connection needs: the server-side statement timeout turns a stuck
     * statement into a failure; the idle-in-transaction timeout (twice the statement timeout) ends a transaction
     * whose client vanished between its statements (a replica's host dying, or a partition, in the middle of a
     * shard's first version, which takes several round trips), which would otherwise hold its row lock and advisory
     * lock, and so block every later open of that shard, until the server noticed the dead peer (hours, with default
     * TCP keepalives). (The isolation level is the backend's to set, per dialect: see {@link ConsensusSql}.)
     */
    public static Map<String, String> startupParameters(Duration statementTimeout) {
        Map<String, String> parameters = new LinkedHashMap<>();
        parameters.put("statement_timeout", Long.toString(statementTimeout.toMillis()));
        parameters.put("idle_in_transaction_session_timeout", Long.toString(2 * statementTimeout.toMillis()));
        parameters.put("client_min_messages", "warning"); // no NOTICEs (e.g. "relation already exists") in our log
        return parameters;
    }

    public static Pool create(Vertx vertx, String url, Settings settings) {
        PgConnectOptions connect = connectOptions(url);
        Map<String, String> properties = new HashMap<>(connect.getProperties());
        properties.putIfAbsent("application_name", "state-versions");
        properties.putAll(startupParameters(settings.statementTimeout()));
        connect.setProperties(properties)
                .setCachePreparedStatements(true)
                .setMetricsName("state-versions-consensus")
                .setConnectTimeout((int) settings.connectTimeout().toMillis())
                .setTcpKeepAlive(true);
        PoolOptions pool = new PoolOptions()
                .setName("state-versions-consensus")
                .setMaxSize(settings.maxSize())
                .setConnectionTimeout((int) settings.acquireTimeout().toMillis())
                .setConnectionTimeoutUnit(TimeUnit.MILLISECONDS)
                .setMaxLifetime((int) settings.maxLifetime().toMillis())
                .setMaxLifetimeUnit(TimeUnit.MILLISECONDS);
        return PgBuilder.pool().with(pool).connectingTo(connect).using(vertx).build();
    }

    /**
     * A consensus on a pool of its own for {@code url}. Closing it closes the pool, waits for its connections to
     * end, then runs {@code afterClose} (e.g. stopping the embedded server they were connected to).
     */
    public static PostgresConsensus consensus(Vertx vertx, String url, Settings settings, Runnable afterClose) {
        Pool pool = create(vertx, url, settings);
        return new PostgresConsensus(pool, () -> {
            try {
                closeAndWait(pool);
            } finally {
                afterClose.run();
            }
        }, UrlQuery.redact(url), settings.statementTimeout(), settings.groupCommit());
    }

    /** Closes {@code pool} and waits (briefly) until its connections are closed. */
    public static void closeAndWait(Pool pool) throws Exception {
        pool.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Parses and checks a {@code postgres://} or {@code postgresql://} URL. */
    public static PgConnectOptions connectOptions(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid consensus URL " + UrlQuery.redact(url) + ": "
                    + UrlQuery.failureMessage(url, e));
        }
        UrlQuery.parse(uri, UrlQuery.redact(url), URL_PARAMETERS);
        try {
            return PgConnectOptions.fromUri(url);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid consensus URL " + UrlQuery.redact(url) + ": "
                    + UrlQuery.failureMessage(url, e));
        }
    }

}
