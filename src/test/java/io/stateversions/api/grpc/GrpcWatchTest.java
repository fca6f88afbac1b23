package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.ListDiffsRequest;
import io.stateversions.api.grpc.v1.RunGcRequest;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.api.grpc.v1.WatchEvent;
import io.stateversions.api.grpc.v1.WatchRequest;
import io.stateversions.api.grpc.v1.WriteRollupRequest;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.watch.Watches;
import jakarta.inject.Inject;
import java.net.URL;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The server-streaming Watch RPC: events in order with the diffs ListDiffs returns, resuming after a cancelled call,
 * truncation, the errors, and a client that reads nothing (HTTP/2 flow control stops the server; the stall timeout,
 * 2 s in tests, then ends the call with the resumable watch_stalled).
 */
@QuarkusTest
class GrpcWatchTest extends GrpcTestSupport {

    @TestHTTPResource("/")
    URL http;

    @Inject
    Watches watches;

    @Inject
    MeterRegistry registry;

    private final List<ManagedChannel> channels = new ArrayList<>();

    @BeforeEach
    void noWatchesLeft() {
        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 0);
    }

    @AfterEach
    void closeChannels() throws InterruptedException {
        for (ManagedChannel c : channels) {
            c.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
    }

    private ManagedChannel channel(int flowControlWindow) {
        ManagedChannel c = NettyChannelBuilder.forAddress(http.getHost(), http.getPort()).usePlaintext()
                .flowControlWindow(flowControlWindow).build();
        channels.add(c);
        return c;
    }

    private static WatchRequest watchFrom(ShardId shard, long after) {
        return WatchRequest.newBuilder().setShardId(shard.toString()).setFromSeqno(after).build();
    }

    private static List<Long> range(long firstInclusive, long lastInclusive) {
        return LongStream.rangeClosed(firstInclusive, lastInclusive).boxed().toList();
    }

    @Test
    void events_come_in_order_with_the_diffs_list_diffs_returns() {
        ShardId shard = openShard();
        long start = seqno(shard);
        WriterId writer = WriterId.random();
        StateVersionsGrpc.StateVersionsBlockingStub stub = StateVersionsGrpc.newBlockingStub(channel(1 << 20));
        Iterator<WatchEvent> events = stub.withDeadlineAfter(30, TimeUnit.SECONDS).watch(watchFrom(shard, start));
        for (int i = 0; i < 5; i++) {
            appendOk(shard, writer, i, i + 1);
        }
        long last = seqno(shard);

        List<WatchEvent> got = new ArrayList<>();
        while (got.isEmpty() || got.get(got.size() - 1).getSeqno() < last) {
            got.add(events.next());
        }
        assertThat(got.stream().map(WatchEvent::getSeqno).toList()).isEqualTo(range(start + 1, last));
        List<io.stateversions.api.grpc.v1.Diff> diffs = client.listDiffs(ListDiffsRequest.newBuilder()
                .setShardId(shard.toString()).setFrom(start + 1).build()).getDiffsList();
        assertThat(got.stream().map(WatchEvent::getDiff).toList()).isEqualTo(diffs.subList(0, got.size()));
    }

    @Test
    void a_cancelled_call_resumed_from_the_last_seqno_misses_nothing_and_repeats_nothing() throws Exception {
        ShardId shard = openShard();
        long start = seqno(shard);
        WriterId writer = WriterId.random();
        CompletableFuture<Void> appends = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 60; i++) {
                appendOk(shard, writer, i, i + 1);
            }
        });
        List<Long> got = new ArrayList<>();
        io.grpc.Context.CancellableContext first = io.grpc.Context.current().withCancellation();
        first.run(() -> {
            Iterator<WatchEvent> events = StateVersionsGrpc.newBlockingStub(channel(1 << 20))
                    .watch(watchFrom(shard, start));
            while (got.size() < 20) {
                got.add(events.next().getSeqno());
            }
        });
        first.cancel(null); // the connection is gone mid-stream

        appends.get(60, TimeUnit.SECONDS);
        long last = seqno(shard);
        Iterator<WatchEvent> resumed = StateVersionsGrpc.newBlockingStub(channel(1 << 20))
                .withDeadlineAfter(30, TimeUnit.SECONDS).watch(watchFrom(shard, got.get(got.size() - 1)));
        while (got.get(got.size() - 1) < last) {
            got.add(resumed.next().getSeqno());
        }
        assertThat(got).isEqualTo(range(start + 1, last));
    }

    @Test
    void a_watch_from_a_truncated_version_gets_one_truncated_event_and_ends() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        for (int i = 0; i < 5; i++) {
            appendOk(shard, writer, i, i + 1);
        }
        client.writeRollup(WriteRollupRequest.newBuilder().setShardId(shard.toString()).build());
        client.runGc(RunGcRequest.newBuilder().setShardId(shard.toString()).build());
        long earliest = client.listVersions(io.stateversions.api.grpc.v1.ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).build()).getEarliest();
        assertThat(earliest).isGreaterThan(1);

        Iterator<WatchEvent> events = StateVersionsGrpc.newBlockingStub(channel(1 << 20))
                .withDeadlineAfter(30, TimeUnit.SECONDS).watch(watchFrom(shard, 0));
        WatchEvent event = events.next();
        assertThat(event.hasTruncated()).isTrue();
        assertThat(event.getTruncated().getNextSeqno()).isEqualTo(1);
        assertThat(event.getSeqno()).isEqualTo(earliest);
        assertThat(events.hasNext()).isFalse(); // the call ended with OK
    }

    @Test
    void watch_errors_are_the_api_errors() {
        StateVersionsGrpc.StateVersionsBlockingStub stub = StateVersionsGrpc.newBlockingStub(channel(1 << 20))
                .withDeadlineAfter(30, TimeUnit.SECONDS);
        assertInvalidArgument(() -> stub.watch(WatchRequest.newBuilder().setShardId("not-a-shard").build()).next(),
                "invalid_id");
        assertInvalidArgument(() -> stub.watch(WatchRequest.newBuilder().setShardId(ShardId.random().toString())
                .setFromSeqno(TOO_LARGE).build()).next(), "invalid_request");
        assertError(() -> stub.watch(WatchRequest.newBuilder().setShardId(ShardId.random().toString()).build())
                .next(), Status.Code.NOT_FOUND, "shard_not_found");
        ShardId shard = openShard();
        var info = assertError(() -> stub.watch(watchFrom(shard, seqno(shard) + 5)).next(), Status.Code.NOT_FOUND,
                "version_not_found");
        assertMembers(info, java.util.Map.of("current", Long.toString(seqno(shard))));
    }

    @Test
    void a_client_that_reads_nothing_stops_the_server_at_its_flow_control_window_and_is_then_disconnected() {
        ShardId shard = openShard();
        // A reader holds the versions from here on, so that the maintenance the appends trigger cannot truncate
        // what the stalled client resumes from.
        client.registerLeasedReader(io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest.newBuilder()
                .setShardId(shard.toString()).setPurpose("hold").build());
        long start = seqno(shard);
        double sentBefore = registry.counter("stateversions.watch.versions.sent").count();
        double stalledBefore = stalled();
        // A raw call that never requests a message: the client reads nothing beyond HTTP/2's 64 KiB window.
        ClientCall<WatchRequest, WatchEvent> call = channel(65_535)
                .newCall(StateVersionsGrpc.getWatchMethod(), io.grpc.CallOptions.DEFAULT);
        List<Status> closed = new CopyOnWriteArrayList<>();
        List<Metadata> trailers = new CopyOnWriteArrayList<>();
        List<Long> seqnos = new CopyOnWriteArrayList<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(WatchEvent event) {
                seqnos.add(event.getSeqno());
            }

            @Override
            public void onClose(Status status, Metadata t) {
                closed.add(status);
                trailers.add(t);
            }
        }, new Metadata());
        call.sendMessage(watchFrom(shard, start));
        call.halfClose();
        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 1);

        // 300 versions of about 1 KiB each (an append of 8 parts) are far more than the window holds.
        WriterId writer = WriterId.random();
        for (int i = 0; i < 300; i++) {
            var append = append(shard, writer, i, i + 1).setLen(8);
            for (int p = 1; p < 8; p++) {
                append.addParts(blobPart(writer, 100));
            }
            client.compareAndAppend(append.build());
        }
        long last = seqno(shard);

        // The server stopped sending at the window, and after the stall timeout ended the watch: its resources are
        // gone, and what is left is the window's worth of events the transport still holds.
        await().atMost(Duration.ofSeconds(30)).until(() -> stalled() - stalledBefore == 1);
        assertThat(watches.active()).isZero();
        double sent = registry.counter("stateversions.watch.versions.sent").count() - sentBefore;
        System.out.printf("GrpcWatchTest: a client that read nothing was sent %.0f of %d versions before it was"
                + " disconnected%n", sent, last - start);
        assertThat(sent).isLessThan(200);

        // When the client reads again it gets those events, then UNAVAILABLE watch_stalled with where to resume.
        call.request(Integer.MAX_VALUE);
        await().atMost(Duration.ofSeconds(30)).until(() -> !closed.isEmpty());
        assertThat(closed.get(0).getCode()).isEqualTo(Status.Code.UNAVAILABLE);
        assertThat(trailers.get(0).get(GrpcErrors.ERROR_CODE)).isEqualTo("watch_stalled");
        assertThat(seqnos).isEqualTo(range(start + 1, start + seqnos.size()));
        // The watch_stalled details name the last version sent: the client resumes from there without a gap.
        com.google.rpc.Status details = io.grpc.protobuf.StatusProto.fromStatusAndTrailers(closed.get(0),
                trailers.get(0));
        assertThat(details.getDetailsList()).isNotEmpty();
        assertThat(seqnos.get(seqnos.size() - 1)).isEqualTo(start + (long) sent);
        Iterator<WatchEvent> resumed = StateVersionsGrpc.newBlockingStub(channel(1 << 20))
                .withDeadlineAfter(30, TimeUnit.SECONDS).watch(watchFrom(shard, seqnos.get(seqnos.size() - 1)));
        List<Long> rest = new ArrayList<>();
        while (rest.isEmpty() || rest.get(rest.size() - 1) < last) {
            rest.add(resumed.next().getSeqno());
        }
        assertThat(rest).isEqualTo(range(seqnos.get(seqnos.size() - 1) + 1, last));
    }


    private double stalled() {
        return ended("stalled");
    }

    @Test
    void a_call_the_client_cancels_ends_its_watch_on_the_server() {
        ShardId shard = openShard();
        io.grpc.Context.CancellableContext ctx = io.grpc.Context.current().withCancellation();
        ctx.run(() -> StateVersionsGrpc.newStub(channel(1 << 20))
                .watch(WatchRequest.newBuilder().setShardId(shard.toString()).build(),
                        new io.grpc.stub.StreamObserver<>() {
                            @Override
                            public void onNext(WatchEvent value) {}

                            @Override
                            public void onError(Throwable t) {}

                            @Override
                            public void onCompleted() {}
                        }));
        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 1);
        double cancelledBefore = ended("cancelled");

        ctx.cancel(null);

        await().atMost(Duration.ofSeconds(10)).until(() -> watches.active() == 0);
        assertThat(ended("cancelled") - cancelledBefore).isEqualTo(1);
    }

    private double ended(String reason) {
        var counter = registry.find("stateversions.watch.ended").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }
}
