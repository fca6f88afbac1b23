package io.stateversions.location.postgres;

import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Indeterminate;
import io.vertx.pgclient.PgException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Classifies PostgreSQL and CockroachDB failures (spec §7.3). Indeterminate unless known otherwise: a SQLSTATE is
 * on the allow-list only if both servers guarantee that the statement's transaction did not commit when they
 * report it. Never add CockroachDB's 40003 (statement_completion_unknown): it means exactly "may have committed".
 */
final class PostgresErrors {

    /** SQLSTATE 23505: the CaS lost to a concurrent insert of the same primary key. */
    static final String UNIQUE_VIOLATION = "23505";

    private static final Set<String> DETERMINATE = Set.of(
            "40001", // serialization_failure: rolled back (the common one under contention)
            "40P01", // deadlock_detected: rolled back
            "55P03", // lock_not_available
            "57014", // query_canceled: statement_timeout fired, rolled back
            "57P03", // cannot_connect_now: the server is starting or shutting down
            "53300", // too_many_connections
            "25006", // read_only_sql_transaction: a standby or a read-only session
            "42501", // insufficient_privilege
            "28000", // invalid_authorization_specification
            "28P01", // invalid_password
            "3D000", // invalid_catalog_name: the database does not exist
            "42P01"); // undefined_table

    private PostgresErrors() {}

    static boolean isUniqueViolation(Throwable error) {
        return error instanceof PgException pg && UNIQUE_VIOLATION.equals(pg.getSqlState());
    }

    /** A failure of a statement that was (or may have been) sent to the server. */
    static ExternalError classify(String op, Throwable error) {
        if (error instanceof ExternalError external) {
            return external;
        }
        if (error instanceof PgException pg) {
            String message = "postgres " + op + " failed: " + pg.getMessage();
            return DETERMINATE.contains(pg.getSqlState()) ? new Determinate(message, pg) : new Indeterminate(message, pg);
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
}
