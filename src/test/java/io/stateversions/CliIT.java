package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.ShardId;
import io.stateversions.testing.ServiceProcess;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The command-line tool as the README runs it, {@code java -jar target/cli/state-versions-cli.jar}, next to the
 * packaged service on its embedded PostgreSQL and file blob store: online against the service, and offline against
 * the same stores.
 */
class CliIT {

    private static final Path JAR = Path.of("target", "cli", "state-versions-cli.jar");
    private static final Pattern CONSENSUS = Pattern.compile("Deployment [0-9a-f-]{36}: consensus (\\S+)");

    @TempDir
    Path temp;

    private final HttpClient http = HttpClient.newHttpClient();
    private ServiceProcess service;

    @AfterEach
    void stop() throws Exception {
        if (service != null) {
            service.stop();
        }
        ServiceProcess.stopOrphanedPostgres(temp.resolve("data"));
    }

    /** What one run of the jar printed, and its exit status. */
    record Run(int status, String out, String err) {}

    private Run cli(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-jar", JAR.toString()));
        command.addAll(List.of(args));
        Path out = Files.createTempFile(temp, "cli", ".out");
        Path err = Files.createTempFile(temp, "cli", ".err");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(process.waitFor(120, TimeUnit.SECONDS)).as("the CLI finished: " + command).isTrue();
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private HttpResponse<String> send(String method, String path, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(service.uri(path)).header("Content-Type", "application/json")
                .method(method, HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void onlineAndOfflineFromThePackagedJar() throws Exception {
        assertThat(JAR).exists();
        Run help = cli("--help");
        assertThat(help.status()).isZero();
        assertThat(help.out()).contains("shards", "state", "versions", "diff", "rollups", "blobs", "check", "gc",
                "rollup", "sweep");

        service = ServiceProcess.start("cli", temp.resolve("logs"), List.of("-Dstateversions.data-dir="
                + temp.resolve("data")));
        service.awaitReady(http, Duration.ofSeconds(90));
        Matcher consensus = CONSENSUS.matcher(Files.readString(service.log));
        assertThat(consensus.find()).as(service.logExcerpt()).isTrue();
        String blob = "file://" + temp.resolve("data").resolve("blob").toAbsolutePath().normalize();

        ShardId shard = ShardId.random();
        assertThat(send("PUT", "/v1/shards/" + shard, "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\","
                + "\"diffCodec\":\"d\"}").statusCode()).isEqualTo(201);
        String append = "{\"writerId\":\"w" + UUID.randomUUID() + "\",\"idempotencyToken\":\"i" + UUID.randomUUID()
                + "\",\"lower\":[0],\"upper\":[5],\"len\":1,\"parts\":[{\"inline\":\"AAEC\"}]}";
        assertThat(send("POST", "/v1/shards/" + shard + "/batches", append).statusCode()).isEqualTo(200);

        Run online = cli("state", shard.toString(), "--url", service.uri("/").toString());
        assertThat(online.status()).as(online.err()).isZero();
        assertThat(online.out()).contains("\"shardId\" : \"" + shard + "\"", "\"upper\" : [ 5 ]");

        Run table = cli("versions", shard.toString(), "--url", service.uri("/").toString(), "--format", "table");
        assertThat(table.status()).as(table.err()).isZero();
        assertThat(table.out()).contains("seqno", "diffBytes");

        Run offline = cli("check", shard.toString(), "--consensus", consensus.group(1), "--blob", blob);
        assertThat(offline.status()).as(offline.out() + offline.err()).isZero();
        assertThat(offline.out()).contains("\"ok\" : true");
        System.out.println("the packaged CLI, offline check: " + offline.out().replace('\n', ' '));
    }
}
