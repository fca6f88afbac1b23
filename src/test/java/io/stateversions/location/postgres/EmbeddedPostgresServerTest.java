package io.stateversions.location.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The safety rules of the embedded server: one process per data directory, and never a cluster thrown away. */
class EmbeddedPostgresServerTest {

    @TempDir
    Path dataDir;

    @Test
    void aDataDirectoryServesOneProcessAtATime() {
        try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(dataDir, 0, false)) {
            assertThatThrownBy(() -> EmbeddedPostgresServer.start(dataDir, 0, false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("in use by another state-versions process");
            assertThat(first.url()).startsWith("postgres://postgres@127.0.0.1:" + first.port());
        }
        // Released on close: the next process may use it.
        EmbeddedPostgresServer.start(dataDir, 0, false).close();
    }

    @Test
    void anInterruptedFirstInitializationIsRedoneButAClusterIsKept() throws Exception {
        Path aside = Files.createDirectories(dataDir.resolve("postgres.initializing"));
        Files.writeString(aside.resolve("PG_VERSION"), "17\n"); // what an initdb killed half way leaves
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir, 0, false)) {
            execute(server, "CREATE TABLE kept (v int)", "INSERT INTO kept VALUES (42)");
        }
        assertThat(aside).doesNotExist();
        assertThat(dataDir.resolve("postgres/PG_VERSION")).exists();

        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir, 0, false)) {
            assertThat(query(server, "SELECT v FROM kept")).isEqualTo(42);
        }
    }

    @Test
    void aStalePidFileOfAnUnrelatedLiveProcessIsRemovedWithoutTouchingIt() throws Exception {
        EmbeddedPostgresServer.start(dataDir, 0, false).close();
        // After a reboot the pid in postmaster.pid may belong to anything; here: this test's own JVM.
        Files.writeString(dataDir.resolve("postgres/postmaster.pid"), ProcessHandle.current().pid() + "\n"
                + dataDir.resolve("postgres") + "\n0\n5432\n");
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(dataDir, 0, false)) {
            assertThat(query(server, "SELECT 1")).isEqualTo(1);
        }
    }

    private static void execute(EmbeddedPostgresServer server, String... statements) throws SQLException {
        try (Connection connection = connect(server); Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    private static int query(EmbeddedPostgresServer server, String sql) throws SQLException {
        try (Connection connection = connect(server);
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(sql)) {
            result.next();
            return result.getInt(1);
        }
    }

    private static Connection connect(EmbeddedPostgresServer server) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + server.port() + "/postgres", "postgres", "");
    }

}
