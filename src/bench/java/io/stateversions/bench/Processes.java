package io.stateversions.bench;

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
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/** The processes a benchmark run starts: the packaged service and etcd, each on loopback with its own data. */
final class Processes {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private Processes() {}

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The resident set size of a process in bytes, from {@code /proc/<pid>/status} (Linux). */
    static long residentBytes(long pid) throws IOException {
        return statusBytes(pid, "VmRSS");
    }

    /** The largest resident set size a process has had, in bytes ({@code VmHWM}, its high-water mark). */
    static long peakResidentBytes(long pid) throws IOException {
        return statusBytes(pid, "VmHWM");
    }

    private static long statusBytes(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IOException("no " + field + " in /proc/" + pid + "/status");
    }

    /**
     * Waits until {@code url} answers 200 with a body containing {@code expected}, polling every 10 ms; fails if
     * {@code process} exits first or after {@code within}.
     */
    static void awaitHttp(Process process, String url, String expected, Duration within, Path log) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + within.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("process exited with " + process.exitValue() + " before " + url
                        + " answered; see " + log);
            }
            try {
                HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200 && response.body().contains(expected)) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        throw new IllegalStateException(url + " did not answer " + expected + " within " + within + "; see " + log);
    }

    /** Stops {@code process} (SIGTERM, then SIGKILL after a minute) and waits for it. */
    static void stop(Process process) {
        if (process == null || !process.isAlive()) {
            return;
        }
        process.destroy();
        try {
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The packaged service ({@code target/quarkus-app/quarkus-run.jar}) on a PostgreSQL URL and a file blob store:
     * the API on {@code port}, health and metrics on {@code managementPort}.
     */
    record Service(Process process, int port, int managementPort, long startupMillis, Path log) implements AutoCloseable {

        static Service start(Path jar, String consensusUrl, Path dataDir, String java, List<String> jvmOptions,
                Path log) throws Exception {
            return start(jar, consensusUrl, dataDir, java, jvmOptions, log, false);
        }

        /** With {@code tls}, {@code port} is the TLS port (the options must configure TLS) and the plain one is closed. */
        static Service start(Path jar, String consensusUrl, Path dataDir, String java, List<String> jvmOptions,
                Path log, boolean tls) throws Exception {
            if (!Files.exists(jar)) {
                throw new IllegalStateException("the packaged service " + jar + " is missing: run ./mvnw package first"
                        + " (the documented command -Pbench -DskipTests verify does)");
            }
            int port = freePort();
            int managementPort = freePort();
            Files.createDirectories(dataDir.resolve("blob"));
            List<String> command = new ArrayList<>();
            command.add(java);
            command.addAll(jvmOptions);
            if (tls) {
                command.add("-Dquarkus.http.ssl-port=" + port);
                command.add("-Dquarkus.http.insecure-requests=disabled");
            } else {
                command.add("-Dquarkus.http.port=" + port);
            }
            command.add("-Dquarkus.management.port=" + managementPort);
            command.add("-Dstateversions.consensus.url=" + consensusUrl);
            command.add("-Dstateversions.blob.url=file://" + dataDir.resolve("blob").toAbsolutePath().normalize());
            command.add("-Dstateversions.data-dir=" + dataDir.toAbsolutePath());
            command.add("-jar");
            command.add(jar.toAbsolutePath().toString());
            Files.createDirectories(log.getParent());
            long started = System.nanoTime();
            Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitHttp(process, "http://127.0.0.1:" + managementPort + "/q/health/ready", "\"UP\"", Duration.ofSeconds(120),
                        log);
            } catch (Exception e) {
                stop(process);
                throw e;
            }
            long startupMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            return new Service(process, port, managementPort, startupMillis, log);
        }

        long residentBytes() throws IOException {
            return Processes.residentBytes(process.pid());
        }

        long peakResidentBytes() throws IOException {
            return Processes.peakResidentBytes(process.pid());
        }

        /** Heap in use, in bytes: the sum of {@code jvm_memory_used_bytes{area="heap",…}} of its metrics. */
        long heapUsedBytes() throws Exception {
            HttpResponse<String> metrics = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + managementPort + "/q/metrics")).timeout(Duration.ofSeconds(30)).build(),
                    HttpResponse.BodyHandlers.ofString());
            double used = 0;
            for (String line : metrics.body().split("\n")) {
                if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                    used += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return Math.round(used);
        }

        @Override
        public void close() {
            stop(process);
        }
    }

    /**
     * The gRPC transport floor ({@link TransportFloor}) in a JVM of its own, on the harness's class path and with
     * default JVM settings, as the service runs.
     */
    record Floor(Process process, int port) implements AutoCloseable {

        static Floor start(Path log) throws Exception {
            int port = freePort();
            Files.createDirectories(log.getParent());
            Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), TransportFloor.class.getName(),
                    Integer.toString(port)).redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitHttp(process, "http://127.0.0.1:" + port + TransportFloor.READY_PATH, "ready",
                        Duration.ofSeconds(60), log);
            } catch (Exception e) {
                stop(process);
                throw e;
            }
            return new Floor(process, port);
        }

        @Override
        public void close() {
            stop(process);
        }
    }

    /** A one-member etcd on loopback, with its data under {@code dataDir}. */
    record Etcd(Process process, int clientPort, String version) implements AutoCloseable {

        /** The etcd binary: {@code name} if it is a path, else the first match on PATH. */
        static Optional<Path> find(String name) {
            if (name.contains("/")) {
                Path path = Path.of(name);
                return Files.isExecutable(path) ? Optional.of(path) : Optional.empty();
            }
            String pathVariable = Optional.ofNullable(System.getenv("PATH")).orElse("");
            for (String dir : pathVariable.split(java.io.File.pathSeparator)) {
                Path candidate = Path.of(dir.isEmpty() ? "." : dir, name);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
            return Optional.empty();
        }

        static Etcd start(Path binary, Path dataDir, Path log) throws Exception {
            int clientPort = freePort();
            int peerPort = freePort();
            String client = "http://127.0.0.1:" + clientPort;
            String peer = "http://127.0.0.1:" + peerPort;
            Files.createDirectories(log.getParent());
            Process process = new ProcessBuilder(binary.toString(), "--name", "bench", "--data-dir",
                    dataDir.toAbsolutePath().toString(), "--listen-client-urls", client, "--advertise-client-urls", client,
                    "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--initial-cluster",
                    "bench=" + peer, "--initial-cluster-state", "new", "--log-level", "warn")
                    .redirectErrorStream(true).redirectOutput(log.toFile()).start();
            try {
                awaitHttp(process, client + "/health", "true", Duration.ofSeconds(60), log);
                HttpResponse<String> version = HTTP.send(HttpRequest.newBuilder(URI.create(client + "/version"))
                        .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString());
                String server = version.body().replaceAll(".*\"etcdserver\":\"([^\"]*)\".*", "$1");
                return new Etcd(process, clientPort, server);
            } catch (Exception e) {
                stop(process);
                throw e;
            }
        }

        CpuTime.Source cpu() {
            return CpuTime.process(process.pid());
        }

        @Override
        public void close() {
            stop(process);
        }
    }
}
