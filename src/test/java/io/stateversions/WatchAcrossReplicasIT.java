package io.stateversions;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.ByteString;
import com.google.protobuf.Value;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.stateversions.api.grpc.v1.Change;
import io.stateversions.api.grpc.v1.ChangeOp;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.Diff;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RegisterWriterResponse;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.api.grpc.v1.WatchEvent;
import io.stateversions.api.grpc.v1.WatchRequest;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.ServiceProcess;
import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

/**
 * Watches across replicas (issue 6), on the packaged service: two processes of
 * {@code target/quarkus-app/quarkus-run.jar} share one PostgreSQL and one blob directory. Replica A runs the
 * embedded PostgreSQL on a fixed port; replica B uses it through {@code stateversions.consensus.url}. Every write goes
 * through A, every watch through B.
 *
 * <p><b>Only the notification path can deliver.</b> B runs with {@code stateversions.watch.poll-interval=1h} and
 * {@code stateversions.watch.fallback-poll-interval=1h}: its watch ticker (which runs every fallback interval) first
 * fires an hour after start-up, so during the test B's watchers learn of A's commits only from A's PostgreSQL
 * {@code NOTIFY}, heard by B's {@code LISTEN}. The one other poll, when B's subscription is established, runs before
 * any watch exists: the tests watch only once both replicas report {@code stateversions_notification_receiving 1}
 * and hear each other ({@code stateversions_notification_replicas 1}; a replica publishes only while it hears
 * another, and polls once more when it first hears one, also before any watch exists).
 * A version that reaches a watcher on B within the 10 s bound of these tests therefore proves the notification path
 * (a lost notification would leave the watcher waiting for an hour).
 *
 * <p>What is checked:
 * <ul>
 *   <li>a gRPC watcher on B gets every version of 200 appends through A, in order, without gaps or duplicates, each
 *       carrying its batch; the A-ack to B-receipt latency is printed (p50/p99/max), and only bounded by 10 s;</li>
 *   <li>an SSE watcher on B whose connection is reset mid-stream resumes with {@code Last-Event-ID}: the ids of both
 *       connections together are every version, once;</li>
 *   <li>A's notifications refresh B's cached state: {@code stateversions_notification_received_total{cache="behind"}}
 *       rises on B, and once B's cache has caught up, B's own append commits without a compare-and-set mismatch.</li>
 * </ul>
 */
class WatchAcrossReplicasIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    /** The bound on every event: far below B's one-hour polls, far above any notification's latency. */
    private static final Duration EVENT_WITHIN = Duration.ofSeconds(10);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path temp;

    /** The replicas' logs: outside {@link TempDir}, which may be deleted before a failure is reported. */
    private final Path logs = createTempDirectory();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private final List<AutoCloseable> closeAfterTest = new ArrayList<>();
    private ExecutorService appender;
    private Replica a;
    private Replica b;
    private int postgresPort;

    @RegisterExtension
    final TestWatcher printLogsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            for (Replica r : new Replica[] {a, b}) {
                if (r != null) {
                    System.out.println(r.logExcerpt());
                }
            }
            System.out.println("replica logs kept in " + logs);
        }

        @Override
        public void testSuccessful(ExtensionContext context) {
            if (Boolean.getBoolean("stateversions.it.keep-logs")) {
                System.out.println("replica logs kept in " + logs);
            } else {
                deleteLogs();
            }
        }
    };

    @AfterEach
    void stopReplicas() throws Exception {
        if (appender != null) {
            appender.shutdownNow();
            appender.awaitTermination(10, TimeUnit.SECONDS);
        }
        for (AutoCloseable c : closeAfterTest) {
            try {
                c.close();
            } catch (Exception e) {
                System.out.println("closing " + c + ": " + e);
            }
        }
        // B first: A owns the embedded PostgreSQL that B uses. SIGTERM lets A stop its PostgreSQL.
        if (b != null) {
            b.stop();
        }
        if (a != null) {
            a.stop();
            ServiceProcess.stopOrphanedPostgres(temp.resolve("a"));
        }
    }

    // ---------------------------------------------------------------------------------------------------- tests

    @Test
    void grpcWatcherOnBReceivesEveryVersionCommittedThroughA() throws Exception {
        startReplicas();
        ShardId shard = openThroughA();
        WriterId writer = WriterId.random();
        RegisterWriterResponse registered = registerWriterThroughA(shard, writer);
        long before = registered.getSeqno();

        GrpcWatch watch = watchOnB(shard, before);
        awaitActiveWatches(b, 1);

        int appends = 200;
        List<Ack> acks = new ArrayList<>();
        for (long t = 0; t < appends; t++) {
            acks.add(appendThrough(a, shard, writer, t));
        }
        long last = acks.get(acks.size() - 1).seqno();

        Map<Long, GrpcWatch.Received> received = watch.readThrough(before, last);
        assertThat(received).hasSize((int) (last - before));
        List<Long> latenciesNanos = new ArrayList<>();
        for (int i = 0; i < appends; i++) {
            Ack ack = acks.get(i);
            GrpcWatch.Received event = received.get(ack.seqno());
            assertThat(event).as("the event of the append of [%d, %d) at v%d", i, i + 1, ack.seqno()).isNotNull();
            assertThat(hasAppendedBatch(event.event().getDiff(), i))
                    .as("the diff of v%d holds the batch [%d, %d) appended through A: %s", ack.seqno(), i, i + 1,
                            event.event().getDiff())
                    .isTrue();
            latenciesNanos.add(event.nanos() - ack.ackNanos());
        }
        printLatencies("gRPC watcher on B, appends through A (LISTEN/NOTIFY only)", latenciesNanos);
        assertThat(latenciesNanos.stream().mapToLong(Long::longValue).max().orElseThrow())
                .as("every version reaches B's watcher within %s of A's acknowledgement", EVENT_WITHIN)
                .isLessThan(EVENT_WITHIN.toNanos());
        assertThat(metric(b, "stateversions_notification_received_total", null))
                .as("B heard A's notifications").isPositive();
    }

    @Test
    void sseWatcherOnBResumesWithLastEventIdAfterItsConnectionIsReset() throws Exception {
        startReplicas();
        ShardId shard = openThroughA();
        WriterId writer = WriterId.random();
        long before = registerWriterThroughA(shard, writer).getSeqno();
        String path = "/v1/shards/" + shard + "/watch?fromSeqno=" + before;
        appender = Executors.newSingleThreadExecutor();

        // 1. Read some events while A keeps appending, then reset the connection: the events in flight are lost.
        List<SseEvent> events = new ArrayList<>();
        SseConnection first = SseConnection.open(b.port, path, null);
        closeAfterTest.add(first);
        Future<List<Ack>> appending = appender.submit(() -> appendRange(shard, writer, 0, 60));
        for (int i = 0; i < 30; i++) {
            events.add(first.next());
        }
        boolean appendsStillRunning = !appending.isDone();
        first.reset();
        appending.get(60, TimeUnit.SECONDS);
        // 2. Versions committed while no connection is open.
        appendRange(shard, writer, 60, 80);
        awaitActiveWatches(b, 0); // B noticed the reset and dropped that watcher
        long lastId = Long.parseLong(events.get(events.size() - 1).id());

        // 3. Reconnect as an EventSource does (same URL, Last-Event-ID), and read while A appends again, up to the
        // event of the last append (its seqno is not known in advance: maintenance may commit versions of its own).
        SseConnection second = SseConnection.open(b.port, path, Long.toString(lastId));
        closeAfterTest.add(second);
        appending = appender.submit(() -> appendRange(shard, writer, 80, 120));
        List<JsonNode> diffs = new ArrayList<>(events.stream().map(e -> readJson(e.data())).toList());
        long lastEventId;
        do {
            SseEvent e = second.next();
            events.add(e);
            diffs.add(readJson(e.data()));
            lastEventId = Long.parseLong(e.id());
        } while (!hasAppendedBatch(diffs.get(diffs.size() - 1), 119, inlineBase64(119)));
        second.close();
        List<Ack> lastAppends = appending.get(60, TimeUnit.SECONDS);
        long last = lastAppends.get(lastAppends.size() - 1).seqno();
        assertThat(lastEventId).as("the event of the last append has its seqno").isEqualTo(last);

        System.out.printf("SSE resume: %d events on the first connection (appends %s running at the reset), last id %d;"
                + " %d on the second, through v%d%n", 30, appendsStillRunning ? "still" : "no longer", lastId,
                events.size() - 30, last);
        List<Long> ids = events.stream().map(e -> Long.parseLong(e.id())).toList();
        assertThat(ids.get(30)).as("the resumed stream starts right after Last-Event-ID").isEqualTo(lastId + 1);
        assertThat(ids).as("the ids of both connections: every version after v%d, once, in order", before)
                .containsExactlyElementsOf(LongStream.rangeClosed(before + 1, last).boxed().toList());
        for (int i = 0; i < events.size(); i++) {
            assertThat(diffs.get(i).path("seqnoTo").asLong()).as("seqnoTo of %s", events.get(i)).isEqualTo(ids.get(i));
        }
        for (long t = 0; t < 120; t++) {
            long lower = t;
            String inline = inlineBase64(t);
            assertThat(diffs.stream().anyMatch(d -> hasAppendedBatch(d, lower, inline)))
                    .as("an event holds the batch [%d, %d) appended through A", t, t + 1).isTrue();
        }
    }

    /**
     * A's notifications refresh B's cached state, so that B's next command needs no compare-and-set retry.
     *
     * <p>How "B's cache caught up" is observed without refreshing it: every read through B's API refreshes the cache
     * first (a linearizable read), so it cannot be asked. Instead, once B has received every notification A published
     * since B's cache exists ({@code stateversions_notification_received_total} on B has grown at least as much as
     * {@code stateversions_notification_published_total} on A; B counts notifications only once its machines exist, so
     * the totals are compared from the watch's start), the test sends B a notification of its own, on the same
     * channel and in the same format as a replica's
     * ({@code "<shard> <seqno> <replica>"}), naming the shard's head: B counts it as {@code cache="current"} iff its
     * cached seqno is at least that head ({@code Machines#learned}), else as {@code cache="behind"}. The probe is
     * repeated until it is counted current (a probe counted behind joins the refresh in flight). Nothing else commits
     * to the shard meanwhile (20 appends stay far below the rollup threshold), which the test checks: B's append must
     * get the seqno right after that head, and B's {@code stateversions_machine_cas_mismatch_total} must not move.
     */
    @Test
    void notificationsRefreshBsCachedStateSoItsAppendNeedsNoRetry() throws Exception {
        startReplicas();
        ShardId shard = ShardId.random();
        long opened = openThroughA(shard);
        GrpcWatch watch = watchOnB(shard, opened); // loads the shard's state into B's cache
        awaitActiveWatches(b, 1);
        double behindBefore = metric(b, "stateversions_notification_received_total", "cache=\"behind\"");
        double receivedBefore = metric(b, "stateversions_notification_received_total", null);
        double publishedBefore = metric(a, "stateversions_notification_published_total", null);
        double mismatchesBefore = metric(b, "stateversions_machine_cas_mismatch_total", null);

        // Every commit from here on is A's and announced while B's cache exists.
        WriterId writer = WriterId.random();
        registerWriterThroughA(shard, writer);
        List<Ack> acks = appendRange(shard, writer, 0, 20);
        long head = acks.get(acks.size() - 1).seqno();
        watch.readThrough(opened, head);
        await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(metric(b, "stateversions_notification_received_total", "cache=\"behind\""))
                        .as("notifications that found B's cached state behind (and refreshed it)")
                        .isGreaterThan(behindBefore));
        // At least: one published before the baselines may have been counted by B after them.
        await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                assertThat(metric(b, "stateversions_notification_received_total", null) - receivedBefore)
                        .as("notifications B received since the watch started, at least those A published since")
                        .isGreaterThanOrEqualTo(metric(a, "stateversions_notification_published_total", null)
                                - publishedBefore)
                        .isPositive());

        int[] probes = new int[1];
        await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(50)).until(() -> {
            probes[0]++;
            return probeFindsCacheCurrent(shard, head);
        });

        Ack own = appendThrough(b, shard, writer, 20);
        assertThat(own.seqno()).as("B's append commits right after v%d (nothing else committed)", head)
                .isEqualTo(head + 1);
        assertThat(metric(b, "stateversions_machine_cas_mismatch_total", null))
                .as("B's append needed no compare-and-set retry: its cached state was current")
                .isEqualTo(mismatchesBefore);
        GrpcWatch.Received ownEvent = watch.readThrough(head, head + 1).get(head + 1);
        assertThat(hasAppendedBatch(ownEvent.event().getDiff(), 20)).as("B's watcher sees B's own append").isTrue();
        System.out.printf("cache refresh: %d probe(s) until B's cache was current; B counted %.0f notifications as"
                        + " behind, %.0f as current (probes included); CaS mismatches on B: %.0f%n", probes[0],
                metric(b, "stateversions_notification_received_total", "cache=\"behind\""),
                metric(b, "stateversions_notification_received_total", "cache=\"current\""),
                metric(b, "stateversions_machine_cas_mismatch_total", null));
    }

    // ------------------------------------------------------------------------------------------------ replicas

    private void startReplicas() throws IOException {
        postgresPort = ServiceProcess.freePort();
        Path blob = temp.resolve("blob");
        Files.createDirectories(blob);
        String blobUrl = "file://" + blob.toAbsolutePath();
        long started = System.nanoTime();
        a = new Replica("A", logs, List.of(
                "-Dstateversions.data-dir=" + temp.resolve("a"),
                "-Dstateversions.consensus.embedded.port=" + postgresPort,
                "-Dstateversions.blob.url=" + blobUrl));
        a.awaitReady(http, READY_WITHIN);
        long aReady = millisSince(started);
        // EmbeddedPostgresServer#url: user postgres, trust authentication on loopback, database postgres.
        b = new Replica("B", logs, List.of(
                "-Dstateversions.data-dir=" + temp.resolve("b"),
                "-Dstateversions.consensus.url=postgres://postgres@127.0.0.1:" + postgresPort + "/postgres",
                "-Dstateversions.blob.url=" + blobUrl,
                "-Dstateversions.watch.poll-interval=1h",
                "-Dstateversions.watch.fallback-poll-interval=1h"));
        b.awaitReady(http, READY_WITHIN);
        for (Replica r : List.of(a, b)) {
            await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                    assertThat(metric(r, "stateversions_notification_receiving", null))
                            .as("replica %s listens for commit notifications", r.name).isEqualTo(1.0));
            // A replica publishes only while it hears another: each must have heard the other's announcement.
            await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(50)).untilAsserted(() ->
                    assertThat(metric(r, "stateversions_notification_replicas", null))
                            .as("replica %s hears the other", r.name).isEqualTo(1.0));
        }
        System.out.printf("replicas: A ready after %d ms (initdb included), A and B listening after %d ms%n", aReady,
                millisSince(started));
    }

    /** One service process, and its gRPC channel. */
    private static final class Replica extends ServiceProcess {
        private ManagedChannel channel;

        Replica(String name, Path logs, List<String> properties) throws IOException {
            super(name, freePort(), logs, properties, Map.of());
        }

        synchronized ManagedChannel channel() {
            if (channel == null) {
                channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
            }
            return channel;
        }

        StateVersionsGrpc.StateVersionsBlockingStub stub() {
            return StateVersionsGrpc.newBlockingStub(channel())
                    .withDeadlineAfter(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public void stop() throws InterruptedException {
            synchronized (this) {
                if (channel != null) {
                    channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
                }
            }
            super.stop(); // SIGTERM: a graceful stop (A's stops its embedded PostgreSQL)
        }
    }

    // ---------------------------------------------------------------------------------------------------- API

    private ShardId openThroughA() throws IOException, InterruptedException {
        ShardId shard = ShardId.random();
        openThroughA(shard);
        return shard;
    }

    /** Opens (initializes) {@code shard} through A's REST API; returns its seqno. */
    private long openThroughA(ShardId shard) throws IOException, InterruptedException {
        String codecs = "{\"keyCodec\":\"bytes\",\"valCodec\":\"bytes\",\"tsCodec\":\"u64\",\"diffCodec\":\"i64\"}";
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(a.uri("/v1/shards/" + shard))
                .timeout(CALL_TIMEOUT).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(codecs)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as("PUT /v1/shards/%s: %s", shard, response.body()).isEqualTo(201);
        return JSON.readTree(response.body()).get("seqno").asLong();
    }

    private RegisterWriterResponse registerWriterThroughA(ShardId shard, WriterId writer) {
        RegisterWriterResponse registered = a.stub().registerWriter(RegisterWriterRequest.newBuilder()
                .setShardId(shard.toString()).setWriterId(writer.toString()).setPurpose("WatchAcrossReplicasIT")
                .build());
        assertThat(registered.getUpper().getElementsList()).containsExactly(0L);
        return registered;
    }

    /** What a replica acknowledged for one append, and when the acknowledgement arrived. */
    private record Ack(long seqno, long ackNanos) {}

    /** Appends {@code [t, t + 1)} with one inline part naming {@code t}. */
    private static Ack appendThrough(Replica replica, ShardId shard, WriterId writer, long t) {
        CompareAndAppendResponse response = replica.stub().compareAndAppend(CompareAndAppendRequest.newBuilder()
                .setShardId(shard.toString())
                .setWriterId(writer.toString())
                .setIdempotencyToken(IdempotencyToken.random().toString())
                .setLower(frontier(t))
                .setUpper(frontier(t + 1))
                .setLen(1)
                .addParts(Part.newBuilder().setInline(ByteString.copyFrom(inline(t))))
                .build());
        long ackNanos = System.nanoTime();
        assertThat(response.getAlreadyCommitted()).isFalse();
        assertThat(response.getUpper().getElementsList()).containsExactly(t + 1);
        return new Ack(response.getSeqno(), ackNanos);
    }

    private List<Ack> appendRange(ShardId shard, WriterId writer, long from, long to) {
        List<Ack> acks = new ArrayList<>();
        for (long t = from; t < to; t++) {
            acks.add(appendThrough(a, shard, writer, t));
        }
        return acks;
    }

    private static Frontier frontier(long t) {
        return Frontier.newBuilder().addElements(t).build();
    }

    private static byte[] inline(long t) {
        return ("append [" + t + ", " + (t + 1) + ")").getBytes(UTF_8);
    }

    private static String inlineBase64(long t) {
        return Base64.getEncoder().encodeToString(inline(t));
    }

    /** The diff inserts the batch {@code [t, t + 1)} with the inline part of that append (gRPC form). */
    private static boolean hasAppendedBatch(Diff diff, long t) {
        String inline = inlineBase64(t);
        for (Change change : diff.getChangesList()) {
            if (!change.getField().equals("batches") || change.getOp() != ChangeOp.CHANGE_OP_INSERT) {
                continue;
            }
            Map<String, Value> batch = change.getNew().getStructValue().getFieldsMap();
            boolean bounds = firstElement(batch.get("lower")) == t && firstElement(batch.get("upper")) == t + 1;
            boolean part = batch.containsKey("parts") && batch.get("parts").getListValue().getValuesList().stream()
                    .map(p -> p.getStructValue().getFieldsMap().get("inline"))
                    .anyMatch(v -> v != null && inline.equals(v.getStringValue()));
            if (bounds && part) {
                return true;
            }
        }
        return false;
    }

    private static long firstElement(Value frontier) {
        if (frontier == null || frontier.getListValue().getValuesCount() != 1) {
            return -1;
        }
        return (long) frontier.getListValue().getValues(0).getNumberValue();
    }

    /** The same, on the JSON of {@code /diffs} (SSE). */
    private static boolean hasAppendedBatch(JsonNode diff, long t, String inline) {
        for (JsonNode change : diff.path("changes")) {
            JsonNode batch = change.path("new");
            if (change.path("field").asText().equals("batches") && change.path("op").asText().equals("insert")
                    && batch.path("lower").path(0).asLong(-1) == t && batch.path("upper").path(0).asLong(-1) == t + 1) {
                for (JsonNode part : batch.path("parts")) {
                    if (inline.equals(part.path("inline").asText(null))) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    private static JsonNode readJson(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new UncheckedIOException("not JSON: " + json, e);
        }
    }

    // ---------------------------------------------------------------------------------------------- metrics

    /** The sum of the samples of {@code name} on {@code replica}'s {@code /q/metrics} (management port) whose labels contain {@code label}. */
    private double metric(Replica replica, String name, String label) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(replica.managementUri("/q/metrics"))
                .timeout(CALL_TIMEOUT).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        double sum = 0;
        boolean found = false;
        for (String line : response.body().split("\n")) {
            if (line.startsWith("#") || !line.startsWith(name)) {
                continue;
            }
            String rest = line.substring(name.length());
            String labels = "";
            if (rest.startsWith("{")) {
                labels = rest.substring(0, rest.indexOf('}') + 1);
                rest = rest.substring(labels.length());
            }
            if (!rest.startsWith(" ") || (label != null && !labels.contains(label))) {
                continue; // another metric whose name starts with this one, or other labels
            }
            sum += Double.parseDouble(rest.trim().split(" ")[0]);
            found = true;
        }
        assertThat(found).as("replica %s exposes %s%s", replica.name, name, label == null ? "" : "{" + label + "}")
                .isTrue();
        return sum;
    }

    private void awaitActiveWatches(Replica replica, int count) {
        await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(20)).untilAsserted(() ->
                assertThat(metric(replica, "stateversions_watch_active", null))
                        .as("watches replica %s serves", replica.name).isEqualTo(count));
    }

    /**
     * Sends B a commit notification naming {@code head} (see the Javadoc of the cache test) and reports whether B
     * counted it as {@code current}: its cached state of the shard is at {@code head} or later. Inconclusive (false)
     * if another notification was counted meanwhile.
     */
    private boolean probeFindsCacheCurrent(ShardId shard, long head) throws Exception {
        double behind = metric(b, "stateversions_notification_received_total", "cache=\"behind\"");
        double current = metric(b, "stateversions_notification_received_total", "cache=\"current\"");
        try (Connection connection = DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + postgresPort + "/postgres", "postgres", "");
                PreparedStatement notify = connection.prepareStatement("SELECT pg_notify('state_versions', ?)")) {
            notify.setString(1, shard + " " + head + " probe-" + UUID.randomUUID());
            notify.execute();
        }
        double[] after = new double[2];
        await().atMost(EVENT_WITHIN).pollInterval(Duration.ofMillis(20)).until(() -> {
            after[0] = metric(b, "stateversions_notification_received_total", "cache=\"behind\"");
            after[1] = metric(b, "stateversions_notification_received_total", "cache=\"current\"");
            return after[0] + after[1] > behind + current;
        });
        return after[0] == behind && after[1] == current + 1;
    }

    // ------------------------------------------------------------------------------------------------ latency

    /** Prints the percentiles of {@code nanos} (indexed by append) and the slowest appends. */
    private static void printLatencies(String what, List<Long> nanos) {
        List<Long> sorted = nanos.stream().sorted().toList();
        System.out.printf(Locale.ROOT, "LATENCY A->B %s, %d versions: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n",
                what, sorted.size(), percentile(sorted, 0.50) / 1e6, percentile(sorted, 0.99) / 1e6,
                sorted.get(sorted.size() - 1) / 1e6);
        String slowest = IntStream.range(0, nanos.size()).boxed()
                .sorted((i, j) -> Long.compare(nanos.get(j), nanos.get(i))).limit(5)
                .map(i -> String.format(Locale.ROOT, "#%d %.2f ms", i, nanos.get(i) / 1e6))
                .collect(Collectors.joining(", "));
        System.out.println("LATENCY A->B slowest appends: " + slowest);
    }

    /** Nearest-rank percentile. */
    private static double percentile(List<Long> sorted, double p) {
        int rank = (int) Math.ceil(p * sorted.size());
        return sorted.get(Math.max(0, rank - 1));
    }

    // --------------------------------------------------------------------------------------------- gRPC watch

    private GrpcWatch watchOnB(ShardId shard, long fromSeqno) {
        GrpcWatch watch = new GrpcWatch();
        StateVersionsGrpc.newStub(b.channel()).watch(WatchRequest.newBuilder().setShardId(shard.toString())
                .setFromSeqno(fromSeqno).build(), watch);
        closeAfterTest.add(watch);
        return watch;
    }

    /** A Watch call whose events are queued with the time they arrived. */
    private static final class GrpcWatch implements ClientResponseObserver<WatchRequest, WatchEvent>, AutoCloseable {

        record Received(WatchEvent event, long nanos) {}

        private static final Object COMPLETED = new Object();
        private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
        private volatile ClientCallStreamObserver<WatchRequest> call;

        @Override
        public void beforeStart(ClientCallStreamObserver<WatchRequest> requestStream) {
            call = requestStream;
        }

        @Override
        public void onNext(WatchEvent event) {
            queue.add(new Received(event, System.nanoTime()));
        }

        @Override
        public void onError(Throwable error) {
            queue.add(error);
        }

        @Override
        public void onCompleted() {
            queue.add(COMPLETED);
        }

        Received next() throws InterruptedException {
            Object next = queue.poll(EVENT_WITHIN.toMillis(), TimeUnit.MILLISECONDS);
            if (next == null) {
                throw new AssertionError("the watch on B sent no event within " + EVENT_WITHIN);
            }
            if (next instanceof Throwable error) {
                throw new AssertionError("the watch on B failed", error);
            }
            if (next == COMPLETED) {
                throw new AssertionError("the watch on B ended");
            }
            return (Received) next;
        }

        /**
         * Reads the events of every version after {@code after} through {@code through}, asserting that they come
         * in order, one per version: no gap, no duplicate.
         */
        Map<Long, Received> readThrough(long after, long through) throws InterruptedException {
            Map<Long, Received> events = new HashMap<>();
            for (long expected = after + 1; expected <= through; expected++) {
                Received r = next();
                assertThat(r.event().hasDiff()).as("event %s is a diff", r.event()).isTrue();
                assertThat(r.event().getSeqno()).as("the seqno of the event after v%d", expected - 1)
                        .isEqualTo(expected);
                assertThat(r.event().getDiff().getSeqnoTo()).isEqualTo(expected);
                assertThat(r.event().getDiff().getSeqnoFrom()).isEqualTo(expected - 1);
                events.put(expected, r);
            }
            return events;
        }

        @Override
        public void close() {
            ClientCallStreamObserver<WatchRequest> c = call;
            if (c != null) {
                c.cancel("the test is done", null);
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- SSE watch

    /** One server-sent event. */
    private record SseEvent(String event, String id, String data) {}

    /**
     * An SSE request on a raw socket, so that the test can reset it (RST, no orderly close) mid-stream. Reads time
     * out after {@link #EVENT_WITHIN}.
     */
    private static final class SseConnection implements AutoCloseable {

        private final Socket socket;
        private final BufferedReader reader;

        private SseConnection(Socket socket, BufferedReader reader) {
            this.socket = socket;
            this.reader = reader;
        }

        static SseConnection open(int port, String pathAndQuery, String lastEventId) throws IOException {
            Socket socket = new Socket();
            socket.connect(new InetSocketAddress("127.0.0.1", port), 5_000);
            socket.setSoTimeout((int) EVENT_WITHIN.toMillis());
            OutputStream out = socket.getOutputStream();
            String request = "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1:" + port
                    + "\r\nAccept: text/event-stream\r\n"
                    + (lastEventId == null ? "" : "Last-Event-ID: " + lastEventId + "\r\n") + "\r\n";
            out.write(request.getBytes(US_ASCII));
            out.flush();
            InputStream in = new BufferedInputStream(socket.getInputStream());
            String status = asciiLine(in);
            Map<String, String> headers = new HashMap<>();
            for (String line = asciiLine(in); !line.isEmpty(); line = asciiLine(in)) {
                int colon = line.indexOf(':');
                headers.put(line.substring(0, colon).trim().toLowerCase(Locale.ROOT), line.substring(colon + 1).trim());
            }
            assertThat(status).as("response to GET %s (headers %s)", pathAndQuery, headers).startsWith("HTTP/1.1 200");
            assertThat(headers.get("content-type")).startsWith("text/event-stream");
            assertThat(headers.get("transfer-encoding")).isEqualTo("chunked");
            return new SseConnection(socket,
                    new BufferedReader(new InputStreamReader(new ChunkedInputStream(in), UTF_8)));
        }

        /** The next event (comments skipped); fails if the stream ends or is silent for {@link #EVENT_WITHIN}. */
        SseEvent next() throws IOException {
            String event = null;
            String id = null;
            StringBuilder data = null;
            while (true) {
                String line = reader.readLine();
                if (line == null) {
                    throw new EOFException("the event stream ended");
                }
                if (line.isEmpty()) {
                    if (data != null) {
                        SseEvent e = new SseEvent(event, id, data.toString());
                        assertThat(e.event()).as("event %s", e).isNull(); // problem or truncated: not expected here
                        assertThat(e.id()).as("the id of %s", e).isNotNull();
                        return e;
                    }
                    continue;
                }
                if (line.startsWith(":")) {
                    continue;
                }
                int colon = line.indexOf(':');
                String field = colon < 0 ? line : line.substring(0, colon);
                String value = colon < 0 ? "" : line.substring(colon + 1);
                value = value.startsWith(" ") ? value.substring(1) : value;
                switch (field) {
                    case "event" -> event = value;
                    case "id" -> id = value;
                    case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                    default -> { } // retry, or unknown: ignored, as an EventSource does
                }
            }
        }

        /** Drops the connection abruptly: SO_LINGER 0 makes close() send a reset, and unread data is discarded. */
        void reset() throws IOException {
            socket.setSoLinger(true, 0);
            socket.close();
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }

    /** The body of a chunked HTTP/1.1 response; each read returns what the current chunk holds. */
    private static final class ChunkedInputStream extends InputStream {

        private final InputStream in;
        private long remaining;
        private boolean afterChunk;
        private boolean ended;

        ChunkedInputStream(InputStream in) {
            this.in = in;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            if (remaining == 0 && !nextChunk()) {
                return -1;
            }
            int n = in.read(buffer, offset, (int) Math.min(length, remaining));
            if (n < 0) {
                throw new EOFException("the response ended inside a chunk");
            }
            remaining -= n;
            return n;
        }

        private boolean nextChunk() throws IOException {
            if (ended) {
                return false;
            }
            if (afterChunk && !asciiLine(in).isEmpty()) {
                throw new IOException("a chunk is not followed by CRLF");
            }
            String size = asciiLine(in);
            int extension = size.indexOf(';');
            remaining = Long.parseLong((extension < 0 ? size : size.substring(0, extension)).trim(), 16);
            afterChunk = true;
            ended = remaining == 0;
            return !ended;
        }
    }

    /** One line of ASCII, without its CRLF (or LF). */
    private static String asciiLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int c = in.read(); c != '\n'; c = in.read()) {
            if (c < 0) {
                throw new EOFException("the connection closed inside a line: " + line.toString(US_ASCII));
            }
            line.write(c);
        }
        String s = line.toString(US_ASCII);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
    }

    // --------------------------------------------------------------------------------------------------- misc

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }

    private static Path createTempDirectory() {
        try {
            return Files.createTempDirectory("watch-across-replicas-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void deleteLogs() {
        try (var files = Files.list(logs)) {
            for (Path f : files.toList()) {
                Files.deleteIfExists(f);
            }
            Files.deleteIfExists(logs);
        } catch (IOException e) {
            System.out.println("could not delete " + logs + ": " + e);
        }
    }
}
