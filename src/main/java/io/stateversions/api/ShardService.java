package io.stateversions.api;

import io.stateversions.core.*;
import java.util.List;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import jakarta.enterprise.context.ApplicationScoped;

/** The implementation of {@link ShardApi} over the per-shard machines. (Being written: issue 4.) */
@ApplicationScoped
public class ShardService implements ShardApi {

    @Override
    public CompletionStage<Opened> openShard(ShardId shard, Codecs codecs) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<ShardPage> listShards(Optional<ShardId> after, int limit) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<State> getState(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<Versions> listVersions(ShardId shard, Optional<SeqNo> from, int limit) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<State> getVersion(ShardId shard, SeqNo seqno) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<Diffs> listDiffs(ShardId shard, Optional<SeqNo> from, int limit) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<NavigableMap<SeqNo, HollowRollup>> listRollups(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<LeasedReaderRegistered> registerLeasedReader(ShardId shard, Optional<LeasedReaderId> readerId, String purpose, OptionalLong leaseDurationMs) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SeqNo> heartbeatLeasedReader(ShardId shard, LeasedReaderId reader) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SinceDowngraded> downgradeSince(ShardId shard, LeasedReaderId reader, Frontier since) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SeqNo> expireLeasedReader(ShardId shard, LeasedReaderId reader) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<CriticalReaderRegistered> registerCriticalReader(ShardId shard, CriticalReaderId reader, String purpose, String opaqueCodec, long initialOpaque) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<CriticalDowngraded> compareAndDowngradeSince(ShardId shard, CriticalReaderId reader, long expectedOpaque, long newOpaque, Frontier since) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SeqNo> expireCriticalReader(ShardId shard, CriticalReaderId reader) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<WriterRegistered> registerWriter(ShardId shard, WriterId writer, String purpose, OptionalLong leaseDurationMs) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SeqNo> heartbeatWriter(ShardId shard, WriterId writer) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SeqNo> expireWriter(ShardId shard, WriterId writer) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<Appended> compareAndAppend(ShardId shard, WriterId writer, IdempotencyToken token, HollowBatch batch) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<Snapshot> snapshot(ShardId shard, long asOf) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<List<FueledMergeReq>> listMergeRequests(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<MergeApplied> applyMergeRes(ShardId shard, String id, FueledMergeRes res) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<SchemaRegistered> registerSchema(ShardId shard, Bytes keySchema, Bytes valSchema) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<State> finalizeShard(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<RollupWritten> writeRollup(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

    @Override
    public CompletionStage<GcRun> runGc(ShardId shard) {
        return CompletableFuture.failedFuture(new UnsupportedOperationException("not yet"));
    }

}
