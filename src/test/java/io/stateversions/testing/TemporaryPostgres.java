package io.stateversions.testing;

import io.stateversions.location.postgres.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/** A PostgreSQL server from Maven artifacts in a temporary directory, which closing stops and removes. */
final class TemporaryPostgres implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TemporaryPostgres.class);

    private final Path directory;
    private final EmbeddedPostgresServer server;

    private TemporaryPostgres(Path directory, EmbeddedPostgresServer server) {
        this.directory = directory;
        this.server = server;
    }

    static TemporaryPostgres start() {
        Path directory;
        try {
            directory = Files.createTempDirectory("state-versions-test-postgres");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return new TemporaryPostgres(directory, EmbeddedPostgresServer.start(directory, 0, false));
    }

    String url() {
        return server.url();
    }

    @Override
    public void close() {
        server.close();
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            LOG.warnf("Removing %s: %s", directory, e.getMessage());
        }
    }
}
