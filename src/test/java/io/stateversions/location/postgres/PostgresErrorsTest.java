package io.stateversions.location.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.postgres.PostgresConsensus.Dialect;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The allow-lists of {@link PostgresErrors}, per dialect; the argument for each code is next to it there. */
class PostgresErrorsTest {

    private static PgException error(String sqlState) {
        return new PgException("message", "ERROR", sqlState, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"40001", "57P03", "53300", "25006", "42501", "28000", "28P01", "3D000", "42P01"})
    void failuresRaisedBeforeAnythingRunsAreDeterminateOnBothServers(String sqlState) {
        assertThat(PostgresErrors.classify(Dialect.POSTGRES, "cas", error(sqlState))).isInstanceOf(Determinate.class);
        assertThat(PostgresErrors.classify(Dialect.COCKROACH, "cas", error(sqlState))).isInstanceOf(Determinate.class);
    }

    /**
     * PostgreSQL raises these only before the commit: its statement timer stops when the Execute completes, the
     * commit comes at Sync with interrupts held, and lock waits end before it.
     */
    @ParameterizedTest
    @ValueSource(strings = {"57014", "40P01", "55P03"})
    void aStatementTimeoutDeadlockOrLockTimeoutIsDeterminateOnPostgres(String sqlState) {
        assertThat(PostgresErrors.classify(Dialect.POSTGRES, "cas", error(sqlState))).isInstanceOf(Determinate.class);
    }

    /**
     * CockroachDB replaces the result of a statement whose timer fired, its one-phase commit included, with 57014:
     * the CaS may have committed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"57014", "40P01", "55P03"})
    void aStatementTimeoutDeadlockOrLockTimeoutIsIndeterminateOnCockroach(String sqlState) {
        assertThat(PostgresErrors.classify(Dialect.COCKROACH, "cas", error(sqlState)))
                .isInstanceOf(Indeterminate.class);
    }

    /** Before the schema is prepared the server is not known: only what holds on both. */
    @Test
    void withTheDialectNotYetKnownOnlyWhatHoldsOnBothIsDeterminate() {
        assertThat(PostgresErrors.classify(null, "prepare", error("40001"))).isInstanceOf(Determinate.class);
        assertThat(PostgresErrors.classify(null, "prepare", error("57014"))).isInstanceOf(Indeterminate.class);
    }

    /**
     * 40003 is CockroachDB's "statement completion unknown"; 57P01 (admin shutdown) can come after a commit on
     * either server; the rest are simply not known to be determinate.
     */
    @ParameterizedTest
    @ValueSource(strings = {"40003", "57P01", "XX000", "08006", "58030", "22012"})
    void everythingElseIsIndeterminateOnBothServers(String sqlState) {
        for (Dialect dialect : Dialect.values()) {
            assertThat(PostgresErrors.classify(dialect, "cas", error(sqlState))).as("%s on %s", sqlState, dialect)
                    .isInstanceOf(Indeterminate.class);
        }
    }

    @ParameterizedTest
    @EnumSource(Dialect.class)
    void lostConnectionsAndTimeoutsAreIndeterminate(Dialect dialect) {
        assertThat(PostgresErrors.classify(dialect, "cas", ClosedConnectionException.INSTANCE))
                .isInstanceOf(Indeterminate.class);
        assertThat(PostgresErrors.classify(dialect, "cas", new TimeoutException()))
                .isInstanceOf(Indeterminate.class).hasMessageContaining("timeout");
        assertThat(PostgresErrors.classify(dialect, "cas", new RuntimeException("unknown")))
                .isInstanceOf(Indeterminate.class);
    }

    @Test
    void failingToConnectIsDeterminate() {
        assertThat(PostgresErrors.noConnection("cas", new java.net.ConnectException("refused")))
                .isInstanceOf(Determinate.class).hasMessageContaining("no connection");
    }

    @Test
    void onlyTheUniqueViolationIsALostRace() {
        assertThat(PostgresErrors.isUniqueViolation(error("23505"))).isTrue();
        assertThat(PostgresErrors.isUniqueViolation(error("23503"))).isFalse();
        assertThat(PostgresErrors.isUniqueViolation(new RuntimeException())).isFalse();
    }
}
