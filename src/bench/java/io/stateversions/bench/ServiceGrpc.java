package io.stateversions.bench;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.NettyChannelBuilder;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.HeartbeatLeasedReaderRequest;
import io.stateversions.api.grpc.v1.ListVersionsRequest;
import io.stateversions.api.grpc.v1.ListVersionsResponse;
import io.stateversions.api.grpc.v1.OpenShardRequest;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The service's gRPC API through the generated client, over a few HTTP/2 connections (the server serves each
 * connection on one event loop, so one connection would use one of its cores). Answers are handled on the
 * channel's own event loop ({@code directExecutor}: the callbacks only record a latency and send the next call),
 * not handed to grpc-java's default executor: that hand-off woke another thread of the load generator for every
 * answer, CPU taken from the service under test on the same machine.
 */
final class ServiceGrpc implements AutoCloseable {

    private final List<ManagedChannel> channels = new ArrayList<>();

    ServiceGrpc(int port, int connections) {
        for (int i = 0; i < Math.max(1, connections); i++) {
            channels.add(NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
                    .directExecutor().maxInboundMessageSize(64 * 1024 * 1024).build());
        }
    }

    /** Over TLS, trusting {@code ca}, every call carrying {@code token} as its bearer token. */
    ServiceGrpc(int port, int connections, java.nio.file.Path ca, String token) throws javax.net.ssl.SSLException {
        io.grpc.Metadata headers = new io.grpc.Metadata();
        headers.put(io.grpc.Metadata.Key.of("authorization", io.grpc.Metadata.ASCII_STRING_MARSHALLER),
                "Bearer " + token);
        for (int i = 0; i < Math.max(1, connections); i++) {
            channels.add(NettyChannelBuilder.forAddress("localhost", port)
                    .sslContext(io.grpc.netty.GrpcSslContexts.forClient().trustManager(ca.toFile()).build())
                    .intercept(io.grpc.stub.MetadataUtils.newAttachHeadersInterceptor(headers))
                    .directExecutor().maxInboundMessageSize(64 * 1024 * 1024).build());
        }
    }

    StateVersionsGrpc.StateVersionsBlockingStub blocking(int index) {
        return StateVersionsGrpc.newBlockingStub(channels.get(Math.floorMod(index, channels.size())))
                .withDeadlineAfter(60, TimeUnit.SECONDS);
    }

    StateVersionsGrpc.StateVersionsFutureStub future(int index) {
        return StateVersionsGrpc.newFutureStub(channels.get(Math.floorMod(index, channels.size())));
    }

    static String newShardId() {
        return "s" + UUID.randomUUID();
    }

    static Frontier frontier(long timestamp) {
        return Frontier.newBuilder().addElements(timestamp).build();
    }

    void openShard(String shardId, int index) {
        blocking(index).openShard(OpenShardRequest.newBuilder().setShardId(shardId).setKeyCodec("bytes")
                .setValCodec("bytes").setTsCodec("u64").setDiffCodec("i64").build());
    }

    CompletableFuture<?> openShardAsync(String shardId, int index) {
        return toCompletable(future(index).openShard(OpenShardRequest.newBuilder().setShardId(shardId)
                .setKeyCodec("bytes").setValCodec("bytes").setTsCodec("u64").setDiffCodec("i64").build()));
    }

    /** Opens {@code shardId} and registers {@code writerId} on it, both idempotent. */
    CompletableFuture<?> openWithWriterAsync(String shardId, String writerId, int index) {
        return openShardAsync(shardId, index).thenCompose(opened -> toCompletable(future(index).registerWriter(
                RegisterWriterRequest.newBuilder().setShardId(shardId).setWriterId(writerId).setPurpose("bench")
                        .build())));
    }

    void registerWriter(String shardId, String writerId, int index) {
        blocking(index).registerWriter(RegisterWriterRequest.newBuilder().setShardId(shardId).setWriterId(writerId)
                .setPurpose("bench").build());
    }

    String registerLeasedReader(String shardId, int index) {
        return blocking(index).registerLeasedReader(RegisterLeasedReaderRequest.newBuilder().setShardId(shardId)
                .setPurpose("bench").build()).getReaderId();
    }

    long heartbeat(String shardId, String readerId, int index) {
        return blocking(index).heartbeatLeasedReader(HeartbeatLeasedReaderRequest.newBuilder().setShardId(shardId)
                .setReaderId(readerId).build()).getSeqno();
    }

    long downgradeSince(String shardId, String readerId, long since, int index) {
        return blocking(index).downgradeSince(DowngradeSinceRequest.newBuilder().setShardId(shardId)
                .setReaderId(readerId).setSince(frontier(since)).build()).getSeqno();
    }

    ShardState getState(String shardId, int index) {
        return blocking(index).getState(GetStateRequest.newBuilder().setShardId(shardId).build());
    }

    /** The live versions from {@code from} on (one page). */
    ListVersionsResponse versions(String shardId, long from, int index) {
        return blocking(index).listVersions(ListVersionsRequest.newBuilder().setShardId(shardId).setFrom(from).build());
    }

    /**
     * An append of {@code [lower, lower + 1)} with one blob part (a reference to a part the writer would have
     * uploaded; its key lower bound carries the payload), or with no part when {@code payload} is null.
     */
    static CompareAndAppendRequest append(String shardId, String writerId, long lower, byte[] payload) {
        CompareAndAppendRequest.Builder request = CompareAndAppendRequest.newBuilder().setShardId(shardId)
                .setWriterId(writerId).setIdempotencyToken("i" + UUID.randomUUID()).setLower(frontier(lower))
                .setUpper(frontier(lower + 1));
        if (payload != null) {
            request.setLen(1).addParts(Part.newBuilder().setBlob(BlobPart.newBuilder()
                    .setKey(writerId + "/p" + UUID.randomUUID()).setEncodedSizeBytes(4096)
                    .setKeyLower(ByteString.copyFrom(payload))));
        }
        return request.build();
    }

    /** Concurrency of set-up calls (opening shards, registering handles). */
    static final int SETUP_CONCURRENCY = 16;

    /** Set-up calls retried after an outcome-unknown or unavailable answer (see {@link #forEach}). */
    static final LongAdder SETUP_RETRIES = new LongAdder();

    /**
     * Runs {@code operation} for {@code 0 .. count-1}, at most {@code concurrency} at once. An attempt that failed
     * with "outcome unknown" or "unavailable" (gRPC UNKNOWN/UNAVAILABLE, HTTP 504/503, a determinate Consensus
     * failure) is retried, up to 20 times:
     * set-up calls are idempotent, and many shards initialized at once make PostgreSQL abort some of them with
     * serialization failures, which the service retries with a growing backoff that can outlast its request
     * timeout.
     */
    static void forEach(int count, int concurrency, IntFunction<CompletableFuture<?>> operation) throws Exception {
        Semaphore permits = new Semaphore(concurrency);
        List<CompletableFuture<?>> all = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            permits.acquire();
            int index = i;
            all.add(retrying(() -> operation.apply(index), 20).whenComplete((ok, error) -> permits.release()));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
    }

    private static CompletableFuture<Object> retrying(Supplier<CompletableFuture<?>> attempt, int attemptsLeft) {
        return attempt.get().<CompletableFuture<Object>>handle((ok, error) -> {
            if (error == null) {
                return CompletableFuture.completedFuture(ok);
            }
            if (attemptsLeft > 1 && retryable(error)) {
                SETUP_RETRIES.increment();
                return retrying(attempt, attemptsLeft - 1);
            }
            return CompletableFuture.failedFuture(error);
        }).thenCompose(next -> next);
    }

    private static boolean retryable(Throwable error) {
        Throwable cause = error instanceof java.util.concurrent.CompletionException && error.getCause() != null
                ? error.getCause() : error;
        if (cause instanceof StatusRuntimeException status) {
            return status.getStatus().getCode() == Status.Code.UNKNOWN
                    || status.getStatus().getCode() == Status.Code.UNAVAILABLE;
        }
        // The raw baseline's first compare-and-sets: PostgreSQL aborts some concurrent initializations (40001).
        return cause instanceof ServiceRestAppends.RetryableHttpStatus
                || cause instanceof io.stateversions.location.Determinate;
    }

    static <T> CompletableFuture<T> toCompletable(ListenableFuture<T> future) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Futures.addCallback(future, new FutureCallback<T>() {
            @Override
            public void onSuccess(T value) {
                result.complete(value);
            }

            @Override
            public void onFailure(Throwable error) {
                result.completeExceptionally(error);
            }
        }, MoreExecutors.directExecutor());
        return result;
    }

    @Override
    public void close() {
        for (ManagedChannel channel : channels) {
            channel.shutdownNow();
        }
    }

    /** Appends through gRPC, each shard with its own registered writer. */
    static final class GrpcAppends implements Appends {

        private final ServiceGrpc service;
        private final byte[] payload;
        private String[] shardIds = new String[0];
        private String[] writerIds = new String[0];
        private long[] uppers = new long[0];

        /** Appends of one part whose key lower bound is {@code payloadBytes} long; {@code -1}: empty appends. */
        GrpcAppends(ServiceGrpc service, int payloadBytes) {
            this.service = service;
            this.payload = payloadBytes < 0 ? null : new byte[payloadBytes];
            if (payload != null) {
                new java.util.Random(7).nextBytes(payload);
            }
        }

        @Override
        public void prepare(int shards) throws Exception {
            shardIds = new String[shards];
            writerIds = new String[shards];
            uppers = new long[shards];
            forEach(shards, SETUP_CONCURRENCY, i -> {
                shardIds[i] = newShardId();
                writerIds[i] = "w" + UUID.randomUUID();
                return service.openWithWriterAsync(shardIds[i], writerIds[i], i);
            });
        }

        String shardId(int shard) {
            return shardIds[shard];
        }

        String writerId(int shard) {
            return writerIds[shard];
        }

        @Override
        public void append(int shard) {
            long lower = uppers[shard];
            service.blocking(shard).compareAndAppend(ServiceGrpc.append(shardIds[shard], writerIds[shard], lower, payload));
            uppers[shard] = lower + 1;
        }

        @Override
        public CompletableFuture<Void> appendAsync(int shard) {
            long lower = uppers[shard];
            return toCompletable(service.future(shard)
                    .compareAndAppend(ServiceGrpc.append(shardIds[shard], writerIds[shard], lower, payload)))
                    .thenApply(response -> {
                        uppers[shard] = lower + 1;
                        return null;
                    });
        }
    }
}
