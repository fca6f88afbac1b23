package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.testing.ServiceProcess;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The packaged service as a user runs it: {@code java -jar target/quarkus-app/quarkus-run.jar} with no
 * configuration but a data directory. It must become ready on its embedded PostgreSQL and file store, survive
 * {@code kill -9} (the orphaned PostgreSQL included) and come back ready with its data.
 */
class EmbeddedDefaultIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    private static final PostgresPools.Settings CLIENT = new PostgresPools.Settings(2, Duration.ofSeconds(10),
            Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofSeconds(30));

    @TempDir
    Path temp;

    private final HttpClient http = HttpClient.newHttpClient();
    private Process service;

    @AfterEach
    void stopService() throws InterruptedException {
        if (service != null && service.isAlive()) {
            service.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** The packaged service with no configuration but its data directory (as an environment variable). */
    private ServiceProcess start(String name, Path dataDir, int port) throws IOException {
        ServiceProcess started = new ServiceProcess(name, port, temp, List.of(),
                Map.of("STATEVERSIONS_DATA_DIR", dataDir.toString()));
        service = started.process;
        return started;
    }

    @Test
    void runsWithoutConfigurationAndKeepsItsDataAcrossKillMinusNine() throws Exception {
        Path dataDir = temp.resolve("data");
        int port = ServiceProcess.freePort();

        long started = System.nanoTime();
        ServiceProcess first = start("first", dataDir, port);
        first.awaitReady(http, READY_WITHIN);
        System.out.printf("first start (initdb included): ready after %d ms%n", millisSince(started));
        assertThat(Files.readString(first.log))
                .contains("Started PostgreSQL 17")
                .contains("Consensus: postgres://postgres@127.0.0.1:")
                .contains("Blob: file://" + dataDir.toAbsolutePath().normalize().resolve("blob"));

        // Write through the storage SPI into the service's own embedded PostgreSQL and file store.
        Vertx vertx = Vertx.vertx();
        try {
            try (Consensus consensus = consensusOf(vertx, dataDir)) {
                assertThat(consensus.compareAndSet("s-it", Optional.empty(), entry(1)).toCompletableFuture().get())
                        .isEqualTo(CasResult.COMMITTED);
                assertThat(consensus.compareAndSet("s-it", Optional.of(SeqNo.of(1)), entry(2)).toCompletableFuture().get())
                        .isEqualTo(CasResult.COMMITTED);
            }
            Files.writeString(dataDir.resolve("blob").resolve("s-it%2Fv1%2Fr1"), "rollup");

            long orphan = postmasterPid(dataDir);
            service.destroyForcibly().waitFor(30, TimeUnit.SECONDS); // SIGKILL: no shutdown hook runs
            assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive))
                    .as("PostgreSQL outlives the killed service").contains(true);

            started = System.nanoTime();
            ServiceProcess second = start("second", dataDir, port);
            second.awaitReady(http, READY_WITHIN);
            System.out.printf("restart after kill -9: ready after %d ms%n", millisSince(started));
            assertThat(Files.readString(second.log))
                    .contains("Stopping the PostgreSQL server (pid " + orphan + ") left running");
            assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive).orElse(false)).isFalse();

            try (Consensus consensus = consensusOf(vertx, dataDir)) {
                List<VersionedData> entries = consensus.scan("s-it", SeqNo.MIN, Consensus.SCAN_ALL)
                        .toCompletableFuture().get();
                assertThat(entries).containsExactly(entry(1), entry(2));
            }
            assertThat(dataDir.resolve("blob").resolve("s-it%2Fv1%2Fr1")).hasContent("rollup");
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        }

        // A graceful stop takes the embedded PostgreSQL down with the service.
        long postmaster = postmasterPid(dataDir);
        service.destroy(); // SIGTERM
        assertThat(service.waitFor(60, TimeUnit.SECONDS)).isTrue();
        await().atMost(Duration.ofSeconds(30)).until(() -> !ProcessHandle.of(postmaster).map(ProcessHandle::isAlive).orElse(false));
    }

    private static Consensus consensusOf(Vertx vertx, Path dataDir) throws IOException {
        return PostgresPools.consensus(vertx, "postgres://postgres@127.0.0.1:" + postmasterPort(dataDir) + "/postgres",
                CLIENT, () -> {});
    }

    /** The first line of PostgreSQL's {@code postmaster.pid} is the server's pid, the fourth its port. */
    private static long postmasterPid(Path dataDir) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(0).trim());
    }

    private static int postmasterPort(Path dataDir) throws IOException {
        return Integer.parseInt(Files.readAllLines(dataDir.resolve("postgres/postmaster.pid")).get(3).trim());
    }

    private static VersionedData entry(long seqno) {
        return new VersionedData(SeqNo.of(seqno), ("diff " + seqno).getBytes(StandardCharsets.UTF_8));
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
