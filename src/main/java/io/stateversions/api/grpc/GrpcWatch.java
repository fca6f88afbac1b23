package io.stateversions.api.grpc;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.stateversions.api.ApiParams;
import io.stateversions.api.DiffChanges;
import io.stateversions.api.ShardApi;
import io.stateversions.api.grpc.v1.Truncated;
import io.stateversions.api.grpc.v1.WatchEvent;
import io.stateversions.api.grpc.v1.WatchRequest;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.watch.TransportSink;
import io.stateversions.watch.WatchedVersion;
import io.stateversions.watch.Watcher;
import java.util.Optional;

/**
 * The server-streaming {@code Watch} RPC on grpc-java's {@link ServerCallStreamObserver}, whose readiness follows the
 * HTTP/2 flow-control window: a version is sent only while the call is ready, and the watcher resumes when the
 * client has read enough ({@code onReady}). A client that stops reading therefore holds at most one window of
 * events, until it is disconnected as stalled ({@code UNAVAILABLE}, {@code watch_stalled}, resumable).
 */
final class GrpcWatch {

    private final ShardApi api;

    GrpcWatch(ShardApi api) {
        this.api = api;
    }

    void watch(WatchRequest request, StreamObserver<WatchEvent> observer) {
        ServerCallStreamObserver<WatchEvent> call = (ServerCallStreamObserver<WatchEvent>) observer;
        Sink sink = new Sink(call);
        // Handlers are set now: grpc-java allows it only before this method returns.
        call.setOnReadyHandler(sink::transportReady);
        call.setOnCancelHandler(sink::disconnected);
        ShardId shard;
        Optional<SeqNo> after;
        try {
            shard = ApiParams.shardId(request.getShardId());
            after = request.hasFromSeqno() ? Optional.of(ApiParams.seqno("from_seqno", request.getFromSeqno()))
                    : Optional.empty();
        } catch (RuntimeException e) {
            call.onError(GrpcErrors.toStatus(e));
            return;
        }
        api.watch(shard, after, sink).whenComplete((watcher, error) -> {
            if (error != null) {
                call.onError(GrpcErrors.toStatus(error));
            } else {
                sink.attach(watcher);
            }
        });
    }

    /** One call's side of a watcher. */
    private static final class Sink extends TransportSink {

        private final ServerCallStreamObserver<WatchEvent> call;

        Sink(ServerCallStreamObserver<WatchEvent> call) {
            this.call = call;
        }

        @Override
        public boolean ready() {
            return !isDisconnected() && call.isReady();
        }

        @Override
        public void version(WatchedVersion version) {
            call.onNext(version.rendered(WatchedVersion.GRPC, GrpcWatch::event));
        }

        @Override
        public void truncated(SeqNo next, SeqNo earliest) {
            if (isDisconnected()) {
                return;
            }
            call.onNext(WatchEvent.newBuilder().setSeqno(earliest.value())
                    .setTruncated(Truncated.newBuilder().setNextSeqno(next.value())).build());
            call.onCompleted();
        }

        @Override
        public void end(Watcher.End reason, SeqNo lastDelivered) {
            if (!isDisconnected()) {
                call.onError(GrpcErrors.toStatus(ShardApi.watchEnded(reason, lastDelivered)));
            }
        }
    }

    private static WatchEvent event(WatchedVersion version) {
        return WatchEvent.newBuilder()
                .setSeqno(version.seqno().value())
                .setDiff(GrpcResponses.diff(DiffChanges.view(version.diff())))
                .build();
    }
}
