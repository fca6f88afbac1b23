package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.ServiceProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ConnectException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica stopped under load, as Kubernetes stops one (SIGTERM): the packaged jar on its embedded PostgreSQL, with
 * appenders hammering it over REST and a watch open. From the signal on, readiness is DOWN while requests are still
 * served (the shutdown delay), the watch ends with the event that says where to resume, and afterwards new requests
 * are refused cleanly (503, or no connection at all). No request may end without an answer: that would leave its
 * client not knowing whether its append committed.
 */
class DrainIT {

    private static final Duration READY_WITHIN = Duration.ofSeconds(90);
    private static final int APPENDERS = 6;
    private static final String CODECS = "{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}";

    @TempDir
    Path temp;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private ServiceProcess service;

    @AfterEach
    void stop() throws InterruptedException {
        if (service != null && service.process.isAlive()) {
            service.process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
    }

    /** How one append ended. */
    private record Outcome(long atNanos, String what) {}

    @Test
    void sigtermUnderLoadAnswersEveryRequestAndTurnsReadinessDownFirst() throws Exception {
        // The refusal window given explicitly (its default), as an operator would: the key must be accepted (it was
        // refused at start-up, "does not map to any root", until it had a config mapping).
        service = new ServiceProcess("drain", ServiceProcess.freePort(), temp,
                List.of("-Dstateversions.api.drain-refusal=1s"),
                Map.of("STATEVERSIONS_DATA_DIR", temp.resolve("data").toString()));
        service.awaitReady(http, READY_WITHIN);

        ShardId watched = open();
        HttpResponse<InputStream> watch = http.send(HttpRequest.newBuilder(service.uri("/v1/shards/" + watched
                + "/watch?fromSeqno=1")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(watch.statusCode()).isEqualTo(200);

        ConcurrentLinkedQueue<Outcome> failures = new ConcurrentLinkedQueue<>();
        AtomicLong appended = new AtomicLong();
        CountDownLatch warmedUp = new CountDownLatch(APPENDERS);
        List<Thread> appenders = new ArrayList<>();
        for (int i = 0; i < APPENDERS; i++) {
            ShardId shard = i == 0 ? watched : open();
            Thread appender = new Thread(() -> appendUntilRefused(shard, appended, warmedUp, failures), "appender-" + i);
            appender.start();
            appenders.add(appender);
        }
        assertThat(warmedUp.await(60, TimeUnit.SECONDS)).as("every appender got going").isTrue();

        long sigterm = System.nanoTime();
        long appendedAtSignal = appended.get();
        service.process.destroy(); // SIGTERM
        await().atMost(Duration.ofSeconds(4)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                .until(() -> http.send(HttpRequest.newBuilder(service.managementUri("/q/health/ready")).build(),
                        HttpResponse.BodyHandlers.ofString()).statusCode() == 503);
        long readinessDown = System.nanoTime();
        assertThat(service.process.isAlive()).as("still serving while readiness is DOWN").isTrue();

        String watchEnd = readUntilProblemEvent(watch.body());
        assertThat(watchEnd).as("the watch's last event").contains("watch_interrupted").contains("lastSeqno");

        for (Thread appender : appenders) {
            appender.join(TimeUnit.SECONDS.toMillis(60));
            assertThat(appender.isAlive()).as(appender.getName() + " ended").isFalse();
        }
        assertThat(service.awaitExit(Duration.ofSeconds(40))).as("exit code after SIGTERM").isIn(0, 143);
        System.out.printf("drain: %d appends before SIGTERM, %d after; readiness DOWN %d ms after it; outcomes of the"
                + " last requests: %s%n", appendedAtSignal, appended.get() - appendedAtSignal,
                TimeUnit.NANOSECONDS.toMillis(readinessDown - sigterm), failures);
        assertThat(appended.get()).as("appends kept being served after SIGTERM (the delay)")
                .isGreaterThan(appendedAtSignal);
        assertThat(failures).as("how each appender's last request ended; %s", service.logExcerpt()).hasSize(APPENDERS)
                .allSatisfy(outcome -> {
                    assertThat(outcome.what()).matches("refused: (503 .*shutting_down.*|connection refused)");
                    assertThat(outcome.atNanos()).isGreaterThan(sigterm);
                });
        assertThat(service.logExcerpt()).doesNotContain("ERROR");
    }

    /** Appends empty batches to {@code shard} until a request fails, and records how it failed. */
    private void appendUntilRefused(ShardId shard, AtomicLong appended, CountDownLatch warmedUp,
            ConcurrentLinkedQueue<Outcome> failures) {
        WriterId writer = WriterId.random();
        long upper = 0;
        int mine = 0;
        while (true) {
            String body = "{\"writerId\":\"" + writer + "\",\"idempotencyToken\":\"" + IdempotencyToken.random()
                    + "\",\"lower\":[" + upper + "],\"upper\":[" + (upper + 1) + "],\"len\":0,\"parts\":[]}";
            HttpRequest request = HttpRequest.newBuilder(service.uri("/v1/shards/" + shard + "/batches"))
                    .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build();
            HttpResponse<String> response;
            String sent = java.time.LocalTime.now().toString();
            try {
                response = http.send(request, HttpResponse.BodyHandlers.ofString());
            } catch (ConnectException e) {
                failures.add(new Outcome(System.nanoTime(), "refused: connection refused"));
                return;
            } catch (IOException | InterruptedException e) {
                failures.add(new Outcome(System.nanoTime(), "no answer: " + e + " (sent " + sent + ", failed "
                        + java.time.LocalTime.now() + ")"));
                return;
            }
            if (response.statusCode() != 200) {
                String prefix = response.statusCode() == 503 ? "refused: " : "failed: ";
                failures.add(new Outcome(System.nanoTime(), prefix + response.statusCode() + " " + response.body()));
                return;
            }
            upper++;
            appended.incrementAndGet();
            if (++mine == 20) {
                warmedUp.countDown();
            }
        }
    }

    private ShardId open() throws Exception {
        ShardId shard = ShardId.random();
        HttpResponse<String> opened = http.send(HttpRequest.newBuilder(service.uri("/v1/shards/" + shard))
                .header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(CODECS)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(opened.statusCode()).as(opened.body()).isEqualTo(201);
        return shard;
    }

    /** The server-sent events of {@code stream} up to and including the first {@code problem} event. */
    private static String readUntilProblemEvent(InputStream stream) throws IOException {
        StringBuilder seen = new StringBuilder();
        try (BufferedReader reader = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            boolean problem = false;
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.startsWith("event:")) {
                    problem = line.contains("problem");
                }
                if (problem) {
                    seen.append(line).append('\n');
                    if (line.startsWith("data:")) {
                        return seen.toString();
                    }
                }
            }
        }
        return "(the stream ended without a problem event)";
    }
}
