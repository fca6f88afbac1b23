package io.stateversions.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.stateversions.core.ApplyMergeResult;
import io.stateversions.core.Bytes;
import io.stateversions.core.Codecs;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.watch.WatchSink;
import io.stateversions.watch.Watcher;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;

/**
 * Every operation of the public API (api.md), in domain types: what the REST and gRPC adapters delegate to. The
 * adapters parse and render; everything else, including validation beyond syntax, happens behind this interface.
 *
 * <p>Every method reports failures through the returned stage, as an {@link ApiException} (codes of
 * {@link ErrorCode}); any other exception is a bug and is reported as {@code internal}. Mutations return the
 * version of the shard after the call ({@code seqno}); for a no-op, the version it was linearized at.
 */
public interface ShardApi {

    /** The default and largest {@code limit} of list operations. */
    int DEFAULT_LIMIT = 1000;

    /**
     * A shard's earliest live version as its state tells it, with no I/O: its oldest rollup. GC truncates
     * Consensus only to rollup seqnos, and removes the older rollups from state right after truncating, so this is
     * the earliest live version, except for the moment between those two steps of a GC, when it may be lower.
     */
    static SeqNo earliestSeqno(State state) {
        return state.collections().rollups().isEmpty() ? state.seqno() : state.collections().rollups().firstKey();
    }

    // ----------------------------------------------------------------------------------------------- shards

    /** {@code created}: this call initialized the shard. */
    record Opened(boolean created, State state) {}

    CompletionStage<Opened> openShard(ShardId shard, Codecs codecs);

    record ShardPage(List<ShardId> shards, Optional<ShardId> next) {}

    CompletionStage<ShardPage> listShards(Optional<ShardId> after, int limit);

    /** The current state (linearizable: it reflects every commit that finished before the call). */
    CompletionStage<State> getState(ShardId shard);

    record VersionInfo(SeqNo seqno, long walltimeMs, int diffBytes) {}

    record Versions(SeqNo earliest, SeqNo current, List<VersionInfo> versions, Optional<SeqNo> next) {}

    /** Live versions from {@code from} (default: the earliest live one). */
    CompletionStage<Versions> listVersions(ShardId shard, Optional<SeqNo> from, int limit);

    /** The state as it was at a live version: {@code version_not_found} above, {@code version_truncated} below. */
    CompletionStage<State> getVersion(ShardId shard, SeqNo seqno);

    /** One change of a decoded diff; {@code key}, {@code old} and {@code neu} are JSON (null when absent). */
    record Change(String field, String op, JsonNode key, JsonNode old, JsonNode neu) {}

    record DiffView(SeqNo seqnoFrom, SeqNo seqnoTo, long walltimeMs, PartialRollupKey latestRollupKey,
            List<Change> changes) {}

    record Diffs(List<DiffView> diffs, Optional<SeqNo> next) {}

    /** Decoded live diffs from {@code from} (default: the earliest live one). */
    CompletionStage<Diffs> listDiffs(ShardId shard, Optional<SeqNo> from, int limit);

    CompletionStage<NavigableMap<SeqNo, HollowRollup>> listRollups(ShardId shard);

    /**
     * Starts a watch of the versions after {@code after} (default: the current version, read linearizably), to be
     * sent to {@code sink} once the transport calls {@link Watcher#start()}. {@code after} may be truncated already:
     * the watch then sends a truncated event. Errors: {@code shard_not_found}, {@code version_not_found}
     * ({@code after} above the current version; member {@code current}), {@code too_many_watchers}.
     */
    CompletionStage<Watcher> watch(ShardId shard, Optional<SeqNo> after, WatchSink sink);

    /** The API error a watch ends with when it ends without the client asking. */
    static ApiException watchEnded(Watcher.End reason, SeqNo lastDelivered) {
        Map<String, Object> members = Map.of("lastSeqno", lastDelivered.value());
        return switch (reason) {
            case STALLED -> new ApiException(ErrorCode.WATCH_STALLED, "the client took no event for the stall timeout"
                    + " while versions waited; watch again from " + lastDelivered + " (the last version sent)",
                    members);
            case SHUTDOWN -> new ApiException(ErrorCode.WATCH_INTERRUPTED, "this replica ended the watch; watch"
                    + " again (on any replica) from " + lastDelivered + " (the last version sent)", members);
        };
    }

    // --------------------------------------------------------------------------------------- leased readers

    record LeasedReaderRegistered(SeqNo seqno, LeasedReaderId readerId, Frontier since, Frontier upper,
            long leaseDurationMs) {}

    /** Registers a leased reader ({@code readerId} empty: a new one); {@code leaseDurationMs} empty: the default. */
    CompletionStage<LeasedReaderRegistered> registerLeasedReader(ShardId shard, Optional<LeasedReaderId> readerId,
            String purpose, OptionalLong leaseDurationMs);

    CompletionStage<SeqNo> heartbeatLeasedReader(ShardId shard, LeasedReaderId reader);

    record SinceDowngraded(SeqNo seqno, Frontier since) {}

    /**
     * Downgrades a leased reader's since and moves its seqno hold to {@code min(outstandingSeqno, current)}
     * (without one: to the current version). A reader still fetching the parts of a snapshot passes the snapshot's
     * seqno, so that GC keeps them. Errors: {@code reader_expired}, {@code invalid_request} (an outstanding seqno
     * below the reader's present hold).
     */
    CompletionStage<SinceDowngraded> downgradeSince(ShardId shard, LeasedReaderId reader, Frontier since,
            Optional<SeqNo> outstandingSeqno);

    /** {@link #downgradeSince(ShardId, LeasedReaderId, Frontier, Optional)} without an outstanding seqno. */
    default CompletionStage<SinceDowngraded> downgradeSince(ShardId shard, LeasedReaderId reader, Frontier since) {
        return downgradeSince(shard, reader, since, Optional.empty());
    }

    CompletionStage<SeqNo> expireLeasedReader(ShardId shard, LeasedReaderId reader);

    // ------------------------------------------------------------------------------------- critical readers

    record CriticalReaderRegistered(SeqNo seqno, CriticalReaderId readerId, Frontier since, long opaque,
            String opaqueCodec) {}

    CompletionStage<CriticalReaderRegistered> registerCriticalReader(ShardId shard, CriticalReaderId reader,
            String purpose, String opaqueCodec, long initialOpaque);

    record CriticalDowngraded(SeqNo seqno, Frontier since, long opaque) {}

    /** {@code opaque_mismatch} carries {@code currentOpaque} and {@code since} (and the version still commits). */
    CompletionStage<CriticalDowngraded> compareAndDowngradeSince(ShardId shard, CriticalReaderId reader,
            long expectedOpaque, long newOpaque, Frontier since);

    CompletionStage<SeqNo> expireCriticalReader(ShardId shard, CriticalReaderId reader);

    // -------------------------------------------------------------------------------------- writers, appends

    record WriterRegistered(SeqNo seqno, WriterId writerId, Frontier upper, long leaseDurationMs) {}

    CompletionStage<WriterRegistered> registerWriter(ShardId shard, WriterId writer, String purpose,
            OptionalLong leaseDurationMs);

    CompletionStage<SeqNo> heartbeatWriter(ShardId shard, WriterId writer);

    CompletionStage<SeqNo> expireWriter(ShardId shard, WriterId writer);

    record Appended(SeqNo seqno, Frontier upper, boolean alreadyCommitted, List<FueledMergeReq> mergeRequests) {}

    /**
     * compare_and_append (spec §17) of {@code batch}, whose description holds lower, upper and since. A writer
     * not registered yet is registered with {@code leaseDurationMs} (empty: the default). At most one append per
     * writer is in any version. Errors: {@code upper_mismatch} ({@code currentUpper}, {@code writerUpper}),
     * {@code idempotency_token_reused} ({@code writerId}, {@code idempotencyToken}), {@code invalid_bounds},
     * {@code invalid_empty_time_interval}, {@code inline_backpressure}, {@code invalid_request} (also a lease below
     * the minimum).
     */
    CompletionStage<Appended> compareAndAppend(ShardId shard, WriterId writer, IdempotencyToken token,
            HollowBatch batch, OptionalLong leaseDurationMs);

    /** {@link #compareAndAppend(ShardId, WriterId, IdempotencyToken, HollowBatch, OptionalLong)}, default lease. */
    default CompletionStage<Appended> compareAndAppend(ShardId shard, WriterId writer, IdempotencyToken token,
            HollowBatch batch) {
        return compareAndAppend(shard, writer, token, batch, OptionalLong.empty());
    }

    record Snapshot(SeqNo seqno, long asOf, Frontier since, Frontier upper, List<HollowBatch> batches) {}

    CompletionStage<Snapshot> snapshot(ShardId shard, long asOf);

    // -------------------------------------------------------------------------- compaction, schemas, lifecycle

    CompletionStage<List<FueledMergeReq>> listMergeRequests(ShardId shard);

    record MergeApplied(SeqNo seqno, ApplyMergeResult result) {}

    /** {@code id} must be the id of the output's description ({@link FueledMergeReq#id()}). */
    CompletionStage<MergeApplied> applyMergeRes(ShardId shard, String id, FueledMergeRes res);

    record SchemaRegistered(SeqNo seqno, SchemaId schemaId) {}

    CompletionStage<SchemaRegistered> registerSchema(ShardId shard, Bytes keySchema, Bytes valSchema);

    /** Finalizes the shard into a tombstone; returns its state (the adapters render the summary). */
    CompletionStage<State> finalizeShard(ShardId shard);

    record RollupWritten(SeqNo seqno, Optional<PartialRollupKey> rollupKey) {}

    CompletionStage<RollupWritten> writeRollup(ShardId shard);

    record GcRun(SeqNo seqno, SeqNo truncatedBelow, long rollupsDeleted, long partsDeleted) {}

    CompletionStage<GcRun> runGc(ShardId shard);

    /**
     * What a leaked-blob sweep did. {@code listed} counts every key under the shard's prefix; each blob key of the
     * shard among them is {@code referenced} by a live version, {@code deleted}, or kept as {@code tooYoung}. Keys
     * that are not blob keys of the shard make up the rest and are never deleted.
     */
    record LeakedBlobsSwept(SeqNo seqno, long listed, long referenced, long deleted, long tooYoung) {}

    /**
     * Deletes the shard's blobs that no live version refers to and that are at least {@code graceMs} old
     * ({@link io.stateversions.machine.LeakedBlobSweeper}); {@code graceMs} empty: the configured default. Beyond
     * api.md. Errors: {@code invalid_request} (a grace outside {@code [0, 2^63-1]}).
     */
    CompletionStage<LeakedBlobsSwept> sweepLeakedBlobs(ShardId shard, OptionalLong graceMs);
}
