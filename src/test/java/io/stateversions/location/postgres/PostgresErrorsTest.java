package io.stateversions.location.postgres;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.ClosedConnectionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class PostgresErrorsTest {

    private static PgException error(String sqlState) {
        return new PgException("message", "ERROR", sqlState, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"40001", "40P01", "57014", "42501", "28P01", "3D000", "25006"})
    void rolledBackStatementsAreDeterminate(String sqlState) {
        assertThat(PostgresErrors.classify("cas", error(sqlState))).isInstanceOf(Determinate.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"40003", "XX000", "08006", "58030", "22012"})
    void everythingElseIsIndeterminate(String sqlState) {
        // 40003 is CockroachDB's "statement completion unknown": it may have committed.
        assertThat(PostgresErrors.classify("cas", error(sqlState))).isInstanceOf(Indeterminate.class);
    }

    @Test
    void lostConnectionsAndTimeoutsAreIndeterminate() {
        assertThat(PostgresErrors.classify("cas", ClosedConnectionException.INSTANCE)).isInstanceOf(Indeterminate.class);
        assertThat(PostgresErrors.classify("cas", new TimeoutException()))
                .isInstanceOf(Indeterminate.class).hasMessageContaining("timeout");
        assertThat(PostgresErrors.classify("cas", new RuntimeException("unknown"))).isInstanceOf(Indeterminate.class);
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
