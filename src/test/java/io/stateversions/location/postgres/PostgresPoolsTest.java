package io.stateversions.location.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class PostgresPoolsTest {

    @Test
    void parsesPostgresUrls() {
        var options = PostgresPools.connectOptions("postgresql://app:pw@db.example:6543/state?sslmode=require&application_name=x");
        assertThat(options.getHost()).isEqualTo("db.example");
        assertThat(options.getPort()).isEqualTo(6543);
        assertThat(options.getDatabase()).isEqualTo("state");
        assertThat(options.getUser()).isEqualTo("app");
        assertThat(PostgresPools.connectOptions("postgres://localhost/db").getDatabase()).isEqualTo("db");
    }

    @Test
    void unknownParametersAreErrorsAndPasswordsStayOutOfMessages() {
        assertThatThrownBy(() -> PostgresPools.connectOptions("postgres://app:hunter2@db/state?pool_size=5"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown parameter 'pool_size'")
                .hasMessageContaining("app:***@db")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void everyConnectionHasAStatementTimeoutAnIdleInTransactionTimeoutAndTheBackendPicksTheIsolation() {
        assertThat(PostgresPools.startupParameters(Duration.ofSeconds(30)))
                .doesNotContainKey("default_transaction_isolation")
                .containsEntry("statement_timeout", "30000")
                .containsEntry("idle_in_transaction_session_timeout", "60000");
    }
}
