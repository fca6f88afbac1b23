package io.stateversions.location.postgres;

import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.postgres.PostgresConsensus.Dialect;
import io.vertx.pgclient.PgException;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Classifies PostgreSQL and CockroachDB failures (spec §7.3). Indeterminate unless known otherwise: a SQLSTATE is
 * on a dialect's allow-list only if that server guarantees, when it reports the code for one of our statements
 * ({@link ConsensusSql}), that the statement's transaction did not commit. A code's name is not enough: what
 * matters is <em>when</em> the server can raise it, before or after the commit. Never add CockroachDB's 40003
 * (statement_completion_unknown): it means exactly "may have committed". 57P01 (admin_shutdown, "terminating
 * connection due to administrator command") is on neither list: both servers raise it at any interrupt check, so
 * also after a commit and before its answer was sent.
 *
 * <p>A wrong "determinate" is the dangerous mistake: the command CaS is resent, loses to its own commit
 * (EXPECTATION_MISMATCH), and the caller learns "not applied" for something that applied. A wrong "indeterminate"
 * costs one refresh and the ambiguity the caller must resolve anyway ({@code StateVersions} also checks a
 * determinate failure followed by a mismatch against the entry it wrote, as a second line of defence).
 */
final class PostgresErrors {

    /** SQLSTATE 23505: the CaS lost to a concurrent insert of the same primary key. */
    static final String UNIQUE_VIOLATION = "23505";

    /**
     * Determinate on both servers: raised before the statement runs (connection start-up, authentication, planning)
     * or, for 40001, documented by both as "the transaction was aborted".
     */
    private static final Set<String> DETERMINATE_BOTH = Set.of(
            // serialization_failure: rolled back (the common one under contention, on CockroachDB above all). On
            // CockroachDB a commit whose outcome is unknown is 40003, never 40001.
            "40001",
            "57P03", // cannot_connect_now: start-up only (the server is starting, shutting down or draining)
            "53300", // too_many_connections: start-up only
            "25006", // read_only_sql_transaction: refused as the INSERT is planned (a standby, a read-only session)
            "42501", // insufficient_privilege: refused while planning
            "28000", // invalid_authorization_specification: start-up only
            "28P01", // invalid_password: start-up only
            "3D000", // invalid_catalog_name (the database does not exist): start-up only
            "42P01"); // undefined_table: refused while planning

    /**
     * Determinate on PostgreSQL only. PostgreSQL raises these from an interrupt check or a lock wait inside the
     * statement, and every one of them is raised before the commit or not for this statement at all:
     * <ul>
     *   <li>Our compare-and-sets ({@link ConsensusSql#CAS_NEXT_POSTGRES}, {@link ConsensusSql#CAS_NEXT_GROUP_POSTGRES})
     *       are implicit transactions sent with the extended protocol (Parse/Bind/Execute/Sync). The
     *       {@code statement_timeout} timer runs while the Execute runs and is disarmed when it completes
     *       ({@code exec_execute_message}); the implicit transaction commits later, at Sync
     *       ({@code finish_xact_command}). The initialization ({@link ConsensusSql#CAS_EMPTY}) ends with its own
     *       {@code COMMIT} round trip, whose statement timer is disarmed in {@code finish_xact_command} just before
     *       {@code CommitTransaction}.</li>
     *   <li>A cancel that fires anyway around the commit (the timer went off just before it was disarmed, or a
     *       {@code pg_cancel_backend}) is raised at the next interrupt check. {@code CommitTransaction} holds
     *       interrupts ({@code HOLD_INTERRUPTS}) from after its last pre-commit step, before the commit record
     *       is written, to its end: raised before that, 57014 aborts the transaction (it did not commit); held
     *       over it, it surfaces only after the statement's answer (CommandComplete, ReadyForQuery) was sent, as
     *       the backend waits for the next command. So a 57014 that answers one of our statements means it
     *       rolled back. (That late error belongs to no statement; a client that pinned it on the next statement
     *       sent on the connection would report that one wrongly, which is what the check in
     *       {@code StateVersions} after a determinate failure catches.)</li>
     *   <li>40P01 (deadlock_detected) and 55P03 (lock_not_available: lock_timeout) are raised while the statement
     *       waits for a lock, which it does only before the commit.</li>
     * </ul>
     * None of this holds on CockroachDB: once a statement's timer fires, its conn_executor replaces whatever the
     * statement returned with a 57014 QueryTimeoutError, a one-phase commit in flight or done included (and our
     * {@link ConsensusSql#CAS_EXPECTED_COCKROACH} commits inside the statement); a cancel likewise. CockroachDB
     * does not raise 40P01 (its deadlocks abort with 40001), and we set no lock_timeout: nothing is gained by
     * arguing for codes it does not send us, so they stay indeterminate there.
     */
    private static final Set<String> DETERMINATE_POSTGRES_ONLY = Set.of(
            "40P01", // deadlock_detected: rolled back
            "55P03", // lock_not_available
            "57014"); // query_canceled: statement_timeout or a cancel, raised before the commit (see above)

    private static final Set<String> DETERMINATE_POSTGRES = union(DETERMINATE_BOTH, DETERMINATE_POSTGRES_ONLY);

    private PostgresErrors() {}

    static boolean isUniqueViolation(Throwable error) {
        return error instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
    }

    /**
     * Whether {@code sqlState}, reported by a server of {@code dialect} for one of our statements, means that the
     * statement's transaction did not commit. With the dialect not yet known (null: the schema is being prepared),
     * only what holds on both servers.
     */
    static boolean determinate(Dialect dialect, String sqlState) {
        return (dialect == Dialect.POSTGRES ? DETERMINATE_POSTGRES : DETERMINATE_BOTH).contains(sqlState);
    }

    /**
     * A failure of a statement that was (or may have been) sent to a server of {@code dialect} (null: not yet
     * known).
     */
    static ExternalError classify(Dialect dialect, String op, Throwable error) {
        if (error instanceof ExternalError external) {
            return external;
        }
        if (error instanceof PgException pg) {
            String message = "postgres " + op + " failed: " + pg.getMessage();
            return determinate(dialect, pg.getSqlState()) ? new Determinate(message, pg)
                    : new Indeterminate(message, pg);
        }
        if (error instanceof TimeoutException) {
            return new Indeterminate("postgres " + op + " failed: timeout, no answer from the server", error);
        }
        return new Indeterminate("postgres " + op + " failed: " + error, error);
    }

    /** A failure to obtain a connection: nothing was sent, so nothing can have happened. */
    static Determinate noConnection(String op, Throwable error) {
        return new Determinate("postgres " + op + " failed: no connection: " + error, error);
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
