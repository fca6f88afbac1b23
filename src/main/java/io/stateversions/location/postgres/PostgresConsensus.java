package io.stateversions.location.postgres;

import io.netty.buffer.Unpooled;
import io.stateversions.core.SeqNo;
import io.stateversions.location.AbstractConsensus;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus.CasRequest;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.GroupCommitter;
import io.stateversions.location.Timeouts;
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
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
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
 *
 * <h2>Group commit (PostgreSQL)</h2>
 * Compare-and-sets with an expected head are sent in groups ({@link io.stateversions.location.GroupCommitter}): with
 * nothing in flight one goes at once, alone if nothing else waits ({@link ConsensusSql#CAS_NEXT_POSTGRES}); while a
 * group statement is in flight the others queue, and when it finishes the next group is whatever is queued (up to
 * {@link GroupCommit#maxSize}, no key twice), sent as one statement and one transaction
 * ({@link ConsensusSql#CAS_NEXT_GROUP_POSTGRES}). A further statement goes while others are in flight, up to
 * {@link GroupCommit#maxInFlight}, only when a full group is waiting. There is no timer. Under load many
 * keys share one commit, so PostgreSQL does less work per compare-and-set than a client calling it directly would.
 * Members are independent (each commits or mismatches on its own key); a failure of the group fails each member
 * alike, determinately or indeterminately, and each caller's usual retry rules apply.
 */
public final class PostgresConsensus extends AbstractConsensus {

    private static final Logger LOG = Logger.getLogger(PostgresConsensus.class);
    private static final Duration CLIENT_GRACE = Duration.ofSeconds(5);

    /** The server family, detected when the schema is prepared. */
    public enum Dialect { POSTGRES, COCKROACH }

    /**
     * How compare-and-sets are grouped on PostgreSQL.
     *
     * @param maxSize     the most compare-and-sets in one group statement (1: no grouping)
     * @param maxInFlight the most group statements in flight at once (more than one only while full groups wait);
     *                    more compare-and-sets queue for the next
     * @param groupSizes  told the size of every group sent (for metrics)
     */
    public record GroupCommit(int maxSize, int maxInFlight, java.util.function.IntConsumer groupSizes) {

        public static final GroupCommit DEFAULTS = new GroupCommit(32, 4, size -> {});

        public GroupCommit {
            if (maxSize < 1 || maxInFlight < 1) {
                throw new IllegalArgumentException("group commit needs maxSize >= 1 and maxInFlight >= 1, got "
                        + maxSize + " and " + maxInFlight);
            }
        }
    }

    private final Pool pool;
    private final AutoCloseable resources;
    private final String description;
    private final long clientTimeoutMillis;
    private final AtomicReference<CompletableFuture<Dialect>> preparation = new AtomicReference<>();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final GroupCommit groupCommit;
    private final GroupCommitter committer;
    private volatile Dialect dialect;

    /**
     * @param pool a pool whose connections have a {@code statement_timeout} (see {@link PostgresPools}); this
     *     backend sets the isolation of each new connection itself
     * @param resources what {@link #close()} releases (the pool, if this backend owns it, and anything to stop
     *     after it)
     * @param description where it points, without credentials, for logs and errors
     * @param statementTimeout the pool's server-side statement timeout
     * @param groupCommit how compare-and-sets are grouped
     */
    public PostgresConsensus(Pool pool, AutoCloseable resources, String description, Duration statementTimeout,
            GroupCommit groupCommit) {
        this.pool = pool;
        this.resources = resources;
        this.description = description;
        this.clientTimeoutMillis = statementTimeout.plus(CLIENT_GRACE).toMillis();
        this.groupCommit = groupCommit;
        this.committer = new GroupCommitter(groupCommit.maxSize(), groupCommit.maxInFlight(), this::sendGroup,
                groupCommit.groupSizes());
        setConnectHandler(pool);
    }

    /**
     * Vert.x 4.5 deprecates {@code Pool.connectHandler} for the pool builder's {@code withConnectHandler}; but a
     * Quarkus-managed pool comes built, so this is the one way that serves both kinds.
     */
    @SuppressWarnings("deprecation")
    private void setConnectHandler(Pool pool) {
        pool.connectHandler(this::configure);
    }

    public PostgresConsensus(Pool pool, AutoCloseable resources, String description, Duration statementTimeout) {
        this(pool, resources, description, statementTimeout, GroupCommit.DEFAULTS);
    }

    /**
     * Sets the isolation of a new pooled connection (READ COMMITTED on PostgreSQL, whatever the server's default;
     * see {@link ConsensusSql}), then gives it to the pool. Connections opened before the dialect is known (the
     * one that prepares the schema) are set by {@link #prepare()}. A failure leaves the server's default, which is
     * still correct ({@link ConsensusSql#CAS_NEXT_POSTGRES} holds at any isolation); a broken connection fails
     * its next statement anyway.
     */
    private void configure(SqlConnection connection) {
        if (dialect != Dialect.POSTGRES) {
            connection.close();
            return;
        }
        connection.query(ConsensusSql.READ_COMMITTED).execute().onComplete(set -> {
            if (set.failed()) {
                LOG.debugf("Could not set READ COMMITTED on a new consensus connection to %s: %s", description,
                        set.cause().getMessage());
            }
            connection.close();
        });
    }

    /**
     * Creates the table if it does not exist (safe when several replicas start at once) and checks that the
     * connections run at the dialect's isolation (READ COMMITTED on PostgreSQL, set here; SERIALIZABLE on
     * CockroachDB, required). Completes at once when already done; concurrent callers share one attempt;
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
                        LOG.infof("Consensus ready on %s (%s, %s)", description, prepared,
                                prepared == Dialect.POSTGRES ? "read committed, group commit of up to "
                                        + groupCommit.maxSize() + " x " + groupCommit.maxInFlight()
                                        : "serializable");
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
                    Future<?> isolate = detected == Dialect.POSTGRES
                            ? connection.query(ConsensusSql.READ_COMMITTED).execute() : Future.succeededFuture();
                    return isolate.compose(set -> connection.query(ConsensusSql.ISOLATION).execute())
                            .compose(isolationRows -> {
                        String isolation = isolationRows.iterator().next().getString(0);
                        String required = detected == Dialect.POSTGRES ? "read committed" : "serializable";
                        if (!required.equalsIgnoreCase(isolation)) {
                            // A configuration error, not an outage: the CaS statements of CockroachDB are only
                            // correct at SERIALIZABLE (see ConsensusSql).
                            return Future.failedFuture(new ContractViolation("consensus connections to " + description
                                    + " (" + detected + ") run at " + isolation + " isolation; they must run at "
                                    + required + (detected == Dialect.COCKROACH ? " (set the startup parameter"
                                    + " default_transaction_isolation=serializable, e.g. options=-c"
                                    + " default_transaction_isolation=serializable in the URL)" : "")));
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
    protected CompletionStage<CasResult> doCompareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        if (expected.isPresent()) {
            CasRequest request = new CasRequest(key, expected.get(), newData);
            return dialect == Dialect.POSTGRES ? committer.submit(request)
                    : run("compareAndSet", connection -> casAlone(connection, request));
        }
        Buffer data = buffer(newData);
        return run("compareAndSet", connection -> {
            Future<RowSet<Row>> insert = dialect == Dialect.POSTGRES
                    ? initialize(connection, key, newData.seqno(), data)
                    : connection.preparedQuery(ConsensusSql.CAS_EMPTY)
                            .execute(Tuple.of(key, newData.seqno().value(), data));
            return outcome(insert);
        });
    }

    /** The group as one statement on PostgreSQL; on CockroachDB, one statement per member. */
    @Override
    protected List<CompletionStage<CasResult>> doCompareAndSetAll(List<CasRequest> group) {
        if (dialect == null) {
            // Not prepared yet: the dialect decides the statement. Prepare, then answer the group.
            CompletableFuture<List<CasResult>> all = prepare().toCompletableFuture()
                    .thenCompose(prepared -> allOf(doCompareAndSetAll(group)));
            List<CompletionStage<CasResult>> outcomes = new ArrayList<>(group.size());
            for (int i = 0; i < group.size(); i++) {
                int member = i;
                outcomes.add(all.thenApply(results -> results.get(member)));
            }
            return outcomes;
        }
        if (dialect == Dialect.COCKROACH) {
            return super.doCompareAndSetAll(group);
        }
        CompletionStage<List<CasResult>> results = run("compareAndSetAll", connection -> casGroup(connection, group));
        List<CompletionStage<CasResult>> outcomes = new ArrayList<>(group.size());
        for (int i = 0; i < group.size(); i++) {
            int member = i;
            outcomes.add(results.thenApply(all -> all.get(member)));
        }
        return outcomes;
    }

    private static CompletableFuture<List<CasResult>> allOf(List<CompletionStage<CasResult>> stages) {
        CompletableFuture<?>[] futures = stages.stream().map(CompletionStage::toCompletableFuture)
                .toArray(CompletableFuture[]::new);
        return CompletableFuture.allOf(futures).thenApply(done -> stages.stream()
                .map(stage -> stage.toCompletableFuture().join()).toList());
    }

    @SuppressWarnings("deprecation") // Vert.x 4's only way to pass bytes without copying them; Vert.x 5 renames it.
    private static Buffer buffer(VersionedData data) {
        return Buffer.buffer(Unpooled.wrappedBuffer(data.data()));
    }

    private static Future<CasResult> outcome(Future<RowSet<Row>> insert) {
        return insert.map(rows -> rows.rowCount() > 0 ? CasResult.COMMITTED : CasResult.EXPECTATION_MISMATCH)
                .recover(error -> PostgresErrors.isUniqueViolation(error)
                        ? Future.succeededFuture(CasResult.EXPECTATION_MISMATCH)
                        : Future.failedFuture(error));
    }

    /** A group of the committer: alone in the lone statement, else in the group statement. */
    private CompletionStage<List<CasResult>> sendGroup(List<CasRequest> group) {
        return group.size() == 1
                ? run("compareAndSet", connection -> casAlone(connection, group.get(0)).map(List::of))
                : run("compareAndSetAll", connection -> casGroup(connection, group));
    }

    /** One compare-and-set with an expected head, in the dialect's statement. */
    private Future<CasResult> casAlone(SqlConnection connection, CasRequest request) {
        Buffer data = buffer(request.newData());
        return outcome(dialect == Dialect.POSTGRES
                ? connection.preparedQuery(ConsensusSql.CAS_NEXT_POSTGRES)
                        .execute(Tuple.of(request.key(), request.expected().value(), data))
                : connection.preparedQuery(ConsensusSql.CAS_EXPECTED_COCKROACH)
                        .execute(Tuple.of(request.key(), request.expected().value(), request.newData().seqno().value(),
                                data)));
    }

    /** A group of distinct keys in one statement on PostgreSQL: each member's result, in order. */
    private static Future<List<CasResult>> casGroup(SqlConnection connection, List<CasRequest> group) {
        String[] shards = new String[group.size()];
        Long[] expected = new Long[group.size()];
        Buffer[] data = new Buffer[group.size()];
        for (int i = 0; i < group.size(); i++) {
            CasRequest request = group.get(i);
            shards[i] = request.key();
            expected[i] = request.expected().value();
            data[i] = buffer(request.newData());
        }
        return connection.preparedQuery(ConsensusSql.CAS_NEXT_GROUP_POSTGRES)
                .execute(Tuple.of(shards, expected, data))
                .map(rows -> {
                    Set<String> committed = new HashSet<>();
                    for (Row row : rows) {
                        committed.add(row.getString(0));
                    }
                    List<CasResult> results = new ArrayList<>(group.size());
                    for (CasRequest request : group) {
                        results.add(committed.contains(request.key()) ? CasResult.COMMITTED
                                : CasResult.EXPECTATION_MISMATCH);
                    }
                    return results;
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

    /** The isolation level of a pooled connection as the server reports it (for tests). */
    CompletionStage<String> pooledIsolation() {
        return run("isolation", connection -> connection.query(ConsensusSql.ISOLATION).execute()
                .map(rows -> rows.iterator().next().getString(0)));
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
            // On the shared wheel, not orTimeout: see Timeouts (no thread is woken per statement).
            Timeouts.SHARED.orTimeout(answered, clientTimeoutMillis, TimeUnit.MILLISECONDS);
            answered.whenComplete((value, error) -> {
                if (error == null) {
                    result.complete(value);
                } else if (error instanceof ContractViolation) {
                    result.completeExceptionally(error);
                } else {
                    result.completeExceptionally(PostgresErrors.classify(dialect, op, error));
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
