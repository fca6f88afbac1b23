package io.stateversions.bench;

import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.ListVersionsResponse;
import io.stateversions.api.grpc.v1.VersionInfo;
import io.stateversions.location.postgres.EmbeddedPostgresServer;
import io.stateversions.testing.TestDatabases;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The benchmark harness: the service side by side with the physical limit of its PostgreSQL and with etcd, measured
 * in one run on one machine. It starts what it needs itself: one embedded PostgreSQL 17 (shared by the service and
 * the raw baseline, durable: fsync and synchronous commit on, as etcd always syncs its log), etcd on loopback, and
 * the packaged service as a subprocess on that PostgreSQL and a file blob store. Then it runs the workloads of issues
 * 7 and 14 and prints one table (and writes it as Markdown): the service's number, the baselines' numbers, the ratio,
 * the goal, and whether it was met; and a second one, the CPU time per operation of every contender, per process
 * ({@link CpuTime}).
 *
 * <p>Run it with {@code ./mvnw -Pbench -DskipTests verify [-Dbench.args="clients=32 duration=10s"]}; the settings
 * are in {@link BenchSettings}. {@code BenchSmokeIT} runs it with tiny sizes in the test suite; no timing is ever
 * asserted.
 */
public final class Bench {

    /** The packaged service, as {@code ./mvnw package} leaves it. */
    private static final Path SERVICE_JAR = Path.of("target", "quarkus-app", "quarkus-run.jar");

    private Bench() {}

    public static void main(String[] args) throws Exception {
        List<String> words = new ArrayList<>();
        for (String arg : args) {
            String value = arg.startsWith("--args=") ? arg.substring("--args=".length()) : arg;
            words.addAll(Arrays.asList(value.trim().split("\\s+")));
        }
        BenchSettings settings = BenchSettings.parse(words);
        BenchReport report = run(settings);
        System.out.println();
        System.out.println(report.text());
        System.out.println("Markdown written to " + settings.resultsFile().toAbsolutePath());
        System.exit(0); // gRPC and Vert.x threads of the baselines' clients need not linger
    }

    /** Runs the workloads of {@code settings} and returns their report (also written to its results file). */
    public static BenchReport run(BenchSettings settings) throws Exception {
        Instant startedAt = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        BenchReport report = new BenchReport(settings, startedAt, MachineFacts.collect());
        System.out.println("state-versions benchmark, " + report.machine().oneLine());
        System.out.println("settings: " + settings);
        Path work = settings.workDir().toAbsolutePath().normalize();
        deleteRecursively(work);
        Files.createDirectories(work);
        Path logs = settings.resultsFile().toAbsolutePath().getParent();

        Optional<Path> etcdBinary = Processes.Etcd.find(settings.etcd());
        if (etcdBinary.isEmpty()) {
            String message = "etcd binary \"" + settings.etcd() + "\" not found (install Debian's etcd-server:"
                    + " apt-get install etcd-server, or pass etcd=/path/to/etcd)";
            if (settings.requireEtcd()) {
                throw new IllegalStateException("!!! " + message + "; the etcd baseline is part of the full run");
            }
            System.out.println("!!! SKIPPED the etcd baseline: " + message);
            report.note("etcd baseline skipped: " + message);
        }

        try (EmbeddedPostgresServer postgres = EmbeddedPostgresServer.start(work.resolve("postgres"), 0, true);
                Processes.Etcd etcd = etcdBinary.isPresent()
                        ? Processes.Etcd.start(etcdBinary.get(), work.resolve("etcd"), logs.resolve("etcd.log"))
                        : null) {
            report.machine().storage("PostgreSQL " + postgres.version() + " (embedded, fsync on)"
                    + (etcd != null ? ", etcd " + etcd.version() : ", no etcd"));
            System.out.println("storage: " + report.machine().storageLine());
            try (Processes.Service service = Processes.Service.start(SERVICE_JAR, postgres.url(),
                    work.resolve("service"), settings.serviceJava(), settings.serviceJvmOptions(),
                    logs.resolve("service.log"));
                    ServiceGrpc grpc = new ServiceGrpc(service.port(), settings.grpcChannels())) {
                CpuTime.Source postgresCpu = CpuTime.processTree(CpuTime.postmasterPid(work.resolve("postgres")
                        .resolve("postgres")));
                long rssAtReady = service.residentBytes();
                System.out.printf("service ready after %d ms (RSS %d MiB)%n", service.startupMillis(),
                        rssAtReady >> 20);
                // The raw baselines get a database of their own: the service's table holds only the service's keys.
                // So does the second, secured service of the TLS workload (a deployment of its own), and the fresh
                // service of the memory workload, whose resident set should hold its shards only.
                Vertx setup = Vertx.vertx();
                String rawUrl;
                String secureUrl;
                String memoryUrl;
                try {
                    rawUrl = TestDatabases.urlOf(postgres.url(), TestDatabases.create(setup, postgres.url(), "raw"));
                    secureUrl = TestDatabases.urlOf(postgres.url(), TestDatabases.create(setup, postgres.url(),
                            "secure"));
                    memoryUrl = TestDatabases.urlOf(postgres.url(), TestDatabases.create(setup, postgres.url(),
                            "memory"));
                } finally {
                    setup.close();
                }
                new Workloads(settings, report, rawUrl, etcd, service, grpc, secureUrl, memoryUrl, postgresCpu, work,
                        logs).run(rssAtReady);
                // The service's own meters (consensus and machine timings, batch sizes) for a closer look.
                java.net.http.HttpResponse<String> metrics = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                                + service.managementPort() + "/q/metrics")).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
                Files.writeString(logs.resolve("service-metrics.txt"), metrics.body());
                long serializationRetries = Math.round(metric(metrics.body(),
                        "stateversions_consensus_operation_seconds_count{op=\"compare_and_set\",outcome=\"determinate\"}"));
                report.note("the service's compare-and-sets that PostgreSQL aborted determinately (40001 serialization"
                        + " failures, retried by the service): " + serializationRetries);
                if (ServiceGrpc.SETUP_RETRIES.sum() > 0) {
                    report.note("set-up calls (opening shards, registering writers) retried after the service answered"
                            + " outcome-unknown/unavailable: " + ServiceGrpc.SETUP_RETRIES.sum());
                }
            }
        } finally {
            deleteRecursively(work);
        }
        Files.createDirectories(settings.resultsFile().toAbsolutePath().getParent());
        Files.writeString(settings.resultsFile(), report.markdown());
        return report;
    }

    /** The workloads, in an order that lets later ones use earlier results (peak throughput, diff size). */
    private static final class Workloads {

        private final BenchSettings settings;
        private final BenchReport report;
        private final String rawUrl;
        private final Processes.Etcd etcd;
        private final Processes.Service service;
        private final ServiceGrpc grpc;
        private final String secureUrl;
        private final String memoryUrl;
        private final Path work;
        private final Path logs;
        /** What a contender of the service keeps busy: the service, PostgreSQL, and this JVM. */
        private final CpuTime.Meter serviceCpu;
        /** What the raw PostgreSQL baselines keep busy. */
        private final CpuTime.Meter rawCpu;
        /** What the etcd baseline keeps busy. */
        private final CpuTime.Meter etcdCpu;
        private Measurement rawSingleShard;
        private Measurement grpcPeak;
        private int valueBytes;

        Workloads(BenchSettings settings, BenchReport report, String rawUrl, Processes.Etcd etcd,
                Processes.Service service, ServiceGrpc grpc, String secureUrl, String memoryUrl,
                CpuTime.Source postgresCpu, Path work, Path logs) {
            this.secureUrl = secureUrl;
            this.memoryUrl = memoryUrl;
            CpuTime.Meter loadGenerator = new CpuTime.Meter(java.util.Map.of(CpuTime.LOAD_GENERATOR,
                    CpuTime.thisProcess()));
            this.rawCpu = loadGenerator.with(CpuTime.POSTGRES, postgresCpu);
            this.serviceCpu = rawCpu.withServiceJvm(service.process().pid());
            this.etcdCpu = etcd == null ? CpuTime.Meter.NONE : loadGenerator.with(CpuTime.ETCD, etcd.cpu());
            this.work = work;
            this.logs = logs;
            this.settings = settings;
            this.report = report;
            this.rawUrl = rawUrl;
            this.etcd = etcd;
            this.service = service;
            this.grpc = grpc;
            this.valueBytes = settings.baselineValueBytes();
        }

        void run(long rssAtReady) throws Exception {
            warmUpService();
            if (settings.runs("p1")) {
                p1();
            }
            if (settings.runs("p2")) {
                p2();
            }
            if (settings.runs("p3")) {
                p3();
            }
            if (settings.runs("p4")) {
                p4();
            }
            if (settings.runs("p6")) {
                p6();
            }
            if (settings.runs("p5")) {
                p5();
            }
            if (settings.runs("p9")) {
                p9();
            }
            if (settings.runs("startup")) {
                startup(rssAtReady);
            }
            if (settings.runs("floor")) {
                floor();
            }
            if (settings.runs("tls")) {
                tls();
            }
            if (settings.runs("memory")) {
                memory();
            }
        }

        /**
         * TLS: P1's gRPC appends (one client, one shard) against a second service (same PostgreSQL server, a database
         * of its own) with security
         * on as the Kubernetes manifests turn it on (TLS only, every call with a bearer token checked), next to the
         * plaintext service: what security costs one appender. Certificates and the token are the tests' own.
         */
        private void tls() throws Exception {
            System.out.println("TLS: sequential appends to one shard over TLS with a bearer token");
            Path material = work.resolve("tls");
            io.stateversions.testing.TestPki pki = io.stateversions.testing.TestPki.in(material);
            io.stateversions.testing.TestPki.Issued server = pki.server("server");
            io.stateversions.testing.TestTokens tokens = io.stateversions.testing.TestTokens.in(material);
            List<String> options = new ArrayList<>(settings.serviceJvmOptions());
            options.addAll(List.of("-Dstateversions.security.enabled=true",
                    "-Dquarkus.http.tls-configuration-name=api",
                    "-Dquarkus.tls.api.key-store.pem.0.cert=" + server.cert(),
                    "-Dquarkus.tls.api.key-store.pem.0.key=" + server.key(),
                    "-Dmp.jwt.verify.publickey.location=" + tokens.publicKey(),
                    "-Dmp.jwt.verify.issuer=" + io.stateversions.testing.TestTokens.ISSUER,
                    "-Dmp.jwt.verify.audiences=" + io.stateversions.testing.TestTokens.AUDIENCE));
            try (Processes.Service secure = Processes.Service.start(SERVICE_JAR, secureUrl, work.resolve("service-tls"),
                    settings.serviceJava(), options, logs.resolve("service-tls.log"), true);
                    ServiceGrpc secureGrpc = new ServiceGrpc(secure.port(), settings.grpcChannels(), pki.caFile(),
                            tokens.token("bench", java.util.Set.of("admin")))) {
                // A fresh JVM: warmed up as the main service was (gRPC only: that is what is measured), so that the
                // ratio is security's cost, not its JIT compiler's (measured without: 360/s in the first round, 630/s
                // in the second).
                if (!settings.serviceWarmup().isZero()) {
                    try (Appends warming = new ServiceGrpc.GrpcAppends(secureGrpc, settings.payloadBytes())) {
                        warming.prepare(64);
                        warmUp("TLS service", secure, List.of(new WarmUpPhase("gRPC, 16 clients", warming, 64, 16),
                                new WarmUpPhase("gRPC, 1 client", warming, 1, 1)));
                    }
                }
                List<Measurement> measured = compare("TLS", 1, 1, List.of(
                        new Target("service gRPC", new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes()),
                                serviceCpu),
                        new Target("service gRPC, TLS + token",
                                new ServiceGrpc.GrpcAppends(secureGrpc, settings.payloadBytes()),
                                serviceCpu.withServiceJvm(secure.process().pid()))));
                Measurement plain = measured.get(0);
                Measurement secured = measured.get(1);
                report.add(BenchReport.Row.value("TLS", "appends/s, 1 shard, 1 client (gRPC): TLS + bearer token vs"
                        + " plaintext", String.format("%.0f/s vs %.0f/s (%.2fx; p50 %.2f vs %.2f ms)",
                        secured.perSecond(), plain.perSecond(), secured.perSecond() / plain.perSecond(),
                        secured.p50Millis(), plain.p50Millis()), "(no goal)", null)
                        .withOperations(secured.operations()));
            }
        }

        /** P1: one client appending to one shard, one append after the other. */
        private void p1() throws Exception {
            System.out.println("P1: sequential appends to one shard");
            ensureValueBytes(null);
            // Empty appends merge into one batch, so that shard's state does not grow: the difference to the first
            // target is the cost of a state that grows by one batch per append (nobody compacts here).
            List<Measurement> measured = compare("P1", 1, 1, List.of(
                    new Target("service gRPC", new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes()), serviceCpu),
                    new Target("service REST", new ServiceRestAppends(this.service.port(), settings.payloadBytes()),
                            serviceCpu),
                    new Target("raw PostgreSQL", raw(), rawCpu),
                    new Target("etcd", etcd == null ? null : new EtcdAppends(etcd.clientPort(), valueBytes), etcdCpu),
                    new Target("service gRPC, empty", new ServiceGrpc.GrpcAppends(grpc, -1), serviceCpu)));
            Measurement service = measured.get(0);
            Measurement rest = measured.get(1);
            rawSingleShard = measured.get(2);
            Optional<Measurement> etcdOne = Optional.ofNullable(measured.get(3));
            Measurement empty = measured.get(4);
            report.add(BenchReport.Row.ratio("P1", "appends/s, 1 shard, 1 client (gRPC)", service, rawSingleShard,
                    etcdOne, service.perSecond() / rawSingleShard.perSecond(), "service / raw PG >= 0.6", 0.6));
            report.add(BenchReport.Row.ratio("P1", "appends/s, 1 shard, 1 client (REST)", rest, rawSingleShard,
                    etcdOne, rest.perSecond() / rawSingleShard.perSecond(), "(no goal)", null));
            report.add(BenchReport.Row.ratio("P1", "same with empty appends (state does not grow) (gRPC)", empty,
                    rawSingleShard, etcdOne, empty.perSecond() / rawSingleShard.perSecond(), "(no goal)", null));
        }

        /**
         * Drives the service before anything is measured, on shards no workload measures, in rounds of four phases:
         * gRPC and REST appends from 16 clients over 64 shards (P2's shape), then from one client to one shard (P1's:
         * a compare-and-set alone, no batching). A fresh JVM interprets the code it has not compiled yet, and its JIT
         * compilers then compete with the workload for the machine's cores: measured on 2 cores, after 30 s of the
         * first shape alone the compilers still took 25 to 80 % of a core during P1's first round, whose rate was 20
         * % below its second's. So the warm-up lasts at least {@code service-warmup} and then goes on, up to
         * {@code service-warmup-max}, until a round compiled for less than 5 % of its time (the service's compile
         * time, from {@code jstat}). Nothing is measured; a note says how it ended.
         */
        private void warmUpService() throws Exception {
            if (settings.serviceWarmup().isZero()
                    || settings.workloads().stream().noneMatch(w -> List.of("p1", "p2", "p3", "p4", "tls")
                            .contains(w))) {
                return;
            }
            try (Appends grpcAppends = new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes());
                    Appends restAppends = new ServiceRestAppends(this.service.port(), settings.payloadBytes())) {
                grpcAppends.prepare(64);
                restAppends.prepare(64);
                warmUp("service", service, List.of(new WarmUpPhase("gRPC, 16 clients", grpcAppends, 64, 16),
                        new WarmUpPhase("REST, 16 clients", restAppends, 64, 16),
                        new WarmUpPhase("gRPC, 1 client", grpcAppends, 1, 1),
                        new WarmUpPhase("REST, 1 client", restAppends, 1, 1)));
            }
        }

        /** One phase of a warm-up round: {@code clients} clients appending over {@code shards} prepared shards. */
        private record WarmUpPhase(String name, Appends appends, int shards, int clients) {}

        /**
         * Drives {@code process} in rounds of {@code phases} for at least {@code service-warmup}, then, up to {@code
         * service-warmup-max}, until a round in which its JIT compilers were busy less than 5 % of the time; prints
         * each round and adds a note saying how it ended.
         */
        private void warmUp(String what, Processes.Service process, List<WarmUpPhase> phases) throws Exception {
            long min = settings.serviceWarmup().toNanos();
            long max = Math.max(min, settings.serviceWarmupMax().toNanos());
            // Each phase an eighth of the least warm-up, 250 ms to 5 s: at least two rounds of four phases.
            java.time.Duration phase = java.time.Duration.ofNanos(Math.min(java.time.Duration.ofSeconds(5).toNanos(),
                    Math.max(java.time.Duration.ofMillis(250).toNanos(), min / 8)));
            java.time.Duration record = phase.dividedBy(5);
            java.time.Duration before = phase.minus(record);
            Optional<CompilerTime> compiler = CompilerTime.of(process.process().pid());
            System.out.printf("warming the %s up for %d to %d s (not measured)%n", what,
                    settings.serviceWarmup().toSeconds(), java.time.Duration.ofNanos(max).toSeconds());
            long started = System.nanoTime();
            int rounds = 0;
            double lastShare = Double.NaN;
            while (true) {
                double compiledBefore = compiler.isPresent() ? compiler.get().seconds() : 0;
                long roundStarted = System.nanoTime();
                for (WarmUpPhase p : phases) {
                    closedLoop(what + " warm-up (" + p.name() + ")", p.appends(), p.shards(), p.clients(), before,
                            record, CpuTime.Meter.NONE);
                }
                rounds++;
                long now = System.nanoTime();
                if (compiler.isPresent()) {
                    lastShare = (compiler.get().seconds() - compiledBefore) / ((now - roundStarted) / 1e9);
                    System.out.printf("  warm-up round %d: the %s's JIT compilers busy %.1f %% of it%n", rounds, what,
                            100 * lastShare);
                }
                boolean quiet = compiler.isPresent() && lastShare < 0.05;
                if (now - started >= max || (now - started >= min && (quiet || compiler.isEmpty()))) {
                    break;
                }
            }
            long seconds = Math.round((System.nanoTime() - started) / 1e9);
            report.note(compiler.isEmpty()
                    ? String.format("%s warm-up: %d s (the compilers' time could not be read)", what, seconds)
                    : String.format("%s warm-up: %d s in %d rounds; its JIT compilers were busy %.1f %% of the last"
                            + " round%s", what, seconds, rounds, 100 * lastShare, lastShare < 0.05 ? ""
                                    : " (stopped at service-warmup-max)"));
        }

        /** P2: {@code clients} clients appending over {@code shards} shards, each client to its own shards in turn. */
        private void p2() throws Exception {
            int shards = settings.shards();
            int clients = Math.min(settings.clients(), shards);
            System.out.printf("P2: appends over %d shards from %d clients%n", shards, clients);
            ensureValueBytes(null);
            List<Measurement> measured = compare("P2", shards, clients, List.of(
                    new Target("service gRPC", new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes()), serviceCpu),
                    new Target("service REST", new ServiceRestAppends(this.service.port(), settings.payloadBytes()),
                            serviceCpu),
                    new Target("raw PostgreSQL", raw(), rawCpu),
                    new Target("etcd", etcd == null ? null : new EtcdAppends(etcd.clientPort(), valueBytes), etcdCpu),
                    new Target("raw PostgreSQL, grouped", rawGrouped(), rawCpu)));
            Measurement service = measured.get(0);
            grpcPeak = service;
            Measurement rest = measured.get(1);
            Measurement raw = measured.get(2);
            Optional<Measurement> etcdMany = Optional.ofNullable(measured.get(3));
            Measurement grouped = measured.get(4);
            report.add(BenchReport.Row.ratio("P2", "appends/s, " + shards + " shards, " + clients + " clients (gRPC)",
                    service, raw, etcdMany, service.perSecond() / raw.perSecond(), "service / raw PG >= 1.0", 1.0));
            report.add(BenchReport.Row.ratio("P2", "same, against raw PostgreSQL grouped (the service's group"
                    + " commit driven directly) (gRPC)", service, grouped, etcdMany,
                    service.perSecond() / grouped.perSecond(), "(reported)", null));
            if (etcdMany.isPresent()) {
                report.add(BenchReport.Row.ratio("P2", "same, against etcd (gRPC)", service, raw, etcdMany,
                        service.perSecond() / etcdMany.get().perSecond(), "service / etcd >= 1.5", 1.5));
            } else {
                report.add(BenchReport.Row.skipped("P2", "same, against etcd (gRPC)", service, raw,
                        "service / etcd >= 1.5", "etcd not installed"));
            }
            report.add(BenchReport.Row.ratio("P2", "appends/s, " + shards + " shards, " + clients + " clients (REST)",
                    rest, raw, etcdMany, rest.perSecond() / raw.perSecond(), "(no goal)", null));
        }

        /**
         * P3: one shard, {@code clients} clients: one writer appending, the others leased readers alternating
         * heartbeats and downgrades of their since to the writer's latest upper. Commands per second, against the
         * compare-and-sets per second one shard gets from raw PostgreSQL (P1's raw number).
         */
        private void p3() throws Exception {
            int clients = Math.max(2, settings.clients());
            System.out.printf("P3: heartbeats, downgrades and appends on one shard from %d clients%n", clients);
            if (rawSingleShard == null) {
                rawSingleShard = appends("P3", "raw PostgreSQL", raw(), 1, 1, rawCpu);
            }
            String shard = ServiceGrpc.newShardId();
            String writer = "w" + java.util.UUID.randomUUID();
            grpc.openShard(shard, 0);
            grpc.registerWriter(shard, writer, 0);
            byte[] payload = new byte[settings.payloadBytes()];
            AtomicLong upper = new AtomicLong();
            long seqnoBefore = grpc.getState(shard, 0).getSeqno();
            Measurement commands = ClosedLoop.run("service gRPC", clients, settings.warmup(), settings.duration(),
                    serviceCpu, index -> {
                        if (index == 0) {
                            return () -> {
                                long lower = upper.get();
                                grpc.blocking(0).compareAndAppend(ServiceGrpc.append(shard, writer, lower, payload));
                                upper.set(lower + 1);
                            };
                        }
                        String reader = grpc.registerLeasedReader(shard, index);
                        boolean[] heartbeatNext = {true};
                        return () -> {
                            if (heartbeatNext[0]) {
                                grpc.heartbeat(shard, reader, index);
                            } else {
                                grpc.downgradeSince(shard, reader, upper.get(), index);
                            }
                            heartbeatNext[0] = !heartbeatNext[0];
                        };
                    });
            long versions = grpc.getState(shard, 0).getSeqno() - seqnoBefore;
            System.out.println("  " + commands);
            report.cpu("P3", commands);
            System.out.printf("  %d versions committed for all commands (warm-up included): %d appends%n", versions,
                    upper.get());
            report.add(BenchReport.Row.ratio("P3", "commands/s on 1 shard, " + clients + " clients (1 appender, "
                    + (clients - 1) + " readers heartbeating/downgrading)", commands, rawSingleShard, Optional.empty(),
                    commands.perSecond() / rawSingleShard.perSecond(), "service cmds / raw 1-shard CaS >= 3", 3.0)
                    .withoutEtcd());
        }

        /** P4: gRPC appends over {@code shards} shards at half of P2's peak, open loop; p99 from the intended send. */
        private void p4() throws Exception {
            if (grpcPeak == null) {
                int clients = Math.min(settings.clients(), settings.shards());
                grpcPeak = appends("P4", "service gRPC (peak)", new ServiceGrpc.GrpcAppends(grpc,
                        settings.payloadBytes()), settings.shards(), clients, serviceCpu);
            }
            double rate = Math.max(1, grpcPeak.perSecond() / 2);
            System.out.printf("P4: appends at half of peak (%.0f/s) over %d shards, open loop%n", rate,
                    settings.shards());
            ServiceGrpc.GrpcAppends appends = new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes());
            appends.prepare(settings.shards());
            Measurement measured = OpenLoop.run("service gRPC", rate, settings.shards(), settings.warmup(),
                    settings.duration(), serviceCpu, appends::appendAsync, Optional.of(logs.resolve("p4-timeline.csv")));
            System.out.println("  " + measured);
            report.cpu("P4", measured);
            // The same open loop against the service's two parts alone: the database (one compare-and-set per
            // transaction, as in P2's raw baseline) and gRPC (the do-nothing server). Their tails at this rate are
            // what the service's p99 sits on.
            Measurement database;
            try (RawPostgresAppends raw = raw()) {
                raw.prepare(settings.shards());
                database = OpenLoop.run("raw PostgreSQL", rate, settings.shards(), settings.warmup(),
                        settings.duration(), rawCpu, raw::appendAsync);
            }
            System.out.println("  " + database);
            report.cpu("P4", database);
            report.add(BenchReport.Row.latency("P4", String.format("p99 append latency at %.0f/s (half of peak), gRPC",
                    rate), measured, database, measured.p99Millis(), "p99 <= 5 ms", 5.0));
            Measurement nothing;
            try (Processes.Floor floor = Processes.Floor.start(logs.resolve("transport-floor-p4.log"));
                    ServiceGrpc floorGrpc = new ServiceGrpc(floor.port(), settings.grpcChannels())) {
                ServiceGrpc.GrpcAppends floorAppends = new ServiceGrpc.GrpcAppends(floorGrpc, settings.payloadBytes());
                floorAppends.prepare(settings.shards());
                nothing = OpenLoop.run("do-nothing gRPC server, as P4", rate, settings.shards(), settings.warmup(),
                        settings.duration(), floorCpu(floor), floorAppends::appendAsync);
            }
            System.out.println("  " + nothing);
            report.cpu("floor", nothing);
            report.add(BenchReport.Row.tails("floor", String.format("gRPC transport floor, as P4 (open loop at %.0f/s"
                    + " over %d shards): do-nothing server vs service", rate, settings.shards()), nothing, measured));
        }

        /** P6: the encoded diff of one append to a shard that holds {@code p6Batches} batches. */
        private void p6() throws Exception {
            int batches = settings.p6Batches();
            System.out.printf("P6: diff size of one append to a shard of %d batches%n", batches);
            ServiceGrpc.GrpcAppends appends = new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes());
            appends.prepare(1);
            long started = System.nanoTime();
            java.util.Map<String, Long> cpuBefore = serviceCpu.read();
            for (int i = 0; i < batches; i++) {
                appends.append(0);
            }
            report.cpu(new BenchReport.CpuRow("P6", "service gRPC, building the " + batches + "-batch shard", batches,
                    CpuTime.Meter.between(cpuBefore, serviceCpu.read())));
            System.out.printf("  %d appends in %.1f s%n", batches, (System.nanoTime() - started) / 1e9);
            String shard = appends.shardId(0);
            long batchCount = grpc.getState(shard, 0).getStats().getBatchCount();
            CompareAndAppendResponse last = grpc.blocking(0).compareAndAppend(ServiceGrpc.append(shard,
                    appends.writerId(0), batches, new byte[settings.payloadBytes()]));
            long diffBytes = diffBytesOf(shard, last.getSeqno());
            System.out.printf("  shard held %d batches; the append's diff (v%d) is %d bytes%n", batchCount,
                    last.getSeqno(), diffBytes);
            report.add(BenchReport.Row.value("P6", "encoded diff of 1 append to a shard of " + batchCount + " batches",
                    diffBytes + " B", "<= 1 KiB", diffBytes <= 1024));
        }

        /** P5: fetching the current state of a shard with a long history against one with a short history. */
        private void p5() throws Exception {
            System.out.printf("P5: current-state fetch, %d versions of history against %d%n", settings.historyLarge(),
                    settings.historySmall());
            String small = shardWithHistory(settings.historySmall());
            String large = shardWithHistory(settings.historyLarge());
            Measurement fetchSmall = ClosedLoop.run("GetState, " + settings.historySmall() + " versions", 1,
                    settings.warmup(), settings.fetchDuration(), serviceCpu, index -> () -> grpc.getState(small, 0));
            Measurement fetchLarge = ClosedLoop.run("GetState, " + settings.historyLarge() + " versions", 1,
                    settings.warmup(), settings.fetchDuration(), serviceCpu, index -> () -> grpc.getState(large, 0));
            System.out.println("  " + fetchSmall);
            System.out.println("  " + fetchLarge);
            report.cpu("P5", fetchSmall);
            report.cpu("P5", fetchLarge);
            double ratio = fetchLarge.p50Millis() / fetchSmall.p50Millis();
            report.add(BenchReport.Row.fetch("P5", "current-state fetch (GetState p50), " + settings.historyLarge()
                    + " vs " + settings.historySmall() + " versions", fetchLarge, fetchSmall, ratio, "<= 1.2x", 1.2));
        }

        /**
         * P9: P1's appends (one client, one part each) to a shard that already holds {@code p9Batches} uncompacted
         * batches, against appends to shards of {@code p9SmallBatches}, in interleaved rounds: an append should cost
         * the same whatever the size of the state (see {@link FilledShardAppends} for how each side is built and why
         * the small side is a ring of shards).
         */
        private void p9() throws Exception {
            int batches = settings.p9Batches();
            int smallBatches = Math.max(1, settings.p9SmallBatches());
            System.out.printf("P9: appends to a shard of %d batches against shards of %d%n", batches, smallBatches);
            FilledShardAppends large = FilledShardAppends.large(grpc, settings.payloadBytes(), batches, serviceCpu);
            // The small shards may cost at most as many appends to build as the large one.
            FilledShardAppends small = FilledShardAppends.small(grpc, settings.payloadBytes(), smallBatches,
                    measuredTimePerTarget(), Math.max(1, batches / smallBatches), settings.clients());
            List<Measurement> measured = compare("P9", 1, 1, List.of(
                    new Target("service gRPC, " + batches + " batches", large, serviceCpu),
                    new Target("service gRPC, " + smallBatches + " batches", small, serviceCpu)));
            report.cpu(large.buildCpu());
            Measurement onLarge = measured.get(0);
            Measurement onSmall = measured.get(1);
            report.add(BenchReport.Row.versus("P9", "appends/s, 1 client (gRPC): shard of " + batches
                    + " batches vs shards of " + smallBatches, onLarge, onSmall,
                    onLarge.perSecond() / onSmall.perSecond(), "large / small >= 0.8", 0.8));
            report.note("P9: large: " + large.description() + "; small: " + small.description() + ".");
        }

        /** The time {@link #compare} runs each target: its warm-ups and its share of the recorded rounds. */
        private java.time.Duration measuredTimePerTarget() {
            int rounds = Math.max(1, settings.rounds());
            return settings.warmup().plus(settings.warmup().dividedBy(2).multipliedBy(rounds - 1L))
                    .plus(settings.duration());
        }

        /**
         * The transport floor: P1's and P2's gRPC appends against a server that does nothing ({@link TransportFloor},
         * in a JVM of its own, so that its CPU time is its own), next to the service in the same interleaved rounds:
         * what gRPC itself costs on this machine, and so how much of the service's gap it explains.
         */
        private void floor() throws Exception {
            System.out.println("Transport floor: gRPC appends against a server that does nothing");
            try (Processes.Floor floor = Processes.Floor.start(logs.resolve("transport-floor.log"));
                    ServiceGrpc floorGrpc = new ServiceGrpc(floor.port(), settings.grpcChannels())) {
                CpuTime.Meter floorCpu = floorCpu(floor);
                int shards = settings.shards();
                int clients = Math.min(settings.clients(), shards);
                for (int[] shape : new int[][] {{1, 1}, {shards, clients}}) {
                    String as = shape[1] == 1 ? "as P1" : "as P2";
                    System.out.printf("  %s: %d shard(s), %d client(s)%n", as, shape[0], shape[1]);
                    List<Measurement> measured = compare("floor", shape[0], shape[1], List.of(
                            new Target("service gRPC, " + as, new ServiceGrpc.GrpcAppends(grpc,
                                    settings.payloadBytes()), serviceCpu),
                            new Target("do-nothing gRPC server, " + as, new ServiceGrpc.GrpcAppends(floorGrpc,
                                    settings.payloadBytes()), floorCpu)));
                    Measurement appended = measured.get(0);
                    Measurement nothing = measured.get(1);
                    String load = shape[1] == 1 ? "1 shard, 1 client" : shape[0] + " shards, " + shape[1] + " clients";
                    report.add(BenchReport.Row.versus("floor", "gRPC transport floor, " + as + " (" + load
                            + "): do-nothing server vs service", nothing, appended,
                            appended.perSecond() / nothing.perSecond(), "(service / do-nothing)", null));
                }
            }
        }

        /** The do-nothing server's CPU in the service's column, and the load generator's; no PostgreSQL. */
        private CpuTime.Meter floorCpu(Processes.Floor floor) {
            return rawCpu.without(CpuTime.POSTGRES).withServiceJvm(floor.process().pid());
        }

        /**
         * Memory: a service of its own (a fresh process on a database of its own, so that its memory holds these
         * shards only) gets {@code memoryShards} shards, each opened, given a writer and appended to once by
         * {@code clients} clients at once; then its resident set size and heap in use are read, and 1,000 shards
         * picked at random are read back.
         */
        private void memory() throws Exception {
            int shards = settings.memoryShards();
            int clients = Math.max(1, settings.clients());
            System.out.printf("Memory: %d shards opened and appended to once by %d clients, on a service of its own%n",
                    shards, clients);
            try (Processes.Service fresh = Processes.Service.start(SERVICE_JAR, memoryUrl,
                    work.resolve("service-memory"), settings.serviceJava(), settings.serviceJvmOptions(),
                    logs.resolve("service-memory.log"));
                    ServiceGrpc freshGrpc = new ServiceGrpc(fresh.port(), settings.grpcChannels())) {
                long rssAtReady = fresh.residentBytes();
                CpuTime.Meter cpu = serviceCpu.withServiceJvm(fresh.process().pid());
                OnceAppendedShards created = new OnceAppendedShards(freshGrpc, shards, settings.payloadBytes());
                java.util.Map<String, Long> cpuBefore = cpu.read();
                created.create(clients);
                report.cpu(new BenchReport.CpuRow("memory", "service gRPC, a shard opened, given a writer and"
                        + " appended to once", shards, CpuTime.Meter.between(cpuBefore, cpu.read())));
                long rss = fresh.residentBytes();
                long peak = fresh.peakResidentBytes();
                long heap = fresh.heapUsedBytes();
                int sample = Math.min(1000, shards);
                List<String> failures = created.check(sample, new java.util.Random());
                failures.stream().limit(10).forEach(failure -> System.out.println("  !!! " + failure));
                long limit = 512L << 20;
                String details = String.format("RSS %d MiB (peak %d MiB, %d MiB at ready), heap used %s; %d of %d"
                        + " shards read back wrong", rss >> 20, peak >> 20, rssAtReady >> 20,
                        heap > 0 ? (heap >> 20) + " MiB" : "not reported", failures.size(), sample);
                System.out.println("  " + details);
                report.add(new BenchReport.Row("memory", "RSS with " + shards + " shards opened and appended to once"
                        + " (a service of its own); " + sample + " read back", details,
                        "", "", (rss >> 20) + " MiB, " + failures.size() + " wrong",
                        "RSS <= 512 MiB, every shard read back holds its batch",
                        rss <= limit && failures.isEmpty(), shards));
                if (!failures.isEmpty()) {
                    report.note("memory: shards read back wrong (first 10): " + String.join("; ",
                            failures.subList(0, Math.min(10, failures.size()))));
                }
            }
        }

        /** Start-up to ready, and the resident set size at ready (the memory workload measures it with shards). */
        private void startup(long rssAtReady) {
            report.add(BenchReport.Row.value("start", "start-up to /q/health/ready UP (on running PostgreSQL)",
                    service.startupMillis() + " ms", "(no goal)", null));
            report.add(BenchReport.Row.value("start", "RSS at ready", (rssAtReady >> 20) + " MiB", "(no goal)", null));
        }

        /** A fresh shard with {@code versions} versions: empty appends (no parts), so its state stays small. */
        private String shardWithHistory(int versions) throws Exception {
            String shard = ServiceGrpc.newShardId();
            String writer = "w" + java.util.UUID.randomUUID();
            grpc.openShard(shard, 0);
            grpc.registerWriter(shard, writer, 0);
            long started = System.nanoTime();
            long seqno = grpc.getState(shard, 0).getSeqno();
            long lower = 0;
            while (seqno < versions) {
                seqno = grpc.blocking(0).compareAndAppend(ServiceGrpc.append(shard, writer, lower, null)).getSeqno();
                lower++;
            }
            ListVersionsResponse live = grpc.versions(shard, 0, 0);
            System.out.printf("  %s: %d versions in %.1f s (live now: v%d..v%d)%n", shard, seqno,
                    (System.nanoTime() - started) / 1e9, live.getEarliest(), live.getCurrent());
            return shard;
        }

        /**
         * One contender of a comparison; {@code appends} is null for a baseline that is not installed. {@code cpu}
         * names the processes it keeps busy.
         */
        private record Target(String name, Appends appends, CpuTime.Meter cpu) {}

        /**
         * Measures the targets against each other in {@code rounds} interleaved rounds (forward, then backward, …),
         * each recording {@code duration / rounds}, so that a load that comes and goes on a shared machine falls on
         * all of them alike. Each target gets its shards once; its measurement is the sum of its rounds, and its CPU
         * time per operation is reported under {@code workload}. Returns the measurements in the order of
         * {@code targets} (null for a missing target).
         */
        private List<Measurement> compare(String workload, int shards, int clients, List<Target> targets)
                throws Exception {
            List<Measurement> totals = new ArrayList<>();
            try {
                for (Target target : targets) {
                    if (target.appends() != null) {
                        target.appends().prepare(shards);
                    }
                    totals.add(null);
                }
                int rounds = Math.max(1, settings.rounds());
                java.time.Duration slice = settings.duration().dividedBy(rounds);
                for (int round = 0; round < rounds; round++) {
                    for (int k = 0; k < targets.size(); k++) {
                        int i = round % 2 == 0 ? k : targets.size() - 1 - k;
                        Target target = targets.get(i);
                        if (target.appends() == null) {
                            continue;
                        }
                        java.time.Duration warmup = round == 0 ? settings.warmup() : settings.warmup().dividedBy(2);
                        Measurement part = closedLoop(target.name(), target.appends(), shards, clients, warmup, slice,
                                target.cpu());
                        totals.set(i, totals.get(i) == null ? part : totals.get(i).plus(part));
                    }
                }
            } finally {
                for (Target target : targets) {
                    if (target.appends() != null) {
                        target.appends().close();
                    }
                }
            }
            for (Measurement total : totals) {
                if (total != null) {
                    System.out.println("  total " + total);
                    report.cpu(workload, total);
                }
            }
            return totals;
        }

        private Measurement closedLoop(String target, Appends appends, int shards, int clients,
                java.time.Duration warmup, java.time.Duration duration, CpuTime.Meter cpu) throws Exception {
            Measurement measured = ClosedLoop.run(target, clients, warmup, duration, cpu, index -> {
                int[] next = {index};
                return () -> {
                    appends.append(next[0]);
                    next[0] += clients;
                    if (next[0] >= shards) {
                        next[0] = index;
                    }
                };
            });
            System.out.println("  " + measured);
            return measured;
        }

        /** One measurement of {@code appends} alone (where a workload needs a number its comparison did not give). */
        private Measurement appends(String workload, String target, Appends appends, int shards, int clients,
                CpuTime.Meter cpu) throws Exception {
            try (appends) {
                appends.prepare(shards);
                Measurement measured = closedLoop(target, appends, shards, clients, settings.warmup(),
                        settings.duration(), cpu);
                report.cpu(workload, measured);
                return measured;
            }
        }

        /** Raw PostgreSQL, one compare-and-set per statement and transaction. */
        private RawPostgresAppends raw() throws Exception {
            ensureValueBytes(null);
            return new RawPostgresAppends(rawUrl, settings.poolSize(), valueBytes, false);
        }

        /** Raw PostgreSQL with the service's group commit. */
        private RawPostgresAppends rawGrouped() throws Exception {
            ensureValueBytes(null);
            return new RawPostgresAppends(rawUrl, settings.poolSize(), valueBytes, true);
        }

        /** The baselines' value size: the median encoded diff of the service's appends to {@code shard}. */
        private void ensureValueBytes(String shard) throws Exception {
            if (valueBytes > 0) {
                return;
            }
            if (shard == null) {
                ServiceGrpc.GrpcAppends appends = new ServiceGrpc.GrpcAppends(grpc, settings.payloadBytes());
                appends.prepare(1);
                for (int i = 0; i < 200; i++) {
                    appends.append(0);
                }
                shard = appends.shardId(0);
            }
            ListVersionsResponse page = grpc.versions(shard, 0, 0);
            ListVersionsResponse recent = grpc.versions(shard, Math.max(page.getEarliest(), page.getCurrent() - 199), 0);
            long[] sizes = recent.getVersionsList().stream().mapToLong(VersionInfo::getDiffBytes).sorted().toArray();
            valueBytes = (int) sizes[sizes.length / 2];
            System.out.printf("  baselines write %d-byte values (the median encoded diff of the service's last %d"
                    + " appends)%n", valueBytes, sizes.length);
            report.note("baseline value size: " + valueBytes + " bytes (median encoded diff of the service's appends)");
        }

        private long diffBytesOf(String shard, long seqno) {
            for (VersionInfo version : grpc.versions(shard, seqno, 0).getVersionsList()) {
                if (version.getSeqno() == seqno) {
                    return version.getDiffBytes();
                }
            }
            throw new IllegalStateException("version v" + seqno + " of " + shard + " is not live");
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        if (!Files.exists(root)) {
            return;
        }
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

    /** The value of one Prometheus sample line {@code name{labels} value}, or 0 if absent. */
    static double metric(String exposition, String nameAndLabels) {
        for (String line : exposition.split("\n")) {
            if (line.startsWith(nameAndLabels + " ")) {
                return Double.parseDouble(line.substring(nameAndLabels.length() + 1).trim());
            }
        }
        return 0;
    }

    static long elapsedMillis(long startedNanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startedNanos);
    }
}
