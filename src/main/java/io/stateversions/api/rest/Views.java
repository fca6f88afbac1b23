package io.stateversions.api.rest;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import io.stateversions.api.ShardApi;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Codecs;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardStats;
import io.stateversions.core.State;
import io.stateversions.core.WriterState;
import io.stateversions.stateversions.BlobInventory;
import io.stateversions.stateversions.ShardInvariants;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The JSON shapes of api.md and the one place that renders domain values into them: every resource returns these
 * records, built by the {@code of} methods here. Frontiers are arrays of zero or one timestamp, seqnos are integers
 * and bytes are standard padded base64. {@code Frontier} and {@code Problem} are defined in
 * {@code META-INF/openapi.yaml}.
 */
public final class Views {

    private Views() {}

    /** {@code [t]} or {@code []}. */
    public static List<Long> frontier(Frontier frontier) {
        return frontier.isEmpty() ? List.of() : List.of(frontier.element());
    }

    // ----------------------------------------------------------------------------------------------- shards

    @Schema(description = "The four codec names of a shard, fixed when it is created.")
    public record CodecsView(String keyCodec, String valCodec, String tsCodec, String diffCodec) {
        public static CodecsView of(Codecs codecs) {
            return new CodecsView(codecs.key(), codecs.val(), codecs.ts(), codecs.diff());
        }
    }

    @Schema(description = "The identity and version of a shard's state.")
    public record ShardSummary(
            @Schema(example = "s00000000-0000-0000-0000-000000000000") String shardId,
            long seqno,
            @Schema(description = "min(seqno, every leased reader's seqno hold)") long seqnoSince,
            @Schema(description = "The earliest live (not truncated) version") long earliestSeqno,
            @Schema(ref = "Frontier") List<Long> since,
            @Schema(ref = "Frontier") List<Long> upper,
            CodecsView codecs,
            boolean tombstone) {

        public static ShardSummary of(State state, SeqNo earliest) {
            return new ShardSummary(state.shardId().toString(), state.seqno().value(), state.seqnoSince().value(),
                    earliest.value(), frontier(state.since()), frontier(state.upper()), CodecsView.of(state.codecs()),
                    state.isTombstone());
        }
    }

    @Schema(description = "A rollup that state refers to; the size is unknown for the initial rollup.")
    public record RollupView(long seqno, String key, Long encodedSizeBytes) {
        public static RollupView of(SeqNo seqno, HollowRollup rollup) {
            return new RollupView(seqno.value(), rollup.key().toString(),
                    rollup.encodedSizeBytes().isPresent() ? rollup.encodedSizeBytes().getAsLong() : null);
        }
    }

    public record LeasedReaderView(String readerId, long seqno, @Schema(ref = "Frontier") List<Long> since,
            long lastHeartbeatMs, long leaseDurationMs, String purpose) {}

    public record CriticalReaderView(String readerId, @Schema(ref = "Frontier") List<Long> since, long opaque,
            String opaqueCodec, String purpose) {}

    public record WriterView(String writerId, long lastHeartbeatMs, long leaseDurationMs, String mostRecentWriteToken,
            @Schema(ref = "Frontier") List<Long> mostRecentWriteUpper, String purpose) {}

    public record SchemaView(long schemaId, @Schema(format = "byte") String keySchema,
            @Schema(format = "byte") String valSchema) {}

    public record StatsView(long batchCount, long partCount, long updateCount, long inlineParts, long inlineBytes,
            long batchBytes, long rollupBytes) {
        public static StatsView of(ShardStats stats) {
            return new StatsView(stats.batchCount(), stats.partCount(), stats.updateCount(), stats.inlinePartCount(),
                    stats.inlineBytes(), stats.batchBytes(), stats.rollupBytes());
        }
    }

    @Schema(description = "A shard's whole state at one version: the ShardSummary fields plus everything else.")
    public record ShardState(
            String shardId,
            long seqno,
            long seqnoSince,
            long earliestSeqno,
            @Schema(ref = "Frontier") List<Long> since,
            @Schema(ref = "Frontier") List<Long> upper,
            CodecsView codecs,
            boolean tombstone,
            long walltimeMs,
            String hostname,
            @Schema(example = "0.1.0") String applierVersion,
            long lastGcReq,
            List<RollupView> rollups,
            List<LeasedReaderView> leasedReaders,
            List<CriticalReaderView> criticalReaders,
            List<WriterView> writers,
            List<SchemaView> schemas,
            List<Batch> batches,
            StatsView stats) {

        public static ShardState of(State state, SeqNo earliest) {
            ShardSummary summary = ShardSummary.of(state, earliest);
            var c = state.collections();
            List<LeasedReaderView> leased = new ArrayList<>();
            c.leasedReaders().forEach((id, r) -> leased.add(leasedReader(id.toString(), r)));
            List<CriticalReaderView> critical = new ArrayList<>();
            c.criticalReaders().forEach((id, r) -> critical.add(criticalReader(id.toString(), r)));
            List<WriterView> writers = new ArrayList<>();
            c.writers().forEach((id, w) -> writers.add(writer(id.toString(), w)));
            List<SchemaView> schemas = new ArrayList<>();
            c.schemas().forEach((id, s) -> schemas.add(schema(id, s)));
            return new ShardState(summary.shardId(), summary.seqno(), summary.seqnoSince(), summary.earliestSeqno(),
                    summary.since(), summary.upper(), summary.codecs(), summary.tombstone(), state.walltimeMs(),
                    state.hostname(), c.version().toString(), c.lastGcReq().value(), Views.rollups(c.rollups()), leased,
                    critical, writers, schemas, Views.batches(c.trace().batches()), StatsView.of(state.stats()));
        }

        private static LeasedReaderView leasedReader(String id, LeasedReaderState r) {
            return new LeasedReaderView(id, r.seqno().value(), frontier(r.since()), r.lastHeartbeatTimestampMs(),
                    r.leaseDurationMs(), r.debug().purpose());
        }

        private static CriticalReaderView criticalReader(String id, CriticalReaderState r) {
            return new CriticalReaderView(id, frontier(r.since()), r.opaque(), r.opaqueCodec(), r.debug().purpose());
        }

        private static WriterView writer(String id, WriterState w) {
            return new WriterView(id, w.lastHeartbeatTimestampMs(), w.leaseDurationMs(),
                    w.mostRecentWriteToken().toString(), frontier(w.mostRecentWriteUpper()), w.debug().purpose());
        }

        private static SchemaView schema(SchemaId id, EncodedSchemas s) {
            return new SchemaView(id.value(), s.key().toBase64(), s.val().toBase64());
        }
    }

    public static List<RollupView> rollups(NavigableMap<SeqNo, HollowRollup> rollups) {
        List<RollupView> views = new ArrayList<>(rollups.size());
        for (Map.Entry<SeqNo, HollowRollup> e : rollups.entrySet()) {
            views.add(RollupView.of(e.getKey(), e.getValue()));
        }
        return views;
    }

    public record ShardPage(List<String> shards, String next) {
        public static ShardPage of(ShardApi.ShardPage page) {
            return new ShardPage(page.shards().stream().map(Object::toString).toList(),
                    page.next().map(Object::toString).orElse(null));
        }
    }

    public record VersionView(long seqno, long walltimeMs, long diffBytes) {}

    public record VersionsPage(long earliest, long current, List<VersionView> versions, Long next) {
        public static VersionsPage of(ShardApi.Versions v) {
            return new VersionsPage(v.earliest().value(), v.current().value(),
                    v.versions().stream()
                            .map(i -> new VersionView(i.seqno().value(), i.walltimeMs(), i.diffBytes())).toList(),
                    v.next().map(SeqNo::value).orElse(null));
        }
    }

    public record ChangeView(String field, @Schema(enumeration = {"insert", "update", "delete"}) String op,
            @Schema(description = "The changed entry's key, as JSON (null for a singleton field)") JsonNode key,
            @Schema(description = "The value before, as JSON (null for an insert)") JsonNode old,
            @JsonProperty("new") @Schema(name = "new", description = "The value after, as JSON (null for a delete)")
            JsonNode neu) {}

    public record DiffView(long seqnoFrom, long seqnoTo, long walltimeMs, String latestRollupKey,
            List<ChangeView> changes) {
        public static DiffView of(ShardApi.DiffView v) {
            return new DiffView(v.seqnoFrom().value(), v.seqnoTo().value(), v.walltimeMs(),
                    v.latestRollupKey().toString(),
                    v.changes().stream().map(c -> new ChangeView(c.field(), c.op(), c.key(), c.old(), c.neu()))
                            .toList());
        }
    }

    public record DiffsPage(List<DiffView> diffs, Long next) {
        public static DiffsPage of(ShardApi.Diffs d) {
            return new DiffsPage(d.diffs().stream().map(DiffView::of).toList(), d.next().map(SeqNo::value).orElse(null));
        }
    }

    public record RollupsList(List<RollupView> rollups) {}

    // -------------------------------------------------------------------------------------------- batches

    /**
     * A batch part: a blob part ({@code key}, {@code encodedSizeBytes}, optional {@code keyLower} and
     * {@code stats}) or an inline part ({@code inline} only). Also the request shape of parts.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    @Schema(description = "Either a blob part {key, encodedSizeBytes, keyLower?, stats?} (key is the partial key"
            + " <writer key>/<part id>) or an inline part {inline} (a small update kept in state).")
    public record Part(
            @Schema(example = "w00000000-0000-0000-0000-000000000000/p00000000-0000-0000-0000-000000000001")
            String key,
            Long encodedSizeBytes,
            @Schema(format = "byte", description = "A lower bound on the part's keys, opaque") String keyLower,
            @Schema(format = "byte", description = "Column statistics, opaque") String stats,
            @Schema(format = "byte", description = "Encoded updates kept in state") String inline) {

        public static Part of(BatchPart part) {
            if (part instanceof BatchPart.Hollow h) {
                return new Part(h.key().toString(), h.encodedSizeBytes(),
                        h.keyLower().isEmpty() ? null : h.keyLower().toBase64(),
                        h.stats().isEmpty() ? null : h.stats().toBase64(), null);
            }
            return new Part(null, null, null, null, ((BatchPart.Inline) part).updates().toBase64());
        }
    }

    @Schema(description = "A batch: updates with times in [lower, upper), advanced to since.")
    public record Batch(
            @Schema(ref = "Frontier") List<Long> lower,
            @Schema(ref = "Frontier") List<Long> upper,
            @Schema(ref = "Frontier") List<Long> since,
            Long len,
            List<Part> parts,
            @Schema(description = "Strictly increasing indexes into parts that cut them into sorted runs")
            List<Integer> runSplits) {

        /** The view of {@code batch}, built for each answer (not kept with the batch: see GrpcResponses#batch). */
        public static Batch of(HollowBatch batch) {
            return new Batch(frontier(batch.desc().lower()), frontier(batch.desc().upper()),
                    frontier(batch.desc().since()), batch.len(), batch.parts().stream().map(Part::of).toList(),
                    batch.runSplits());
        }
    }

    public static List<Batch> batches(List<HollowBatch> batches) {
        return batches.stream().map(Batch::of).toList();
    }

    @Schema(description = "A request to compact adjacent batches (inputs) into one batch covering [lower, upper).")
    public record MergeRequest(@Schema(example = "0-10") String id, @Schema(ref = "Frontier") List<Long> lower,
            @Schema(ref = "Frontier") List<Long> upper, @Schema(ref = "Frontier") List<Long> since,
            List<Batch> inputs) {
        public static MergeRequest of(FueledMergeReq req) {
            return new MergeRequest(req.id(), frontier(req.desc().lower()), frontier(req.desc().upper()),
                    frontier(req.desc().since()), Views.batches(req.inputs()));
        }
    }

    public static List<MergeRequest> mergeRequests(List<FueledMergeReq> requests) {
        return requests.stream().map(MergeRequest::of).toList();
    }

    // ------------------------------------------------------------------------------------ mutation results

    public record SeqnoView(long seqno) {
        public static SeqnoView of(SeqNo seqno) {
            return new SeqnoView(seqno.value());
        }
    }

    public record LeasedReaderRegistered(String readerId, long seqno, @Schema(ref = "Frontier") List<Long> since,
            @Schema(ref = "Frontier") List<Long> upper, long leaseDurationMs) {
        public static LeasedReaderRegistered of(ShardApi.LeasedReaderRegistered r) {
            return new LeasedReaderRegistered(r.readerId().toString(), r.seqno().value(), frontier(r.since()),
                    frontier(r.upper()), r.leaseDurationMs());
        }
    }

    public record SinceDowngraded(long seqno, @Schema(ref = "Frontier") List<Long> since) {
        public static SinceDowngraded of(ShardApi.SinceDowngraded d) {
            return new SinceDowngraded(d.seqno().value(), frontier(d.since()));
        }
    }

    public record CriticalReaderRegistered(long seqno, String readerId, @Schema(ref = "Frontier") List<Long> since,
            long opaque, String opaqueCodec) {
        public static CriticalReaderRegistered of(ShardApi.CriticalReaderRegistered r) {
            return new CriticalReaderRegistered(r.seqno().value(), r.readerId().toString(), frontier(r.since()),
                    r.opaque(), r.opaqueCodec());
        }
    }

    public record CriticalDowngraded(long seqno, @Schema(ref = "Frontier") List<Long> since, long opaque) {
        public static CriticalDowngraded of(ShardApi.CriticalDowngraded d) {
            return new CriticalDowngraded(d.seqno().value(), frontier(d.since()), d.opaque());
        }
    }

    public record WriterRegistered(long seqno, String writerId, @Schema(ref = "Frontier") List<Long> upper,
            long leaseDurationMs) {
        public static WriterRegistered of(ShardApi.WriterRegistered w) {
            return new WriterRegistered(w.seqno().value(), w.writerId().toString(), frontier(w.upper()),
                    w.leaseDurationMs());
        }
    }

    public record Appended(long seqno, @Schema(ref = "Frontier") List<Long> upper, boolean alreadyCommitted,
            List<MergeRequest> mergeRequests) {
        public static Appended of(ShardApi.Appended a) {
            return new Appended(a.seqno().value(), frontier(a.upper()), a.alreadyCommitted(),
                    Views.mergeRequests(a.mergeRequests()));
        }
    }

    public record Snapshot(long seqno, long asOf, @Schema(ref = "Frontier") List<Long> since,
            @Schema(ref = "Frontier") List<Long> upper, List<Batch> batches) {
        public static Snapshot of(ShardApi.Snapshot s) {
            return new Snapshot(s.seqno().value(), s.asOf(), frontier(s.since()), frontier(s.upper()),
                    Views.batches(s.batches()));
        }
    }

    public record MergeRequests(List<MergeRequest> mergeRequests) {}

    public record MergeApplied(long seqno,
            @Schema(enumeration = {"applied_exact", "applied_subset", "not_applied_no_match",
                    "not_applied_invalid_since", "not_applied_too_many_updates"}, description = "`applied_subset` is"
                    + " reserved and never returned: a result applies only if its inputs are, batch for batch, a"
                    + " contiguous run of the shard's batches") String result) {
        public static MergeApplied of(ShardApi.MergeApplied m) {
            return new MergeApplied(m.seqno().value(), m.result().name().toLowerCase(java.util.Locale.ROOT));
        }
    }

    public record SchemaRegistered(long seqno, long schemaId) {
        public static SchemaRegistered of(ShardApi.SchemaRegistered s) {
            return new SchemaRegistered(s.seqno().value(), s.schemaId().value());
        }
    }

    public record RollupWritten(long seqno, String rollupKey) {
        public static RollupWritten of(ShardApi.RollupWritten r) {
            return new RollupWritten(r.seqno().value(), r.rollupKey().map(Object::toString).orElse(null));
        }
    }

    @Schema(description = "What a leaked-blob sweep did. Every listed blob key of the shard is counted in exactly one"
            + " of referenced, deleted and tooYoung; the rest of listed are keys that are not blob keys of the shard,"
            + " which are never deleted.")
    public record LeakedBlobsSwept(
            @Schema(description = "The version the sweep read the live versions at") long seqno,
            @Schema(description = "Keys listed under the shard's prefix") long listed,
            @Schema(description = "Listed blobs that a live version refers to") long referenced,
            @Schema(description = "Listed blobs deleted: referred to by no live version, and at least the grace old")
            long deleted,
            @Schema(description = "Listed blobs referred to by no live version but younger than the grace: kept")
            long tooYoung) {
        public static LeakedBlobsSwept of(ShardApi.LeakedBlobsSwept s) {
            return new LeakedBlobsSwept(s.seqno().value(), s.listed(), s.referenced(), s.deleted(), s.tooYoung());
        }
    }

    public record GcRun(long seqno, long truncatedBelow, long rollupsDeleted, long partsDeleted) {
        public static GcRun of(ShardApi.GcRun g) {
            return new GcRun(g.seqno().value(), g.truncatedBelow().value(), g.rollupsDeleted(), g.partsDeleted());
        }
    }

    // ------------------------------------------------- the inspector's diagnostics (not the versioned API)

    /** A shard's blobs, referenced against present ({@link BlobInventory}): what {@code /ui/…/blobs} answers. */
    public record BlobsView(String shardId, long earliest, long current, long referenced, long missing,
            long collected, long unreferenced, long foreign, List<BlobView> blobs) {

        /**
         * One key.
         *
         * @param status {@code referenced}, {@code missing}, {@code collected}, {@code unreferenced} or
         *               {@code foreign}
         */
        public record BlobView(String key, String kind, String status, Long sizeBytes, Long lastModifiedMs) {}

        public static BlobsView of(BlobInventory inventory) {
            return new BlobsView(inventory.shard().toString(), inventory.earliest().value(),
                    inventory.current().value(), inventory.count(BlobInventory.Status.REFERENCED),
                    inventory.count(BlobInventory.Status.MISSING), inventory.count(BlobInventory.Status.COLLECTED),
                    inventory.count(BlobInventory.Status.UNREFERENCED), inventory.count(BlobInventory.Status.FOREIGN),
                    inventory.blobs().stream().map(e -> new BlobView(e.key(), e.kind(), e.status().label(),
                            e.sizeBytes() < 0 ? null : e.sizeBytes(),
                            e.lastModifiedMs() < 0 ? null : e.lastModifiedMs())).toList());
        }
    }

    /**
     * The outcome of checking a shard's invariants ({@link ShardInvariants}): {@code ok} with what was seen, or the
     * violation with its values.
     */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record CheckView(String shardId, boolean ok, String violation, Long earliest, Long current,
            Integer liveStates, Integer referencedParts, Integer presentParts, Integer referencedRollups,
            Integer presentRollups, List<String> unreferencedParts, List<String> unreferencedRollups) {

        public static CheckView of(ShardInvariants.Report r) {
            return new CheckView(r.shard().toString(), true, null, r.earliest().value(), r.current().seqno().value(),
                    r.liveStates(), r.referencedParts().size(), r.presentParts().size(), r.referencedRollups().size(),
                    r.presentRollups().size(), r.unreferencedParts().stream().map(Object::toString).toList(),
                    r.unreferencedRollups().stream().map(Object::toString).toList());
        }

        public static CheckView violated(String shardId, String violation) {
            return new CheckView(shardId, false, violation, null, null, null, null, null, null, null, null, null);
        }
    }
}
