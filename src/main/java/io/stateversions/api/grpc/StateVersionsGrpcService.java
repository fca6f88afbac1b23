package io.stateversions.api.grpc;

import static io.stateversions.api.grpc.GrpcRequests.frontier;

import io.grpc.ServerServiceDefinition;
import io.grpc.stub.StreamObserver;
import io.quarkus.grpc.GrpcService;
import io.stateversions.api.ApiParams;
import io.stateversions.api.ApiSpans;
import io.stateversions.api.LargeAnswers;
import io.stateversions.api.ShardApi;
import io.stateversions.api.grpc.v1.ApplyMergeResRequest;
import io.stateversions.api.grpc.v1.ApplyMergeResResponse;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceRequest;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceResponse;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.DowngradeSinceResponse;
import io.stateversions.api.grpc.v1.ExpireCriticalReaderRequest;
import io.stateversions.api.grpc.v1.ExpireCriticalReaderResponse;
import io.stateversions.api.grpc.v1.ExpireLeasedReaderRequest;
import io.stateversions.api.grpc.v1.ExpireLeasedReaderResponse;
import io.stateversions.api.grpc.v1.ExpireWriterRequest;
import io.stateversions.api.grpc.v1.ExpireWriterResponse;
import io.stateversions.api.grpc.v1.FinalizeRequest;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.GetVersionRequest;
import io.stateversions.api.grpc.v1.HeartbeatLeasedReaderRequest;
import io.stateversions.api.grpc.v1.HeartbeatLeasedReaderResponse;
import io.stateversions.api.grpc.v1.HeartbeatWriterRequest;
import io.stateversions.api.grpc.v1.HeartbeatWriterResponse;
import io.stateversions.api.grpc.v1.ListDiffsRequest;
import io.stateversions.api.grpc.v1.ListDiffsResponse;
import io.stateversions.api.grpc.v1.ListMergeRequestsRequest;
import io.stateversions.api.grpc.v1.ListMergeRequestsResponse;
import io.stateversions.api.grpc.v1.ListRollupsRequest;
import io.stateversions.api.grpc.v1.ListRollupsResponse;
import io.stateversions.api.grpc.v1.ListShardsRequest;
import io.stateversions.api.grpc.v1.ListShardsResponse;
import io.stateversions.api.grpc.v1.ListVersionsRequest;
import io.stateversions.api.grpc.v1.ListVersionsResponse;
import io.stateversions.api.grpc.v1.OpenShardRequest;
import io.stateversions.api.grpc.v1.OpenShardResponse;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderRequest;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderResponse;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderResponse;
import io.stateversions.api.grpc.v1.RegisterSchemaRequest;
import io.stateversions.api.grpc.v1.RegisterSchemaResponse;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RegisterWriterResponse;
import io.stateversions.api.grpc.v1.RunGcRequest;
import io.stateversions.api.grpc.v1.RunGcResponse;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.ShardSummary;
import io.stateversions.api.grpc.v1.SnapshotRequest;
import io.stateversions.api.grpc.v1.SnapshotResponse;
import io.stateversions.api.grpc.v1.SweepLeakedBlobsRequest;
import io.stateversions.api.grpc.v1.SweepLeakedBlobsResponse;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.api.grpc.v1.VersionInfo;
import io.stateversions.api.grpc.v1.WatchEvent;
import io.stateversions.api.grpc.v1.WatchRequest;
import io.stateversions.api.grpc.v1.WriteRollupRequest;
import io.stateversions.api.grpc.v1.WriteRollupResponse;
import io.stateversions.core.Codecs;
import io.stateversions.core.Description;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.function.ToIntFunction;

/**
 * The gRPC API ({@code proto/stateversions/v1/state_versions.proto}): parses each request
 * ({@link GrpcRequests}, {@link ApiParams}), delegates to {@link ShardApi} and renders the result
 * ({@link GrpcResponses}); failures, including parse failures, go through {@link GrpcErrors}. Strings that are not
 * identifiers (codec names, purposes, the merge id) are passed as they are: {@link ShardApi} checks them, for both
 * adapters. Nothing here blocks: every call answers when its {@link ShardApi} stage completes, on the thread that
 * completes it, so the event loop serves it.
 *
 * <p>The service is grpc-java's own (stream observers), not Mutiny's: a Mutiny {@code Uni} per call captured and
 * restored the request's context at each operator (SmallRye context propagation), about 5 % of the service's CPU per
 * append, for nothing this service uses; and a Mutiny {@code Multi} is drained without regard to the transport's
 * flow control, where {@code Watch} ({@link GrpcWatch}) sends only while the call is ready.
 */
@GrpcService
public class StateVersionsGrpcService extends StateVersionsGrpc.StateVersionsImplBase {

    private final ShardApi api;
    private final GrpcWatch watch;
    private final ApiSpans spans;
    private final LargeAnswers large;

    public StateVersionsGrpcService(ShardApi api, ApiSpans spans, LargeAnswers large) {
        this.api = api;
        this.watch = new GrpcWatch(api);
        this.spans = spans;
        this.large = large;
    }

    /** The generated definition, every method guarded by {@link RequestGuard} (a bad payload is INVALID_ARGUMENT). */
    @Override
    public ServerServiceDefinition bindService() {
        return RequestGuard.guard(super.bindService(), spans);
    }

    /**
     * Runs {@code operation} (parsing included, so that a bad field fails the call) and answers its rendered result,
     * or its failure as {@link GrpcErrors#toStatus(Throwable) a status}.
     */
    private static <T, R> void call(StreamObserver<R> observer, Supplier<CompletionStage<T>> operation,
            Function<T, R> render) {
        CompletionStage<T> stage = start(observer, operation);
        if (stage != null) {
            stage.whenComplete((result, failure) -> answer(observer, result, failure, render));
        }
    }

    /** {@code operation}'s stage; null if it failed to start (a bad field), which is answered as a status. */
    private static <T, R> CompletionStage<T> start(StreamObserver<R> observer,
            Supplier<CompletionStage<T>> operation) {
        try {
            return operation.get();
        } catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
            return null;
        }
    }

    /**
     * {@link #call} for an answer whose size grows with the shard (a state, a snapshot): one of
     * {@link LargeAnswers#OFF_LOOP_BATCHES} batches or more ({@code batches}) is rendered, serialized and sent on the
     * CPU pool rather than on the event loop that completed the read.
     */
    private <T, R> void callLarge(StreamObserver<R> observer, Supplier<CompletionStage<T>> operation,
            ToIntFunction<T> batches, Function<T, R> render) {
        CompletionStage<T> stage = start(observer, operation);
        if (stage == null) {
            return;
        }
        stage.whenComplete((result, failure) -> {
            if (failure == null && LargeAnswers.isLarge(batches.applyAsInt(result))) {
                large.execute(() -> answer(observer, result, null, render));
            } else {
                answer(observer, result, failure, render);
            }
        });
    }

    /** Answers {@code failure} as a status, or {@code result} rendered (a failure to render as a status). */
    private static <T, R> void answer(StreamObserver<R> observer, T result, Throwable failure, Function<T, R> render) {
        if (failure != null) {
            observer.onError(GrpcErrors.toStatus(failure));
            return;
        }
        R response;
        try {
            response = render.apply(result);
        } catch (RuntimeException e) {
            observer.onError(GrpcErrors.toStatus(e));
            return;
        }
        observer.onNext(response);
        observer.onCompleted();
    }

    private static ShardId shard(String value) {
        return ApiParams.shardId(value);
    }

    // ----------------------------------------------------------------------------------------------------- shards

    @Override
    public void openShard(OpenShardRequest request, StreamObserver<OpenShardResponse> observer) {
        call(observer, () -> api.openShard(shard(request.getShardId()), new Codecs(request.getKeyCodec(),
                        request.getValCodec(), request.getTsCodec(), request.getDiffCodec())),
                opened -> OpenShardResponse.newBuilder()
                        .setCreated(opened.created())
                        .setShard(GrpcResponses.summary(opened.state()))
                        .build());
    }

    @Override
    public void listShards(ListShardsRequest request, StreamObserver<ListShardsResponse> observer) {
        call(observer, () -> api.listShards(
                        request.hasAfter() ? Optional.of(shard(request.getAfter())) : Optional.empty(),
                        GrpcRequests.limit(request.hasLimit(), request.getLimit())),
                page -> {
                    ListShardsResponse.Builder response = ListShardsResponse.newBuilder();
                    page.shards().forEach(s -> response.addShards(s.toString()));
                    page.next().ifPresent(next -> response.setNext(next.toString()));
                    return response.build();
                });
    }

    @Override
    public void getState(GetStateRequest request, StreamObserver<ShardState> observer) {
        callLarge(observer, () -> api.getState(shard(request.getShardId())), LargeAnswers::batches,
                GrpcResponses::state);
    }

    @Override
    public void listVersions(ListVersionsRequest request, StreamObserver<ListVersionsResponse> observer) {
        call(observer, () -> api.listVersions(shard(request.getShardId()),
                        GrpcRequests.optionalSeqno("from", request.hasFrom(), request.getFrom()),
                        GrpcRequests.limit(request.hasLimit(), request.getLimit())),
                versions -> {
                    ListVersionsResponse.Builder response = ListVersionsResponse.newBuilder()
                            .setEarliest(versions.earliest().value())
                            .setCurrent(versions.current().value());
                    for (ShardApi.VersionInfo v : versions.versions()) {
                        response.addVersions(VersionInfo.newBuilder()
                                .setSeqno(v.seqno().value())
                                .setWalltimeMs(v.walltimeMs())
                                .setDiffBytes(v.diffBytes()));
                    }
                    versions.next().ifPresent(next -> response.setNext(next.value()));
                    return response.build();
                });
    }

    @Override
    public void getVersion(GetVersionRequest request, StreamObserver<ShardState> observer) {
        callLarge(observer, () -> api.getVersion(shard(request.getShardId()),
                ApiParams.seqno("seqno", request.getSeqno())), LargeAnswers::batches, GrpcResponses::state);
    }

    @Override
    public void listDiffs(ListDiffsRequest request, StreamObserver<ListDiffsResponse> observer) {
        call(observer, () -> api.listDiffs(shard(request.getShardId()),
                        GrpcRequests.optionalSeqno("from", request.hasFrom(), request.getFrom()),
                        GrpcRequests.limit(request.hasLimit(), request.getLimit())),
                diffs -> {
                    ListDiffsResponse.Builder response = ListDiffsResponse.newBuilder();
                    diffs.diffs().forEach(d -> response.addDiffs(GrpcResponses.diff(d)));
                    diffs.next().ifPresent(next -> response.setNext(next.value()));
                    return response.build();
                });
    }

    @Override
    public void listRollups(ListRollupsRequest request, StreamObserver<ListRollupsResponse> observer) {
        call(observer, () -> api.listRollups(shard(request.getShardId())), rollups -> {
            ListRollupsResponse.Builder response = ListRollupsResponse.newBuilder();
            for (Map.Entry<SeqNo, HollowRollup> rollup : rollups.entrySet()) {
                response.addRollups(GrpcResponses.rollup(rollup.getKey(), rollup.getValue()));
            }
            return response.build();
        });
    }

    // --------------------------------------------------------------------------------------------- leased readers

    @Override
    public void registerLeasedReader(RegisterLeasedReaderRequest request,
            StreamObserver<RegisterLeasedReaderResponse> observer) {
        call(observer, () -> api.registerLeasedReader(shard(request.getShardId()),
                        request.hasReaderId() ? Optional.of(ApiParams.leasedReaderId(request.getReaderId()))
                                : Optional.empty(),
                        request.getPurpose(),
                        GrpcRequests.leaseDurationMs(request.hasLeaseDurationMs(), request.getLeaseDurationMs())),
                registered -> RegisterLeasedReaderResponse.newBuilder()
                        .setSeqno(registered.seqno().value())
                        .setReaderId(registered.readerId().toString())
                        .setSince(GrpcResponses.frontier(registered.since()))
                        .setUpper(GrpcResponses.frontier(registered.upper()))
                        .setLeaseDurationMs(registered.leaseDurationMs())
                        .build());
    }

    @Override
    public void heartbeatLeasedReader(HeartbeatLeasedReaderRequest request,
            StreamObserver<HeartbeatLeasedReaderResponse> observer) {
        call(observer, () -> api.heartbeatLeasedReader(shard(request.getShardId()),
                        ApiParams.leasedReaderId(request.getReaderId())),
                seqno -> HeartbeatLeasedReaderResponse.newBuilder().setSeqno(seqno.value()).build());
    }

    @Override
    public void downgradeSince(DowngradeSinceRequest request, StreamObserver<DowngradeSinceResponse> observer) {
        call(observer, () -> api.downgradeSince(shard(request.getShardId()),
                        ApiParams.leasedReaderId(request.getReaderId()),
                        frontier("since", request.hasSince(), request.getSince()),
                        GrpcRequests.optionalSeqno("outstandingSeqno", request.hasOutstandingSeqno(),
                                request.getOutstandingSeqno())),
                downgraded -> DowngradeSinceResponse.newBuilder()
                        .setSeqno(downgraded.seqno().value())
                        .setSince(GrpcResponses.frontier(downgraded.since()))
                        .build());
    }

    @Override
    public void expireLeasedReader(ExpireLeasedReaderRequest request,
            StreamObserver<ExpireLeasedReaderResponse> observer) {
        call(observer, () -> api.expireLeasedReader(shard(request.getShardId()),
                        ApiParams.leasedReaderId(request.getReaderId())),
                seqno -> ExpireLeasedReaderResponse.newBuilder().setSeqno(seqno.value()).build());
    }

    // ------------------------------------------------------------------------------------------- critical readers

    @Override
    public void registerCriticalReader(RegisterCriticalReaderRequest request,
            StreamObserver<RegisterCriticalReaderResponse> observer) {
        call(observer, () -> api.registerCriticalReader(shard(request.getShardId()),
                        ApiParams.criticalReaderId(request.getReaderId()),
                        request.getPurpose(),
                        request.getOpaqueCodec(),
                        request.hasInitialOpaque() ? request.getInitialOpaque() : 0L),
                registered -> RegisterCriticalReaderResponse.newBuilder()
                        .setSeqno(registered.seqno().value())
                        .setReaderId(registered.readerId().toString())
                        .setSince(GrpcResponses.frontier(registered.since()))
                        .setOpaque(registered.opaque())
                        .setOpaqueCodec(registered.opaqueCodec())
                        .build());
    }

    @Override
    public void compareAndDowngradeSince(CompareAndDowngradeSinceRequest request,
            StreamObserver<CompareAndDowngradeSinceResponse> observer) {
        call(observer, () -> api.compareAndDowngradeSince(shard(request.getShardId()),
                        ApiParams.criticalReaderId(request.getReaderId()),
                        request.getExpectedOpaque(), request.getNewOpaque(),
                        frontier("since", request.hasSince(), request.getSince())),
                downgraded -> CompareAndDowngradeSinceResponse.newBuilder()
                        .setSeqno(downgraded.seqno().value())
                        .setSince(GrpcResponses.frontier(downgraded.since()))
                        .setOpaque(downgraded.opaque())
                        .build());
    }

    @Override
    public void expireCriticalReader(ExpireCriticalReaderRequest request,
            StreamObserver<ExpireCriticalReaderResponse> observer) {
        call(observer, () -> api.expireCriticalReader(shard(request.getShardId()),
                        ApiParams.criticalReaderId(request.getReaderId())),
                seqno -> ExpireCriticalReaderResponse.newBuilder().setSeqno(seqno.value()).build());
    }

    // ---------------------------------------------------------------------------------------------------- writers

    @Override
    public void registerWriter(RegisterWriterRequest request, StreamObserver<RegisterWriterResponse> observer) {
        call(observer, () -> api.registerWriter(shard(request.getShardId()), ApiParams.writerId(request.getWriterId()),
                        request.getPurpose(),
                        GrpcRequests.leaseDurationMs(request.hasLeaseDurationMs(), request.getLeaseDurationMs())),
                registered -> RegisterWriterResponse.newBuilder()
                        .setSeqno(registered.seqno().value())
                        .setWriterId(registered.writerId().toString())
                        .setUpper(GrpcResponses.frontier(registered.upper()))
                        .setLeaseDurationMs(registered.leaseDurationMs())
                        .build());
    }

    @Override
    public void heartbeatWriter(HeartbeatWriterRequest request, StreamObserver<HeartbeatWriterResponse> observer) {
        call(observer, () -> api.heartbeatWriter(shard(request.getShardId()),
                        ApiParams.writerId(request.getWriterId())),
                seqno -> HeartbeatWriterResponse.newBuilder().setSeqno(seqno.value()).build());
    }

    @Override
    public void expireWriter(ExpireWriterRequest request, StreamObserver<ExpireWriterResponse> observer) {
        call(observer, () -> api.expireWriter(shard(request.getShardId()), ApiParams.writerId(request.getWriterId())),
                seqno -> ExpireWriterResponse.newBuilder().setSeqno(seqno.value()).build());
    }

    @Override
    public void compareAndAppend(CompareAndAppendRequest request, StreamObserver<CompareAndAppendResponse> observer) {
        call(observer, () -> {
            ShardId shard = shard(request.getShardId());
            var writer = ApiParams.writerId(request.getWriterId());
            var token = ApiParams.idempotencyToken(request.getIdempotencyToken());
            Description desc = new Description(
                    frontier("lower", request.hasLower(), request.getLower()),
                    frontier("upper", request.hasUpper(), request.getUpper()),
                    request.hasSince() ? frontier("since", true, request.getSince())
                            : io.stateversions.core.Frontier.MIN);
            HollowBatch batch = GrpcRequests.batch("batch", desc, request.getLen(), request.getPartsList(),
                    request.getRunSplitsList());
            return api.compareAndAppend(shard, writer, token, batch,
                    GrpcRequests.leaseDurationMs(request.hasLeaseDurationMs(), request.getLeaseDurationMs()));
        }, appended -> {
            CompareAndAppendResponse.Builder response = CompareAndAppendResponse.newBuilder()
                    .setSeqno(appended.seqno().value())
                    .setUpper(GrpcResponses.frontier(appended.upper()))
                    .setAlreadyCommitted(appended.alreadyCommitted());
            for (FueledMergeReq merge : appended.mergeRequests()) {
                response.addMergeRequests(GrpcResponses.mergeRequest(merge));
            }
            return response.build();
        });
    }

    @Override
    public void snapshot(SnapshotRequest request, StreamObserver<SnapshotResponse> observer) {
        callLarge(observer, () -> api.snapshot(shard(request.getShardId()),
                ApiParams.timestamp("asOf", request.getAsOf())), snapshot -> snapshot.batches().size(), snapshot -> {
                    SnapshotResponse.Builder response = SnapshotResponse.newBuilder()
                            .setSeqno(snapshot.seqno().value())
                            .setAsOf(snapshot.asOf())
                            .setSince(GrpcResponses.frontier(snapshot.since()))
                            .setUpper(GrpcResponses.frontier(snapshot.upper()));
                    snapshot.batches().forEach(b -> response.addBatches(GrpcResponses.batch(b)));
                    return response.build();
                });
    }

    // ------------------------------------------------------------------------------ compaction, schemas, lifecycle

    @Override
    public void listMergeRequests(ListMergeRequestsRequest request,
            StreamObserver<ListMergeRequestsResponse> observer) {
        call(observer, () -> api.listMergeRequests(shard(request.getShardId())), requests -> {
            ListMergeRequestsResponse.Builder response = ListMergeRequestsResponse.newBuilder();
            requests.forEach(r -> response.addMergeRequests(GrpcResponses.mergeRequest(r)));
            return response.build();
        });
    }

    @Override
    public void applyMergeRes(ApplyMergeResRequest request, StreamObserver<ApplyMergeResResponse> observer) {
        call(observer, () -> {
            ShardId shard = shard(request.getShardId());
            String id = ApiParams.mergeId(request.getId());
            FueledMergeRes res = new FueledMergeRes(
                    GrpcRequests.batch("output", request.hasOutput(), request.getOutput()),
                    GrpcRequests.batches("inputs", request.getInputsList()));
            return api.applyMergeRes(shard, id, res);
        }, applied -> ApplyMergeResResponse.newBuilder()
                .setSeqno(applied.seqno().value())
                .setResult(GrpcResponses.applyMergeResult(applied.result()))
                .build());
    }

    @Override
    public void registerSchema(RegisterSchemaRequest request, StreamObserver<RegisterSchemaResponse> observer) {
        call(observer, () -> api.registerSchema(shard(request.getShardId()),
                        GrpcRequests.bytes(request.getKeySchema()), GrpcRequests.bytes(request.getValSchema())),
                registered -> RegisterSchemaResponse.newBuilder()
                        .setSeqno(registered.seqno().value())
                        .setSchemaId(registered.schemaId().value())
                        .build());
    }

    @Override
    public void finalize(FinalizeRequest request, StreamObserver<ShardSummary> observer) {
        call(observer, () -> api.finalizeShard(shard(request.getShardId())), GrpcResponses::summary);
    }

    @Override
    public void writeRollup(WriteRollupRequest request, StreamObserver<WriteRollupResponse> observer) {
        call(observer, () -> api.writeRollup(shard(request.getShardId())), written -> {
            WriteRollupResponse.Builder response = WriteRollupResponse.newBuilder().setSeqno(written.seqno().value());
            written.rollupKey().ifPresent(key -> response.setRollupKey(key.toString()));
            return response.build();
        });
    }

    @Override
    public void runGc(RunGcRequest request, StreamObserver<RunGcResponse> observer) {
        call(observer, () -> api.runGc(shard(request.getShardId())), gc -> RunGcResponse.newBuilder()
                .setSeqno(gc.seqno().value())
                .setTruncatedBelow(gc.truncatedBelow().value())
                .setRollupsDeleted(gc.rollupsDeleted())
                .setPartsDeleted(gc.partsDeleted())
                .build());
    }

    @Override
    public void sweepLeakedBlobs(SweepLeakedBlobsRequest request, StreamObserver<SweepLeakedBlobsResponse> observer) {
        call(observer, () -> api.sweepLeakedBlobs(shard(request.getShardId()),
                        GrpcRequests.graceMs(request.hasGraceMs(), request.getGraceMs())),
                swept -> SweepLeakedBlobsResponse.newBuilder()
                        .setSeqno(swept.seqno().value())
                        .setListed(swept.listed())
                        .setReferenced(swept.referenced())
                        .setDeleted(swept.deleted())
                        .setTooYoung(swept.tooYoung())
                        .build());
    }

    // ------------------------------------------------------------------------------------------------------ watch

    @Override
    public void watch(WatchRequest request, StreamObserver<WatchEvent> observer) {
        watch.watch(request, observer);
    }
}
