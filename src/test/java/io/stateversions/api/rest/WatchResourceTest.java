package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.problem;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.core.ShardId;
import io.stateversions.watch.Watches;
import jakarta.inject.Inject;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /v1/shards/{shard}/watch}: server-sent events with the diffs /diffs returns, {@code Last-Event-ID}
 * resume, the truncated event, errors as problem documents, and a client that reads nothing (the server stops at its
 * socket's buffers and drops the connection after the stall timeout, 2 s in tests).
 */
@QuarkusTest
class WatchResourceTest {

    @TestHTTPResource("/")
    URL http;

    @Inject
    Watches watches;

    @Inject
    MeterRegistry registry;

    private final ObjectMapper json = new ObjectMapper();
    private final HttpClient client = HttpClient.newHttpClient();

    private final List<Stream_> opened = new ArrayList<>();

    @BeforeEach
    void noWatchesLeft() {
        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 0);
    }

    @org.junit.jupiter.api.AfterEach
    void closeStreams() {
        opened.forEach(s -> s.response().body().close());
        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 0);
    }

    /** One server-sent event. */
    record Event(String event, String id, String data) {}

    /** An open event stream: its status, headers and the events parsed as they arrive. */
    record Stream_(HttpResponse<Stream<String>> response, BlockingQueue<Event> events) {
        Event next() throws InterruptedException {
            Event e = events.poll(30, TimeUnit.SECONDS);
            assertThat(e).as("an event within 30 s").isNotNull();
            return e;
        }
    }

    private static final Event END = new Event("<end>", null, null);

    private Stream_ open(ShardId shard, String query, Map<String, String> headers) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(http + "v1/shards/" + shard + "/watch" + query))
                .header("Accept", "text/event-stream");
        headers.forEach(request::header);
        HttpResponse<Stream<String>> response = client.send(request.build(), HttpResponse.BodyHandlers.ofLines());
        BlockingQueue<Event> events = new LinkedBlockingQueue<>();
        Thread reader = new Thread(() -> {
            String event = null;
            String id = null;
            StringBuilder data = null;
            try {
                for (String line : (Iterable<String>) response.body()::iterator) {
                    if (line.isEmpty()) {
                        if (data != null) {
                            events.add(new Event(event, id, data.toString()));
                        }
                        event = null;
                        id = null;
                        data = null;
                    } else if (line.startsWith(":")) {
                        continue; // a comment
                    } else if (line.startsWith("event: ")) {
                        event = line.substring(7);
                    } else if (line.startsWith("id: ")) {
                        id = line.substring(4);
                    } else if (line.startsWith("data: ")) {
                        data = (data == null ? new StringBuilder() : data.append('\n')).append(line.substring(6));
                    }
                }
            } catch (RuntimeException closed) {
                // the stream was closed under the reader
            }
            events.add(END);
        });
        reader.setDaemon(true);
        reader.start();
        Stream_ stream = new Stream_(response, events);
        opened.add(stream);
        return stream;
    }

    private static List<Long> range(long firstInclusive, long lastInclusive) {
        return LongStream.rangeClosed(firstInclusive, lastInclusive).boxed().toList();
    }

    @Test
    void events_carry_the_seqno_as_id_and_the_diff_as_in_diffs() throws Exception {
        ShardId shard = Rest.newShard();
        long start = Rest.seqno(shard);
        Stream_ stream = open(shard, "?fromSeqno=" + start, Map.of());
        assertThat(stream.response().statusCode()).isEqualTo(200);
        assertThat(stream.response().headers().firstValue("Content-Type")).hasValue("text/event-stream");
        for (int i = 0; i < 5; i++) {
            Rest.appendOk(shard, i, i + 1);
        }
        long last = Rest.seqno(shard);

        List<Event> got = new ArrayList<>();
        while (got.size() < last - start) {
            got.add(stream.next());
        }
        assertThat(got.stream().map(e -> Long.parseLong(e.id())).toList()).isEqualTo(range(start + 1, last));
        assertThat(got).allSatisfy(e -> assertThat(e.event()).isNull());
        JsonNode diffs = json.readTree(given().get(Rest.shards(shard) + "/diffs?from=" + (start + 1)).then()
                .statusCode(200).extract().asString()).get("diffs");
        for (int i = 0; i < got.size(); i++) {
            assertThat(json.readTree(got.get(i).data())).isEqualTo(diffs.get(i));
        }
    }

    @Test
    void a_reconnect_with_last_event_id_resumes_after_it_and_wins_over_from_seqno() throws Exception {
        ShardId shard = Rest.newShard();
        long start = Rest.seqno(shard);
        for (int i = 0; i < 6; i++) {
            Rest.appendOk(shard, i, i + 1);
        }
        long last = Rest.seqno(shard);
        Stream_ first = open(shard, "?fromSeqno=" + start, Map.of());
        List<Long> got = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            got.add(Long.parseLong(first.next().id()));
        }
        first.response().body().close(); // the connection drops

        Stream_ again = open(shard, "?fromSeqno=" + start, Map.of("Last-Event-ID", Long.toString(got.get(2))));
        while (got.get(got.size() - 1) < last) {
            got.add(Long.parseLong(again.next().id()));
        }
        assertThat(got).isEqualTo(range(start + 1, last));
    }

    @Test
    void a_truncated_start_gets_a_truncated_event_without_id_and_the_stream_ends() throws Exception {
        ShardId shard = Rest.newShard();
        for (int i = 0; i < 5; i++) {
            Rest.appendOk(shard, i, i + 1);
        }
        given().post(Rest.shards(shard) + "/maintenance/rollup").then().statusCode(200);
        given().post(Rest.shards(shard) + "/maintenance/gc").then().statusCode(200);
        long earliest = given().get(Rest.shards(shard) + "/versions").then().statusCode(200).extract().jsonPath()
                .getLong("earliest");
        assertThat(earliest).isGreaterThan(1);

        Stream_ stream = open(shard, "?fromSeqno=0", Map.of());
        Event truncated = stream.next();
        assertThat(truncated.event()).isEqualTo("truncated");
        assertThat(truncated.id()).isNull();
        JsonNode data = json.readTree(truncated.data());
        assertThat(data.get("nextSeqno").asLong()).isEqualTo(1);
        assertThat(data.get("earliestSeqno").asLong()).isEqualTo(earliest);
        assertThat(stream.next()).isEqualTo(END);
    }

    @Test
    void bad_requests_are_problem_documents_and_start_nothing() {
        ShardId shard = Rest.newShard();
        long current = Rest.seqno(shard);
        problem(given().get("/v1/shards/not-a-shard/watch").then(), 400, "invalid_id");
        problem(given().get(Rest.shards(shard) + "/watch?fromSeqno=abc").then(), 400, "invalid_request");
        problem(given().get(Rest.shards(shard) + "/watch?fromSeqno=-1").then(), 400, "invalid_request");
        problem(given().get(Rest.shards(shard) + "/watch?fromSeqno=1&fromSeqno=2").then(), 400, "invalid_request");
        problem(given().header("Last-Event-ID", "v3").get(Rest.shards(shard) + "/watch").then(), 400,
                "invalid_request");
        problem(given().get(Rest.shards(ShardId.random()) + "/watch").then(), 404, "shard_not_found");
        problem(given().get(Rest.shards(shard) + "/watch?fromSeqno=" + (current + 1)).then(), 404,
                "version_not_found").body("current", org.hamcrest.Matchers.equalTo((int) current));
        assertThat(watches.active()).isZero();
    }

    @Test
    void a_client_that_reads_nothing_is_sent_a_bounded_amount_and_then_dropped() throws Exception {
        ShardId shard = Rest.newShard();
        Rest.leasedReader(shard); // holds the versions: maintenance cannot truncate what the client would resume from
        long start = Rest.seqno(shard);
        double sentBefore = registry.counter("stateversions.watch.versions.sent").count();
        double stalledBefore = stalled();
        try (Socket socket = new Socket()) {
            socket.setReceiveBufferSize(4096); // a client that reads nothing, with a small window
            socket.connect(new java.net.InetSocketAddress(http.getHost(), http.getPort()));
            OutputStream out = socket.getOutputStream();
            out.write(("GET /v1/shards/" + shard + "/watch?fromSeqno=" + start + " HTTP/1.1\r\nHost: localhost\r\n"
                    + "Accept: text/event-stream\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 1);

            // 120 versions of about 100 KiB each as JSON events (appends of 512 parts): over 10 MB, more than the
            // kernel's socket buffers hold (4 MiB at most here).
            for (int i = 0; i < 120; i++) {
                Map<String, Object> body = Rest.append(io.stateversions.core.WriterId.random().toString(),
                        Rest.token(), i, i + 1, 512);
                Rest.json(body).post(Rest.shards(shard) + "/batches").then().statusCode(200);
            }
            long last = Rest.seqno(shard);

            await().atMost(Duration.ofSeconds(30)).failFast(() -> registry.counter("stateversions.watch.versions.sent")
                    .count() - sentBefore >= last - start).until(() -> stalled() - stalledBefore == 1);
            assertThat(watches.active()).isZero();
            double sent = registry.counter("stateversions.watch.versions.sent").count() - sentBefore;
            System.out.printf("WatchResourceTest: a client that read nothing was sent %.0f of %d versions before it"
                    + " was dropped%n", sent, last - start);
            assertThat(sent).isLessThan(last - start);

            // The server dropped the connection: reading now ends (after what the buffers held) instead of waiting.
            socket.setSoTimeout(30_000);
            InputStream in = socket.getInputStream();
            byte[] buffer = new byte[65536];
            try {
                while (in.read(buffer) >= 0) {
                    // drain what the buffers held
                }
            } catch (java.net.SocketException reset) {
                // a reset is how a dropped connection may end, too
            }
        }
    }

    private double stalled() {
        var counter = registry.find("stateversions.watch.ended").tag("reason", "stalled").counter();
        return counter == null ? 0 : counter.count();
    }
}
