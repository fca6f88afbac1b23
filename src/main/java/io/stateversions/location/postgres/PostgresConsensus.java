package io.stateversions.location.postgres;

import io.netty.buffer.Unpooled;
import io.stateversions.core.SeqNo;
import io.stateversions.location.AbstractConsensus;
import io.stateversions.location.CasResult;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.VersionedData;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * {@link io.stateversions.location.Consensus} on PostgreSQL or CockroachDB through the Vert.x reactive client
 * (spec §7.4). The statements and the argument for their correctness are in {@link ConsensusSql}.
 *
 * <p>The schema is prepared (table created, isolation level verified) before the first operation, at most once
 * at a time: {@link #prepare()} is called at start-up, and any operation that finds it not yet done tries again,
 * so a server that was down at start-up is picked up by the first call after it comes back, without a background
 * loop. Once prepared, operations go straight to the server.
 *
 * <p>Each operation acquires a pooled connection (a failure there is {@link Determinate}: nothing was sent), runs
 * one statement, and gives the connection back. A statement that gets no answer within the statement timeout
 * plus a grace period fails {@link io.stateversions.location.Indeterminate}; the server's own
 * {@code statement_timeout} (a startup parameter of the pool) normally answers first, determinately.
 */
public final class PostgresConsensus extends AbstractConsensus {

    private static final Logger LOG = Logger.getLogger(PostgresConsensus.class);
    private static final Duration CLIENT_GRACE = Duration.ofSeconds(5);

    /** The server family, detected when the schema is prepared. */
    public enum Dialect { POSTGRES, COCKROACH }

    private final Pool pool;
    private final AutoCloseable resources;
    private final String description;
    private final long clientTimeoutMillis;
    private final AtomicReference<CompletableFuture<Dialect>> preparation = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile Dialect dialect;

    /**
     * @param pool a pool whose connections run at SERIALIZABLE with a {@code statement_timeout} (see
     *     {@link PostgresPools})
     * @param resources what {@link #close()} releases (the pool, if this backend owns it, and anything to stop
     *     after it)
     * @param description where it points, without credentials, for logs and errors
     * @param statementTimeout the pool's server-side statement timeout
     */
    public PostgresConsensus(Pool pool, AutoCloseable resources, String description, Duration statementTimeout) {
        this.pool = pool;
        this.resources = resources;
        this.description = description;
        this.clientTimeoutMillis = statementTimeout.plus(CLIENT_GRACE).toMillis();
    }

    /**
     * Creates the table if it does not exist (safe when several replicas start at once) and checks that the
     * connections are serializable. Completes at once when already done; concurrent callers share one attempt;
     * after a failed attempt the next call starts a new one.
     */
    public CompletionStage<Dialect> prepare() {
        Dialect known = dialect;
        if (known != null) {
            return CompletableFuture.completedFuture(known);
        }
        while (true) {
            CompletableFuture<Dialect> current = preparation.get();
            if (current != null && !current.isCompletedExceptionally()) {
                return current;
            }
            CompletableFuture<Dialect> attempt = new CompletableFuture<>();
            if (preparation.compareAndSet(current, attempt)) {
                runPreparation().whenComplete((prepared, error) -> {
                    if (error == null) {
                        dialect = prepared;
                        LOG.infof("Consensus ready on %s (%s, serializable)", description, prepared);
                        attempt.complete(prepared);
                    } else {
                        LOG.warnf("Consensus on %s not ready: %s", description, error.getMessage());
                        attempt.completeExceptionally(error);
                    }
                });
                return attempt;
            }
        }
    }

    private CompletionStage<Dialect> runPreparation() {
        return withConnection("prepare", connection -> connection.query(ConsensusSql.VERSION).execute()
                .compose(versionRows -> {
                    String version = versionRows.iterator().next().getString(0);
                    Dialect detected = version.contains("CockroachDB") ? Dialect.COCKROACH : Dialect.POSTGRES;
                    return connection.query(ConsensusSql.ISOLATION).execute().compose(isolationRows -> {
                        String isolation = isolationRows.iterator().next().getString(0);
                        if (!"serializable".equalsIgnoreCase(isolation)) {
                            // A configuration error, not an outage: the CaS statements are only correct at
                            // SERIALIZABLE (see ConsensusSql).
                            return Future.failedFuture(new ContractViolation("consensus connections to " + description
                                    + " run at " + isolation + " isolation; they must be serializable (set the"
                                    + " startup parameter default_transaction_isolation=serializable)"));
                        }
                        return createTable(connection, detected).map(detected);
                    });
                }));
    }

    private static Future<Void> createTable(SqlConnection connection, Dialect dialect) {
        if (dialect == Dialect.COCKROACH) {
            return connection.query(ConsensusSql.CREATE_TABLE_COCKROACH).execute()
                    .compose(created -> connection.query(ConsensusSql.CONFIGURE_ZONE_COCKROACH).execute()
                            .recover(error -> {
                                // A read-only role can use an existing table; the zone setting is an optimization.
                                LOG.warnf("Could not set gc.ttlseconds on the consensus table: %s", error.getMessage());
                                return Future.succeededFuture();
                            }))
                    .mapEmpty();
        }
        return connection.begin().compose(transaction -> connection.query(ConsensusSql.SCHEMA_LOCK_POSTGRES).execute()
                .compose(locked -> connection.query(ConsensusSql.CREATE_TABLE_POSTGRES).execute())
                .compose(created -> transaction.commit())
                .recover(error -> transaction.rollback().transform(ignored -> Future.failedFuture(error))));
    }

    @Override
    protected CompletionStage<Optional<VersionedData>> doHead(String key) {
        return run("head", connection -> connection.preparedQuery(ConsensusSql.HEAD).execute(Tuple.of(key))
                .map(rows -> {
                    var iterator = rows.iterator();
                    return iterator.hasNext() ? Optional.of(toVersionedData(iterator.next())) : Optional.empty();
                }));
    }

    @Override
    @SuppressWarnings("deprecation") // Vert.x 4's only way to pass bytes without copying them; Vert.x 5 renames it.
    protected CompletionStage<CasResult> doCompareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        Buffer data = Buffer.buffer(Unpooled.wrappedBuffer(newData.data()));
        return run("compareAndSet", connection -> {
            Future<RowSet<Row>> insert = expected.isEmpty()
                    ? (dialect == Dialect.POSTGRES ? initialize(connection, key, newData.seqno(), data)
                            : connection.preparedQuery(ConsensusSql.CAS_EMPTY)
                                    .execute(Tuple.of(key, newData.seqno().value(), data)))
                    : connection.preparedQuery(ConsensusSql.CAS_EXPECTED)
                            .execute(Tuple.of(key, expected.get().value(), newData.seqno().value(), data));
            return insert.map(rows -> rows.rowCount() > 0 ? CasResult.COMMITTED : CasResult.EXPECTATION_MISMATCH)
                    .recover(error -> PostgresErrors.isUniqueViolation(error)
                            ? Future.succeededFuture(CasResult.EXPECTATION_MISMATCH)
                            : Future.failedFuture(error));
        });
    }

    /**
     * {@link ConsensusSql#CAS_EMPTY} on PostgreSQL: at READ COMMITTED under the key's advisory lock (the argument is
     * there). A failure before COMMIT rolls back (best effort: closing the connection does too); a failure of the
     * COMMIT itself leaves the outcome unknown, as for any statement.
     */
    private static Future<RowSet<Row>> initialize(SqlConnection connection, String key, SeqNo seqno, Buffer data) {
        return connection.query(ConsensusSql.INIT_BEGIN).execute()
                .compose(begun -> connection.preparedQuery(ConsensusSql.INIT_LOCK).execute(Tuple.of(key))
                        .compose(locked -> connection.preparedQuery(ConsensusSql.CAS_EMPTY)
                                .execute(Tuple.of(key, seqno.value(), data)))
                        .compose(inserted -> connection.query("COMMIT").execute().map(inserted),
                                error -> connection.query("ROLLBACK").execute()
                                        .transform(ignored -> Future.failedFuture(error))));
    }

    @Override
    protected CompletionStage<List<VersionedData>> doScan(String key, SeqNo from, long limit) {
        return run("scan", connection -> connection.preparedQuery(ConsensusSql.SCAN)
                .execute(Tuple.of(key, from.value(), limit))
                .map(rows -> {
                    List<VersionedData> entries = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        entries.add(toVersionedData(row));
                    }
                    return entries;
                }));
    }

    @Override
    protected CompletionStage<Long> doTruncate(String key, SeqNo seqno) {
        return run("truncate", connection -> connection.preparedQuery(ConsensusSql.TRUNCATE)
                .execute(Tuple.of(key, seqno.value()))
                .compose(rows -> {
                    Row row = rows.iterator().next();
                    Long head = row.getLong("head");
                    if (head == null || head < seqno.value()) {
                        return Future.failedFuture(truncateBeyondHead(key, seqno, head == null ? null : SeqNo.of(head)));
                    }
                    return Future.succeededFuture(row.getLong("deleted"));
                }));
    }

    @Override
    protected CompletionStage<List<String>> doListKeys(String after, int limit) {
        return run("listKeys", connection -> connection
                .preparedQuery(dialect == Dialect.COCKROACH ? ConsensusSql.LIST_KEYS_COCKROACH : ConsensusSql.LIST_KEYS_POSTGRES)
                .execute(Tuple.of(after, limit))
                .map(rows -> {
                    List<String> keys = new ArrayList<>(rows.size());
                    for (Row row : rows) {
                        keys.add(row.getString(0));
                    }
                    return keys;
                }));
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        try {
            resources.close();
        } catch (Exception e) {
            LOG.warnf("Closing consensus on %s: %s", description, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "PostgresConsensus{" + description + "}";
    }

    private static VersionedData toVersionedData(Row row) {
        return new VersionedData(SeqNo.of(row.getLong(0)), row.getBuffer(1).getBytes());
    }

    /** Runs one statement once the schema is prepared. */
    private <T> CompletionStage<T> run(String op, Function<SqlConnection, Future<T>> statement) {
        if (dialect != null) {
            return withConnection(op, statement);
        }
        return prepare().thenCompose(prepared -> withConnection(op, statement));
    }

    private <T> CompletionStage<T> withConnection(String op, Function<SqlConnection, Future<T>> statement) {
        CompletableFuture<T> result = new CompletableFuture<>();
        pool.getConnection().onComplete(acquired -> {
            if (acquired.failed()) {
                result.completeExceptionally(PostgresErrors.noConnection(op, acquired.cause()));
                return;
            }
            SqlConnection connection = acquired.result();
            // The clock starts once the statement can be sent: waiting for a connection is bounded by the pool.
            CompletableFuture<T> answered = new CompletableFuture<>();
            answered.orTimeout(clientTimeoutMillis, TimeUnit.MILLISECONDS).whenComplete((value, error) -> {
                if (error == null) {
                    result.complete(value);
                } else if (error instanceof ContractViolation) {
                    result.completeExceptionally(error);
                } else {
                    result.completeExceptionally(PostgresErrors.classify(op, error));
                }
            });
            Future<T> executed;
            try {
                executed = statement.apply(connection);
            } catch (RuntimeException e) {
                executed = Future.failedFuture(e);
            }
            executed.onComplete(done -> {
                connection.close();
                if (done.succeeded()) {
                    answered.complete(done.result());
                } else {
                    answered.completeExceptionally(done.cause());
                }
            });
        });
        return result;
    }
}
