package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.testing.ServiceProcess;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Replicas that do not share storage refuse to run (issue 13), on the packaged service. Replica A runs on its
 * embedded PostgreSQL and its default blob directory; replica B is given A's PostgreSQL but no blob URL, so it
 * would use a blob directory of its own: it must exit at once, non-zero, naming both stores and what to set. Set as
 * told, it starts. A replica whose PostgreSQL does not answer gives up after {@code stateversions.deployment.start-timeout}.
 */
class DeploymentIdentityIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    /** A refusal needs one JVM start and a few reads: seconds. The bound leaves room for a loaded machine. */
    private static final Duration EXIT_WITHIN = Duration.ofSeconds(60);
    private static final Pattern DEPLOYMENT = Pattern.compile("Deployment ([0-9a-f-]{36}): consensus (\\S+).*?, blob (\\S+)");

    @TempDir
    Path temp;

    private final HttpClient http = HttpClient.newHttpClient();
    /** Stopped after the test, last started first: A owns the PostgreSQL the others use. */
    private final List<ServiceProcess> started = new ArrayList<>();

    @AfterEach
    void stopReplicas() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).stop();
        }
        ServiceProcess.stopOrphanedPostgres(temp.resolve("a"));
    }

    @Test
    void aReplicaOnTheSamePostgresWithItsOwnBlobDirectoryExitsNamingBothStoresAndWhatToSet() throws Exception {
        int postgresPort = ServiceProcess.freePort();
        ServiceProcess a = start("A", "-Dstateversions.data-dir=" + temp.resolve("a"),
                "-Dstateversions.consensus.embedded.port=" + postgresPort);
        a.awaitReady(http, READY_WITHIN);
        Matcher created = DEPLOYMENT.matcher(Files.readString(a.log));
        assertThat(created.find()).as("A logs its deployment: %s", a.logExcerpt()).isTrue();
        String deployment = created.group(1);
        String consensus = created.group(2);
        String blobA = "file://" + temp.resolve("a").resolve("blob").toAbsolutePath().normalize();
        assertThat(created.group(3)).isEqualTo(blobA);
        assertThat(Files.readString(a.log)).contains("(the default: stateversions.blob.url is not set); created now, checked in");
        System.out.println("replica A: " + created.group());

        long launched = System.nanoTime();
        ServiceProcess b = start("B", "-Dstateversions.data-dir=" + temp.resolve("b"),
                "-Dstateversions.consensus.url=" + consensus);
        int exit = b.awaitExit(EXIT_WITHIN);
        System.out.printf("replica B on A's PostgreSQL and its own blob directory exited %d after %d ms%n", exit,
                (System.nanoTime() - launched) / 1_000_000);

        assertThat(exit).as(b.logExcerpt()).isNotZero();
        String blobB = "file://" + temp.resolve("b").resolve("blob").toAbsolutePath().normalize();
        assertThat(Files.readString(b.log)).as(b.logExcerpt())
                .contains("Blob store " + blobB + " (the default: stateversions.blob.url is not set) is not the blob"
                        + " store of deployment " + deployment + ", which consensus " + consensus + " belongs to")
                .contains("set stateversions.blob.url to the blob store the other replicas use")
                .contains("Deployment " + deployment + " was created with blob store " + blobA);
        assertThat(temp.resolve("b").resolve("blob")).isEmptyDirectory();
        a.awaitReady(http, READY_WITHIN);

        ServiceProcess told = start("B-as-told", "-Dstateversions.data-dir=" + temp.resolve("b"),
                "-Dstateversions.consensus.url=" + consensus, "-Dstateversions.blob.url=" + blobA);
        told.awaitReady(http, READY_WITHIN);
        assertThat(Files.readString(told.log)).contains("Deployment " + deployment + ": consensus " + consensus
                + ", blob " + blobA + "; existing, checked in");
    }

    @Test
    void aReplicaWhosePostgresDoesNotAnswerExitsAfterTheStartTimeout() throws Exception {
        // Nothing listens on port 1 of loopback: connections are refused at once, and retried.
        String consensus = "postgres://postgres@127.0.0.1:1/postgres";
        long launched = System.nanoTime();
        ServiceProcess c = start("C", "-Dstateversions.data-dir=" + temp.resolve("c"),
                "-Dstateversions.consensus.url=" + consensus, "-Dstateversions.deployment.start-timeout=2s");
        int exit = c.awaitExit(EXIT_WITHIN);
        System.out.printf("replica C on an unreachable PostgreSQL exited %d after %d ms%n", exit,
                (System.nanoTime() - launched) / 1_000_000);

        assertThat(exit).as(c.logExcerpt()).isNotZero();
        assertThat(Files.readString(c.log)).as(c.logExcerpt())
                .contains("Consensus " + consensus + " and blob store file://")
                .contains("did not complete the deployment identity check within 2000 ms"
                        + " (stateversions.deployment.start-timeout); last error: deployment identity: consensus head:");
    }

    private ServiceProcess start(String name, String... properties) throws Exception {
        ServiceProcess process = ServiceProcess.start(name, temp.resolve("logs"), List.of(properties));
        started.add(process);
        return process;
    }
}
