package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.config.StorageUrls;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.ShardId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.testing.ServiceProcess;
import io.vertx.core.Vertx;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.PGConnection;

/**
 * README's "Backup and restore", tried once on the packaged service, its embedded PostgreSQL and a file blob store in
 * tombstone mode (a versioned bucket's stand-in: a delete keeps the blob under {@code .tombstones/}).
 *
 * <p>Consensus is backed up first (one consistent {@code COPY} of the table, as {@code pg_dump} takes it), then the
 * service keeps writing and collecting garbage, which deletes rollups that the backed-up versions need, and only then
 * is the blob directory copied. Restored into a fresh database and a fresh directory, the copy fails the invariants
 * until the blobs deleted since the Consensus backup are put back; with them, a service started on the restored
 * stores passes the deployment identity check, every shard passes {@link ShardInvariants} and reads back the state of
 * the backup, and takes appends again.
 */
class BackupRestoreIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PersistConfig CFG = PersistConfig.defaults(io.stateversions.config.BuildInfo.VERSION);

    @TempDir
    Path temp;

    private final HttpClient http = HttpClient.newHttpClient();
    private final List<ServiceProcess> started = new ArrayList<>();
    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void stop() throws Exception {
        for (int i = started.size() - 1; i >= 0; i--) {
            started.get(i).stop();
        }
        ServiceProcess.stopOrphanedPostgres(temp.resolve("a"));
        vertx.close().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }

    @Test
    void consensusFirstThenTheBlobsWithWhatWasDeletedSinceRestoresEveryShard() throws Exception {
        int postgresPort = ServiceProcess.freePort();
        Path blobDir = temp.resolve("blob");
        ServiceProcess a = start("A", "-Dstateversions.data-dir=" + temp.resolve("a"),
                "-Dstateversions.consensus.embedded.port=" + postgresPort,
                "-Dstateversions.blob.url=file://" + blobDir + "?tombstone");
        a.awaitReady(http, READY_WITHIN);
        Blob uploads = StorageUrls.fileBlob(blobDir, true, 1).store(); // where clients put their parts

        List<ShardId> shards = List.of(ShardId.random(), ShardId.random(), ShardId.random());
        String writer = "w" + UUID.randomUUID();
        for (ShardId shard : shards) {
            send(a, "PUT", "/v1/shards/" + shard, "{\"keyCodec\": \"bytes\", \"valCodec\": \"bytes\","
                    + " \"tsCodec\": \"u64\", \"diffCodec\": \"i64\"}");
            append(a, uploads, shard, writer, 0, 10);
            append(a, uploads, shard, writer, 10, 20);
            append(a, uploads, shard, writer, 20, 30);
            send(a, "POST", "/v1/shards/" + shard + "/maintenance/rollup", "");
            // Last, so that no GC is half done when Consensus is backed up (a restore of one is the next GC's to finish).
            send(a, "POST", "/v1/shards/" + shard + "/maintenance/gc", "");
        }

        // 1. Consensus, in one transaction: the table and, for the checks below, each shard's version in it.
        String jdbc = "jdbc:postgresql://127.0.0.1:" + postgresPort + "/%s?user=postgres";
        byte[] consensusBackup;
        Map<String, Long> backedUpSeqno = new HashMap<>();
        try (Connection db = DriverManager.getConnection(jdbc.formatted("postgres"))) {
            db.setAutoCommit(false);
            db.setTransactionIsolation(Connection.TRANSACTION_REPEATABLE_READ);
            try (Statement query = db.createStatement();
                    ResultSet heads = query.executeQuery(
                            "SELECT shard, max(sequence_number) FROM consensus GROUP BY shard")) {
                while (heads.next()) {
                    backedUpSeqno.put(heads.getString(1), heads.getLong(2));
                }
            }
            ByteArrayOutputStream copy = new ByteArrayOutputStream();
            db.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY consensus TO STDOUT (FORMAT binary)", copy);
            db.commit();
            consensusBackup = copy.toByteArray();
        }
        assertThat(backedUpSeqno).containsKeys(shards.stream().map(ShardId::toString).toArray(String[]::new))
                .containsKey("stateversions-deployment");

        // The service goes on: appends, rollups and GC, which deletes the rollups the backed-up versions start from.
        for (int round = 0; round < 2; round++) {
            for (ShardId shard : shards) {
                append(a, uploads, shard, writer, 30 + 10 * round, 40 + 10 * round);
                send(a, "POST", "/v1/shards/" + shard + "/maintenance/rollup", "");
                send(a, "POST", "/v1/shards/" + shard + "/maintenance/gc", "");
            }
        }

        // 2. The blob store, after Consensus: here the directory, its deleted blobs (.tombstones/) included.
        Path blobBackup = temp.resolve("backup-blob");
        copyTree(blobDir, blobBackup);

        // Restore into a fresh database (the service's own DDL, then the rows) and a fresh directory.
        try (Connection db = DriverManager.getConnection(jdbc.formatted("postgres"));
                Statement create = db.createStatement()) {
            create.execute("CREATE DATABASE restored");
        }
        String restoredUrl = "postgres://postgres@127.0.0.1:" + postgresPort + "/restored";
        Consensus restored = StorageUrls.consensus(restoredUrl, vertx, new PostgresPools.Settings(2,
                Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(60)),
                () -> {}).store();
        ((PostgresConsensus) restored).prepare().toCompletableFuture().get(60, TimeUnit.SECONDS);
        try (Connection db = DriverManager.getConnection(jdbc.formatted("restored"))) {
            db.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY consensus FROM STDIN (FORMAT binary)",
                    new ByteArrayInputStream(consensusBackup));
        }
        Path restoredBlobDir = temp.resolve("restored-blob");
        copyTree(blobBackup, restoredBlobDir);
        Blob restoredBlob = StorageUrls.fileBlob(restoredBlobDir, false, 1).store();

        // Without the blobs deleted after the Consensus backup, the backed-up versions name rollups that are gone.
        assertThat(shards.stream().filter(shard -> violates(shard, restored, restoredBlob)))
                .as("shards whose restored versions miss a blob GC deleted after the Consensus backup").isNotEmpty();
        Path tombstones = restoredBlobDir.resolve(".tombstones");
        try (Stream<Path> deleted = Files.list(tombstones)) {
            for (Path blob : deleted.toList()) {
                Files.move(blob, restoredBlobDir.resolve(blob.getFileName()));
            }
        }
        Files.delete(tombstones);

        for (ShardId shard : shards) {
            ShardInvariants.Report report = ShardInvariants.check(shard, restored, restoredBlob, CFG, "restored");
            assertThat(report.current().seqno().value()).as("%s restored", shard)
                    .isEqualTo(backedUpSeqno.get(shard.toString()));
        }
        ((PostgresConsensus) restored).close();

        ServiceProcess b = start("B-restored", "-Dstateversions.data-dir=" + temp.resolve("b"),
                "-Dstateversions.consensus.url=" + restoredUrl, "-Dstateversions.blob.url=file://" + restoredBlobDir);
        b.awaitReady(http, READY_WITHIN); // the deployment identity: the restored row and marker belong together
        for (ShardId shard : shards) {
            JsonNode state = JSON.readTree(send(b, "GET", "/v1/shards/" + shard, null));
            assertThat(state.get("seqno").asLong()).isEqualTo(backedUpSeqno.get(shard.toString()));
            assertThat(state.get("upper").toString()).as("the upper of the backup").isEqualTo("[30]");
            assertThat(state.get("batches")).hasSize(3);
            append(b, StorageUrls.fileBlob(restoredBlobDir, false, 1).store(), shard, writer, 30, 40);
        }
    }

    private ServiceProcess start(String name, String... properties) throws IOException {
        ServiceProcess replica = ServiceProcess.start(name, temp.resolve("logs"), List.of(properties));
        started.add(replica);
        return replica;
    }

    private static boolean violates(ShardId shard, Consensus consensus, Blob blob) {
        try {
            ShardInvariants.check(shard, consensus, blob, CFG, "restored without the deleted blobs");
            return false;
        } catch (ShardInvariants.Violation expected) {
            return true;
        }
    }

    /** An append of {@code [lower, upper)} with one part, uploaded first, as a client does. */
    private void append(ServiceProcess replica, Blob uploads, ShardId shard, String writer, long lower, long upper)
            throws Exception {
        String part = writer + "/p" + UUID.randomUUID();
        uploads.set(shard + "/" + part, ("updates " + lower + ".." + upper).getBytes(StandardCharsets.UTF_8))
                .toCompletableFuture().get(30, TimeUnit.SECONDS);
        send(replica, "POST", "/v1/shards/" + shard + "/batches", "{\"writerId\": \"" + writer + "\","
                + " \"idempotencyToken\": \"i" + UUID.randomUUID() + "\", \"lower\": [" + lower + "], \"upper\": ["
                + upper + "], \"len\": 1, \"parts\": [{\"key\": \"" + part + "\", \"encodedSizeBytes\": 20}]}");
    }

    /** A request that must succeed (2xx): its body. */
    private String send(ServiceProcess replica, String method, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(replica.uri(path)).timeout(Duration.ofSeconds(30));
        if (json == null) {
            request.GET();
        } else {
            request.header("content-type", "application/json").method(method, json.isEmpty()
                    ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        }
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("%s %s: %s", method, path, response.body()).isBetween(200, 299);
        return response.body();
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path file : files.toList()) {
                Path target = to.resolve(from.relativize(file).toString());
                if (Files.isDirectory(file)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(file, target);
                }
            }
        }
    }
}
