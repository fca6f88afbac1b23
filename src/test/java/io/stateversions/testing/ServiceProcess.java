package io.stateversions.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One process of the packaged service ({@code target/quarkus-app/quarkus-run.jar}, built by {@code package} before
 * the integration tests run), with its HTTP port (REST and gRPC), its management port (health, metrics) and its log
 * (standard output and error).
 */
public class ServiceProcess {

    public final String name;
    public final int port;
    public final int managementPort;
    public final Path log;
    public final Process process;

    /**
     * Starts the service on {@code port} with the system properties {@code properties} (each {@code -Dkey=value}) and
     * the environment variables {@code environment} (a null value removes the variable), logging to {@code logs/replica-<name>.log}.
     */
    public ServiceProcess(String name, int port, Path logs, List<String> properties, Map<String, String> environment)
            throws IOException {
        Path jar = Path.of("target", "quarkus-app", "quarkus-run.jar").toAbsolutePath();
        assertThat(jar).as("the packaged service").exists();
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        int managementPort = freePort();
        command.add("-Dquarkus.http.port=" + port);
        command.add("-Dquarkus.management.port=" + managementPort);
        command.addAll(properties);
        command.add("-jar");
        command.add(jar.toString());
        Files.createDirectories(logs);
        this.name = name;
        this.port = port;
        this.managementPort = managementPort;
        this.log = logs.resolve("replica-" + name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        environment.forEach((key, value) -> {
            if (value == null) {
                builder.environment().remove(key);
            } else {
                builder.environment().put(key, value);
            }
        });
        this.process = builder.start();
    }

    public static ServiceProcess start(String name, Path logs, List<String> properties) throws IOException {
        return new ServiceProcess(name, freePort(), logs, properties, Map.of());
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    /** A path of the management interface ({@code /q/health}, {@code /q/metrics}). */
    public URI managementUri(String path) {
        return URI.create("http://127.0.0.1:" + managementPort + path);
    }

    /** Waits until {@code /q/health/ready} (management port) answers UP; fails at once if the process ends. */
    public void awaitReady(HttpClient http, Duration within) {
        HttpRequest request = HttpRequest.newBuilder(managementUri("/q/health/ready")).timeout(Duration.ofSeconds(5)).build();
        await().atMost(within).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
            assertThat(process.isAlive()).as("replica %s is running", name).isTrue();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return response.statusCode() == 200 && response.body().contains("\"UP\"");
        });
    }

    /** Waits for the process to end by itself and returns its exit code; fails if it still runs after {@code within}. */
    public int awaitExit(Duration within) throws InterruptedException {
        assertThat(process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS))
                .as("replica %s ended within %s", name, within).isTrue();
        return process.exitValue();
    }

    /** SIGTERM, a graceful stop (one with an embedded PostgreSQL stops it too); SIGKILL after 30 s. */
    public void stop() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    public String logExcerpt() {
        try {
            List<String> lines = Files.readAllLines(log);
            int from = Math.max(0, lines.size() - 400);
            return "----- replica " + name + " (port " + port + "), " + log + (from > 0 ? ", last 400 lines" : "")
                    + " -----\n" + String.join("\n", lines.subList(from, lines.size()));
        } catch (IOException e) {
            return "----- replica " + name + ": cannot read " + log + ": " + e;
        }
    }

    /** A PostgreSQL that outlived the service that embedded it in {@code dataDir} (it was killed) is stopped. */
    public static void stopOrphanedPostgres(Path dataDir) throws IOException {
        Path pidFile = dataDir.resolve("postgres/postmaster.pid");
        if (!Files.exists(pidFile)) {
            return;
        }
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty() || lines.get(0).isBlank()) {
            return;
        }
        ProcessHandle.of(Long.parseLong(lines.get(0).trim())).filter(ProcessHandle::isAlive).ifPresent(postmaster -> {
            System.out.println("stopping PostgreSQL " + postmaster.pid() + " left running in " + dataDir);
            postmaster.destroy();
            postmaster.onExit().orTimeout(30, TimeUnit.SECONDS).join();
        });
    }

    public static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
