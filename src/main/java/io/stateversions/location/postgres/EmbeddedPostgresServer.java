package io.stateversions.location.postgres;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * A real PostgreSQL server started from Maven artifacts (zonky's binaries), with its data under a directory of
 * ours: the embedded default of the service and the server of the tests. No installation, no Docker; it also
 * runs as root (zonky starts it in a user namespace, since PostgreSQL refuses to run as root).
 *
 * <p>Layout under the data directory: {@code postgres/} (the cluster), {@code postgres.log} (the server's log),
 * {@code stateversions.lock} (held while a process uses the directory).
 *
 * <p>Crash safety: the lock is an OS file lock, released when the holding JVM dies, even by {@code kill -9}. A
 * server that outlived its JVM keeps running and keeps the cluster locked; holding our lock proves that nobody uses
 * it, so it is an orphan, and it is shut down before a new server starts. The first {@code initdb} runs in
 * {@code postgres.initializing/}, renamed to {@code postgres/} once the new cluster has started and stopped
 * cleanly: a {@code postgres/} directory is always a complete cluster, and only an interrupted
 * {@code postgres.initializing/} is ever deleted. With {@code durable}, the server runs with {@code fsync} and
 * {@code synchronous_commit} on.
 */
public final class EmbeddedPostgresServer implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(EmbeddedPostgresServer.class);
    private static final Duration ORPHAN_SHUTDOWN_WAIT = Duration.ofSeconds(60);
    private static final Duration STARTUP_WAIT = Duration.ofSeconds(60);

    private final FileChannel lockChannel;
    private final EmbeddedPostgres postgres;
    private final String version;

    private EmbeddedPostgresServer(FileChannel lockChannel, EmbeddedPostgres postgres, String version) {
        this.lockChannel = lockChannel;
        this.postgres = postgres;
        this.version = version;
    }

    /**
     * Starts a server on {@code dataDir} (created if needed), listening on loopback at {@code port} (0: any free port).
     *
     * @param durable fsync and synchronous commits on (the service's default); off for throw-away test servers
     * @throws IllegalStateException if another process uses {@code dataDir}, or the server does not start (for
     *     instance: this build has no server binaries for this platform)
     */
    public static EmbeddedPostgresServer start(Path dataDir, int port, boolean durable) {
        Path dir = dataDir.toAbsolutePath().normalize();
        FileChannel lockChannel = lock(dir);
        try {
            Path cluster = dir.resolve("postgres");
            Path log = dir.resolve("postgres.log");
            if (Files.exists(cluster)) {
                stopOrphan(cluster);
            } else {
                initialize(dir, cluster, log, durable);
            }
            EmbeddedPostgres.Builder builder = builder(cluster, log, durable);
            if (port > 0) {
                builder.setPort(port);
            }
            EmbeddedPostgres postgres = builder.start();
            String version = serverVersion(postgres);
            LOG.infof("Started PostgreSQL %s on 127.0.0.1:%d (data in %s, server log %s%s)", version, postgres.getPort(),
                    cluster, log, durable ? "" : ", fsync off");
            return new EmbeddedPostgresServer(lockChannel, postgres, version);
        } catch (IOException | RuntimeException e) {
            closeQuietly(lockChannel);
            // Missing binaries for this platform, a port in use, a damaged cluster: the server log has the details.
            throw new IllegalStateException("could not start the embedded PostgreSQL in " + dir + ": " + e.getMessage()
                    + " (server log: " + dir.resolve("postgres.log") + "; to use another PostgreSQL server, set"
                    + " stateversions.consensus.url)", e);
        }
    }

    /** The connection URL: user {@code postgres}, trust authentication on loopback. */
    public String url() {
        return "postgres://postgres@127.0.0.1:" + postgres.getPort() + "/postgres";
    }

    public int port() {
        return postgres.getPort();
    }

    public String version() {
        return version;
    }

    /** Stops the server (a fast shutdown) and releases the data directory. */
    @Override
    public void close() {
        try {
            postgres.close();
        } catch (IOException e) {
            LOG.warnf("Could not stop the embedded PostgreSQL: %s", e.getMessage());
        } finally {
            closeQuietly(lockChannel);
        }
    }

    private static FileChannel lock(Path dir) {
        try {
            Files.createDirectories(dir);
            Path lockFile = dir.resolve("stateversions.lock");
            FileChannel channel = FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                closeQuietly(channel);
                throw new IllegalStateException("data directory " + dir + " is in use by another state-versions process"
                        + " (it holds " + lockFile + "); stop it, or give this one its own stateversions.data-dir");
            }
            return channel;
        } catch (IOException e) {
            throw new IllegalStateException("cannot lock data directory " + dir + ": " + e.getMessage(), e);
        }
    }

    private static EmbeddedPostgres.Builder builder(Path cluster, Path log, boolean durable) {
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(cluster)
                .setCleanDataDirectory(false)
                .setRegisterShutdownHook(false) // the service stops it after closing its connections
                .setPGStartupWait(STARTUP_WAIT)
                .setOutputRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .setErrorRedirector(ProcessBuilder.Redirect.appendTo(log.toFile()));
        if (durable) {
            // zonky starts the server with -F (fsync off) and synchronous_commit=off: either could lose a commit
            // that a client was told about. A later -c wins over both.
            builder.setServerConfig("fsync", "on");
            builder.setServerConfig("synchronous_commit", "on");
        }
        return builder;
    }

    /**
     * Creates the cluster aside, starts and stops it once (so that it is complete and cleanly shut down), then
     * renames it into place. Whatever an interrupted earlier attempt left aside was never used and is discarded.
     */
    private static void initialize(Path dir, Path cluster, Path log, boolean durable) throws IOException {
        Path aside = dir.resolve("postgres.initializing");
        if (Files.exists(aside)) {
            LOG.infof("Discarding %s, left by an initialization that was interrupted", aside);
            stopOrphan(aside);
            deleteRecursively(aside);
        }
        builder(aside, log, durable).start().close();
        Files.move(aside, cluster, StandardCopyOption.ATOMIC_MOVE);
    }

    private static void stopOrphan(Path cluster) throws IOException {
        Path pidFile = cluster.resolve("postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        Optional<ProcessHandle> process = lines.isEmpty() || lines.get(0).isBlank()
                ? Optional.empty()
                : ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return; // a stale lock file: PostgreSQL itself ignores one whose process is gone
        }
        ProcessHandle postmaster = process.get();
        Optional<String> commandLine = postmaster.info().commandLine();
        if (commandLine.isEmpty()) {
            throw new IllegalStateException("process " + postmaster.pid() + " named in " + pidFile + " is running and"
                    + " cannot be inspected; stop it if it is a PostgreSQL server left behind, then start again");
        }
        // Ours iff it is a postgres server of this very cluster (started with -D <cluster>).
        boolean ours = commandLine.get().contains("postgres") && commandLine.get().contains(cluster.toString());
        if (!ours) {
            // The pid was reused by an unrelated process after a reboot; PostgreSQL would refuse to start.
            LOG.infof("Removing stale %s (pid %d is now: %s)", pidFile, postmaster.pid(), commandLine.get());
            Files.deleteIfExists(pidFile);
            return;
        }
        LOG.warnf("Stopping the PostgreSQL server (pid %d) left running on %s by a process that was killed",
                postmaster.pid(), cluster);
        postmaster.destroy(); // SIGTERM, a smart shutdown: the dead owner's sessions are already gone
        try {
            postmaster.onExit().get(ORPHAN_SHUTDOWN_WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("the orphaned PostgreSQL server (pid " + postmaster.pid() + ") on " + cluster
                    + " did not stop within " + ORPHAN_SHUTDOWN_WAIT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the orphaned PostgreSQL server", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String serverVersion(EmbeddedPostgres postgres) {
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery("SHOW server_version")) {
            result.next();
            return result.getString(1);
        } catch (SQLException e) {
            return "(version unknown: " + e.getMessage() + ")";
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                Files.delete(file);
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException error) throws IOException {
                Files.delete(dir);
                return FileVisitResult.CONTINUE;
            }
        });
    }

    private static void closeQuietly(FileChannel channel) {
        try {
            channel.close(); // releases the lock
        } catch (IOException e) {
            LOG.debugf("Closing the data directory lock: %s", e.getMessage());
        }
    }
}
