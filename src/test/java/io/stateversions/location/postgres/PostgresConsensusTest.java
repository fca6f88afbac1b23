package io.stateversions.location.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.ConsensusContractTest;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.VersionedData;
import io.stateversions.testing.Appender;
import io.stateversions.testing.CasWorker;
import io.stateversions.testing.TestDatabases;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.SqlConnection;
import jakarta.inject.Inject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * The contract on a real PostgreSQL server (started by the test resources). Each location is a database of its
 * own; a peer is a second connection pool, i.e. what a second replica of the service would be.
 */
@QuarkusTest
class PostgresConsensusTest extends ConsensusContractTest {

    private static final PostgresPools.Settings SETTINGS =
            new PostgresPools.Settings(8, Duration.ofSeconds(10), Duration.ofMinutes(5), Duration.ofSeconds(5),
                    Duration.ofSeconds(30));

    @Inject
    Vertx vertx;

    @ConfigProperty(name = "test.postgres.url")
    String serverUrl;

    /** The database of each client this test opened. */
    private final Map<Consensus, String> databaseOf = new IdentityHashMap<>();

    @Override
    protected Consensus open() {
        return at(newDatabase(), SETTINGS);
    }

    @Override
    protected Consensus reopen(Consensus consensus) {
        consensus.close();
        return at(databaseOf.get(consensus), SETTINGS);
    }

    @Override
    protected Consensus peer(Consensus consensus) {
        return at(databaseOf.get(consensus), SETTINGS);
    }

    private String newDatabase() {
        return TestDatabases.create(vertx, serverUrl, "contract");
    }

    private PostgresConsensus at(String database, PostgresPools.Settings settings) {
        PostgresConsensus consensus = PostgresPools.consensus(vertx, urlOf(database), settings, () -> {});
        databaseOf.put(consensus, database);
        return consensus;
    }

    private String urlOf(String database) {
        return TestDatabases.urlOf(serverUrl, database);
    }

    /**
     * Two processes (this JVM and a child JVM), each with four appenders, contend for one key of one database:
     * every commit either process was told about is in the log at its seqno with its payload, nothing else is,
     * and no seqno is skipped.
     */
    @Test
    void twoProcessesAppendingToOneKeyLoseNoCommit() throws Exception {
        String url = urlOf(newDatabase());
        int workers = 4;
        int perWorker = 25;
        String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", classpath, CasWorker.class.getName(), url, "s1", String.valueOf(workers),
                String.valueOf(perWorker), "child-")
                .redirectErrorStream(true).start();
        CompletableFuture<List<String>> childOutput = CompletableFuture.supplyAsync(() -> {
            try (var reader = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                return reader.lines().toList();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        Map<Long, String> committed = new ConcurrentHashMap<>();
        PostgresConsensus consensus = at(databaseOf(url), SETTINGS);
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        try {
            List<java.util.concurrent.Future<?>> local = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                String worker = "parent-" + w;
                local.add(threads.submit(() -> {
                    Appender.append(consensus, "s1", worker, perWorker, (seqno, payload) ->
                            assertThat(committed.put(seqno, payload)).as("v%d committed twice", seqno).isNull());
                    return null;
                }));
            }
            for (var future : local) {
                future.get(120, TimeUnit.SECONDS);
            }
            assertThat(child.waitFor(120, TimeUnit.SECONDS)).as("the child process finished").isTrue();
            List<String> output = childOutput.get(10, TimeUnit.SECONDS);
            assertThat(child.exitValue()).as("child output:%n%s", String.join("\n", output)).isZero();
            assertThat(output).contains("done");
            for (String line : output) {
                if (line.startsWith("committed ")) {
                    String[] parts = line.split(" ", 3);
                    assertThat(committed.put(Long.parseLong(parts[1]), parts[2]))
                            .as("v%s committed by both processes", parts[1]).isNull();
                }
            }
            long total = 2L * workers * perWorker;
            List<VersionedData> log = await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL));
            assertThat(log).extracting(e -> e.seqno().value())
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
            for (VersionedData entry : log) {
                assertThat(new String(entry.data(), StandardCharsets.UTF_8)).as("payload at %s", entry.seqno())
                        .isEqualTo(committed.get(entry.seqno().value()));
            }
            assertThat(committed.values()).anyMatch(p -> p.startsWith("child-")).anyMatch(p -> p.startsWith("parent-"));
        } finally {
            threads.shutdownNow();
            child.destroyForcibly();
            consensus.close();
        }
    }

    private String databaseOf(String url) {
        return url.substring(url.lastIndexOf('/') + 1);
    }

    @Test
    void replicasStartingTogetherCreateTheSchemaOnce() {
        String database = newDatabase();
        List<PostgresConsensus> replicas = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                replicas.add(at(database, SETTINGS));
            }
            CompletableFuture<?>[] prepared = replicas.stream()
                    .map(replica -> replica.prepare().toCompletableFuture()).toArray(CompletableFuture[]::new);
            await(CompletableFuture.allOf(prepared));
            for (PostgresConsensus replica : replicas) {
                assertThat(await(replica.prepare())).isEqualTo(PostgresConsensus.Dialect.POSTGRES);
            }
            assertThat(await(replicas.get(0).compareAndSet("s1", Optional.empty(), entry(1, "x"))))
                    .isEqualTo(CasResult.COMMITTED);
            assertThat(await(replicas.get(7).head("s1"))).contains(entry(1, "x"));
        } finally {
            replicas.forEach(Consensus::close);
        }
    }

    /** Whatever the server's default (here: serializable, as a startup parameter), every connection runs RC. */
    @Test
    void everyConnectionRunsAtReadCommittedWhateverTheServerDefault() {
        String url = urlOf(newDatabase());
        PgConnectOptions options = PgConnectOptions.fromUri(url)
                .setProperties(Map.of("default_transaction_isolation", "serializable"));
        Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(4)).connectingTo(options).using(vertx).build();
        PostgresConsensus consensus = new PostgresConsensus(pool, () -> PostgresPools.closeAndWait(pool), url,
                Duration.ofSeconds(30));
        try {
            assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(1, "x"))))
                    .isEqualTo(CasResult.COMMITTED);
            // Several at once, so that the pool opens every connection it has.
            List<CompletableFuture<String>> isolations = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                isolations.add(consensus.pooledIsolation().toCompletableFuture());
            }
            for (CompletableFuture<String> isolation : isolations) {
                assertThat(await(isolation)).isEqualTo("read committed");
            }
        } finally {
            consensus.close();
        }
    }

    /**
     * Compare-and-sets of different keys, sent at once through one client whose group statements are limited to
     * one in flight, go in groups; each commits exactly once, at its first attempt (no serialization failures, the
     * bane of neighbouring keys at SERIALIZABLE). Alone, a compare-and-set goes alone.
     */
    @Test
    void concurrentCompareAndSetsOfManyKeysShareGroupStatementsAndNeverAbort() {
        String database = newDatabase();
        List<Integer> sizes = java.util.Collections.synchronizedList(new ArrayList<>());
        PostgresConsensus consensus = at(database, new PostgresPools.Settings(8, Duration.ofSeconds(10),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofSeconds(30),
                new PostgresConsensus.GroupCommit(16, 1, sizes::add)));
        int keys = 64;
        int appends = 10;
        for (int k = 0; k < keys; k++) {
            assertThat(await(consensus.compareAndSet("k" + k, Optional.empty(), entry(1, "k" + k))))
                    .isEqualTo(CasResult.COMMITTED);
        }
        assertThat(sizes).as("initializations are not grouped").isEmpty();
        await(consensus.compareAndSet("k0", Optional.of(SeqNo.of(1)), entry(2, "alone")));
        assertThat(sizes).as("a lone compare-and-set goes alone").containsExactly(1);
        sizes.clear();

        for (long seqno = 2; seqno < 2 + appends; seqno++) {
            List<CompletableFuture<CasResult>> round = new ArrayList<>();
            for (int k = 1; k < keys; k++) {
                round.add(consensus.compareAndSet("k" + k, Optional.of(SeqNo.of(seqno - 1)),
                        entry(seqno, "k" + k + "v" + seqno)).toCompletableFuture());
            }
            for (CompletableFuture<CasResult> cas : round) {
                assertThat(await(cas)).isEqualTo(CasResult.COMMITTED);
            }
        }
        assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo((keys - 1) * appends);
        assertThat(sizes.stream().mapToInt(Integer::intValue).max().orElseThrow()).isGreaterThan(1)
                .isLessThanOrEqualTo(16);
        for (int k = 1; k < keys; k++) {
            assertThat(await(consensus.scan("k" + k, SeqNo.MIN, Consensus.SCAN_ALL)))
                    .extracting(v -> v.seqno().value())
                    .containsExactlyElementsOf(LongStream.rangeClosed(1, 1 + appends).boxed().toList());
        }
        consensus.close();
    }

    /**
     * A statement the server cancels (here: blocked behind a lock past the statement timeout) rolled back: the
     * failure is determinate, and nothing was written.
     */
    @Test
    void aStatementTimeoutIsDeterminateAndWritesNothing() {
        String database = newDatabase();
        PostgresConsensus consensus = at(database, new PostgresPools.Settings(4, Duration.ofSeconds(10),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofMillis(300)));
        PostgresConsensus holder = at(database, SETTINGS);
        try {
            assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(1, "a")))).isEqualTo(CasResult.COMMITTED);
            Pool lockPool = PostgresPools.create(vertx, urlOf(database), SETTINGS);
            SqlConnection locker = await(lockPool.getConnection().toCompletionStage());
            try {
                await(locker.query("BEGIN").execute().toCompletionStage());
                await(locker.query("LOCK TABLE consensus IN ACCESS EXCLUSIVE MODE").execute().toCompletionStage());
                assertThatThrownBy(() -> await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(1)), entry(2, "b"))))
                        .isInstanceOf(CompletionException.class)
                        .cause().isInstanceOf(Determinate.class).hasMessageContaining("statement timeout");
                await(locker.query("ROLLBACK").execute().toCompletionStage());
            } finally {
                locker.close();
                lockPool.close();
            }
            assertThat(await(holder.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(entry(1, "a"));
        } finally {
            consensus.close();
            holder.close();
        }
    }

    @Test
    void anUnreachableServerFailsDeterminately() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        PostgresConsensus consensus = PostgresPools.consensus(vertx,
                "postgres://postgres@127.0.0.1:" + closedPort + "/postgres", SETTINGS, () -> {});
        try {
            assertThatThrownBy(() -> await(consensus.compareAndSet("s1", Optional.empty(), entry(1, "x"))))
                    .cause().isInstanceOf(Determinate.class).hasMessageContaining("no connection");
        } finally {
            consensus.close();
        }
    }
}
