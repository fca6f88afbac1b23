package io.stateversions.bench;

import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one benchmark run does. Every setting has a default sized for a full run of about 5–10 minutes on a 2-core
 * machine; {@link #parse} reads {@code key=value} words (a leading {@code --} is allowed), e.g.
 * {@code clients=32 duration=10s workloads=p1,p2}.
 *
 * @param clients concurrent clients of the multi-client workloads (P2, P3)
 * @param shards shards of P2 and P4
 * @param serviceWarmup time the service is driven (gRPC and REST appends over throwaway shards) before the first
 *     measurement, so that no workload measures a service whose code the JIT has not compiled yet (the databases are
 *     native code, and the load generator warms up with each measurement): the least time
 * @param serviceWarmupMax the most time the service's warm-up goes on while its JIT compilers are still busy (past
 *     {@code serviceWarmup}, it ends once a round of it compiled for less than 5 % of its time)
 * @param warmup time each measurement runs before it records
 * @param duration time each measurement records (split into {@code rounds} interleaved rounds where targets are
 *     compared)
 * @param rounds interleaved rounds of the P1 and P2 comparisons
 * @param payloadBytes size of the {@code key_lower} bound carried by each appended part (grows the service's diff)
 * @param baselineValueBytes bytes each baseline CaS writes; 0: the median encoded diff of the service's appends,
 *     measured in the same run (so that both baselines move as many bytes as the service)
 * @param grpcChannels gRPC connections the service clients spread over (the server serves a connection on one event
 *     loop)
 * @param poolSize connections of the raw PostgreSQL baseline (about one per concurrent client, as a client calling
 *     PostgreSQL directly would use)
 * @param historySmall versions of P5's short shard
 * @param historyLarge versions of P5's long shard
 * @param fetchDuration time each P5 fetch measurement records
 * @param p6Batches batches of P6's shard
 * @param p9Batches batches P9's large shard holds before its appends are measured
 * @param p9SmallBatches batches each of P9's small shards holds before it takes measured appends (it takes as many
 *     again, then the next one takes over)
 * @param memoryShards shards the memory workload opens and appends to once, on a service of its own, before its
 *     resident set size is read
 * @param workloads the workloads to run: p1 … p6, p9, startup, memory, floor (the gRPC transport floor), and tls
 *     (P1's gRPC appends against a second service with TLS and bearer tokens on)
 * @param etcd the etcd binary (a name on PATH, or a path)
 * @param requireEtcd fail the run when etcd is missing (the full run); otherwise the etcd baseline is skipped with a
 *     message (the smoke test on a machine without etcd)
 * @param serviceJvmOptions the JVM options of the service processes, separated by {@code ;}: by default the ones the
 *     service ships with ({@link #SHIPPED_JVM_OPTIONS}); given, they replace them (add
 *     {@code -XX:StartFlightRecording=filename=target/bench/service.jfr,settings=profile} to profile it)
 * @param serviceJava the {@code java} launcher of the service processes: by default the one running the benchmark
 *     ({@link #OWN_JAVA}); another to run the service on another JDK (the load generator stays on its own)
 * @param workDir where PostgreSQL, etcd and the service keep their data and logs (deleted afterwards)
 * @param resultsFile where the Markdown table is written
 */
public record BenchSettings(int clients, int shards, Duration serviceWarmup, Duration serviceWarmupMax,
        Duration warmup, Duration duration, int rounds, int payloadBytes, int baselineValueBytes, int grpcChannels,
        int poolSize, int historySmall, int historyLarge,
        Duration fetchDuration, int p6Batches, int p9Batches, int p9SmallBatches, int memoryShards,
        Set<String> workloads, String etcd, boolean requireEtcd, List<String> serviceJvmOptions, String serviceJava,
        Path workDir, Path resultsFile) {

    /**
     * The JVM options the service ships with (README, container image, Kubernetes ConfigMap): the benchmark measures
     * the service as it is run.
     */
    public static final List<String> SHIPPED_JVM_OPTIONS = List.of("-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20", "-Xmx512m", "-XX:+ExitOnOutOfMemoryError");

    /** The launcher of the JVM running the benchmark. */
    public static final String OWN_JAVA = Path.of(System.getProperty("java.home"), "bin", "java").toString();

    public static final Set<String> ALL_WORKLOADS = Set.of("p1", "p2", "p3", "p4", "p5", "p6", "p9", "startup",
            "memory", "floor", "tls");

    /** The defaults of the full run. */
    public static BenchSettings defaults() {
        return new BenchSettings(64, 1000, Duration.ofSeconds(30), Duration.ofSeconds(120), Duration.ofSeconds(5),
                Duration.ofSeconds(20), 2, 64, 0, 2, 50, 100,
                100_000, Duration.ofSeconds(5), 10_000, 100_000, 100, 100_000, new LinkedHashSet<>(List.of("startup",
                        "p1", "p2", "p3", "p4", "p6", "p5", "p9", "floor", "tls", "memory")), "etcd", true,
                SHIPPED_JVM_OPTIONS, OWN_JAVA,
                Path.of("target", "bench", "work"), Path.of("target", "bench", "results.md"));
    }

    /** {@code defaults()} with the given {@code key=value} words applied. */
    public static BenchSettings parse(List<String> words) {
        Map<String, String> values = new LinkedHashMap<>();
        for (String word : words) {
            if (word.isBlank()) {
                continue;
            }
            String stripped = word.startsWith("--") ? word.substring(2) : word;
            int equals = stripped.indexOf('=');
            if (equals <= 0) {
                throw new IllegalArgumentException("benchmark setting \"" + word + "\": expected key=value");
            }
            values.put(stripped.substring(0, equals), stripped.substring(equals + 1));
        }
        BenchSettings d = defaults();
        BenchSettings s = new BenchSettings(
                intOf(values.remove("clients"), d.clients), intOf(values.remove("shards"), d.shards),
                durationOf(values.remove("service-warmup"), d.serviceWarmup),
                durationOf(values.remove("service-warmup-max"), d.serviceWarmupMax),
                durationOf(values.remove("warmup"), d.warmup), durationOf(values.remove("duration"), d.duration),
                intOf(values.remove("rounds"), d.rounds),
                intOf(values.remove("payload"), d.payloadBytes),
                intOf(values.remove("baseline-value-bytes"), d.baselineValueBytes),
                intOf(values.remove("grpc-channels"), d.grpcChannels), intOf(values.remove("pool-size"), d.poolSize),
                intOf(values.remove("history-small"), d.historySmall),
                intOf(values.remove("history-large"), d.historyLarge),
                durationOf(values.remove("fetch-duration"), d.fetchDuration),
                intOf(values.remove("p6-batches"), d.p6Batches), intOf(values.remove("p9-batches"), d.p9Batches),
                intOf(values.remove("p9-small-batches"), d.p9SmallBatches),
                intOf(values.remove("memory-shards"), d.memoryShards),
                workloadsOf(values.remove("workloads"), d.workloads), values.getOrDefault("etcd", d.etcd),
                Boolean.parseBoolean(values.getOrDefault("require-etcd", Boolean.toString(d.requireEtcd))),
                values.containsKey("service-jvm-options")
                        ? List.of(values.get("service-jvm-options").split(";")) : d.serviceJvmOptions,
                values.getOrDefault("service-java", d.serviceJava),
                Path.of(values.getOrDefault("work-dir", d.workDir.toString())),
                Path.of(values.getOrDefault("results", d.resultsFile.toString())));
        values.remove("etcd");
        values.remove("require-etcd");
        values.remove("service-jvm-options");
        values.remove("service-java");
        values.remove("work-dir");
        values.remove("results");
        if (!values.isEmpty()) {
            throw new IllegalArgumentException("unknown benchmark settings " + values.keySet() + "; known: clients,"
                    + " shards, service-warmup, service-warmup-max, warmup, duration, rounds, payload,"
                    + " baseline-value-bytes, grpc-channels, pool-size, history-small, history-large, fetch-duration,"
                    + " p6-batches, p9-batches, p9-small-batches,"
                    + " memory-shards, workloads, etcd, require-etcd, service-jvm-options, service-java, work-dir,"
                    + " results");
        }
        return s;
    }

    public boolean runs(String workload) {
        return workloads.contains(workload);
    }

    private static int intOf(String value, int fallback) {
        if (value == null) {
            return fallback;
        }
        int parsed = Integer.parseInt(value.replace("_", ""));
        if (parsed < 0) {
            throw new IllegalArgumentException("a benchmark count must not be negative: " + value);
        }
        return parsed;
    }

    /** {@code 250ms}, {@code 20s}, {@code 2m}. */
    private static Duration durationOf(String value, Duration fallback) {
        if (value == null) {
            return fallback;
        }
        if (value.endsWith("ms")) {
            return Duration.ofMillis(Long.parseLong(value.substring(0, value.length() - 2)));
        }
        if (value.endsWith("s")) {
            return Duration.ofMillis(Math.round(Double.parseDouble(value.substring(0, value.length() - 1)) * 1000));
        }
        if (value.endsWith("m")) {
            return Duration.ofSeconds(Long.parseLong(value.substring(0, value.length() - 1)) * 60);
        }
        throw new IllegalArgumentException("a benchmark duration needs a unit (ms, s, m): " + value);
    }

    private static Set<String> workloadsOf(String value, Set<String> fallback) {
        if (value == null) {
            return fallback;
        }
        Set<String> chosen = new LinkedHashSet<>();
        for (String name : value.split(",")) {
            String workload = name.trim().toLowerCase(java.util.Locale.ROOT);
            if (!ALL_WORKLOADS.contains(workload)) {
                throw new IllegalArgumentException("unknown workload " + name + "; known: " + ALL_WORKLOADS);
            }
            chosen.add(workload);
        }
        return chosen;
    }
}
