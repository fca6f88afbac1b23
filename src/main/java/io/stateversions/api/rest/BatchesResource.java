package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.LargeAnswers;
import io.stateversions.api.ShardApi;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

/** The trace: appends (compare_and_append), snapshots, and compaction (merge requests and their results). */
@Path("/v1/shards/{shard}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Batches")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class BatchesResource {

    private final ShardApi api;

    private final LargeAnswers large;
    private final JsonBodies json;

    public BatchesResource(ShardApi api, LargeAnswers large, JsonBodies json) {
        this.api = api;
        this.large = large;
        this.json = json;
    }

    @POST
    @Path("/batches")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Append a batch (compare_and_append)",
            description = "Appends the batch [lower, upper) iff `lower` is the shard's upper, which becomes `upper`."
                    + " An unregistered writer is registered by its first append, with `leaseDurationMs` if given."
                    + " Resending a committed append with the same `idempotencyToken` answers 200 with"
                    + " `alreadyCommitted: true`, so retrying after `outcome_unknown` is safe; a token reused for a"
                    + " different batch is `409 idempotency_token_reused`. Two appends of one writer never commit in"
                    + " one version. The answer lists the merge requests the append produced.")
    @APIResponse(responseCode = "200", description = "Appended (or already committed)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.Appended.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_APPEND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`upper_mismatch`: `lower` is not the shard's upper; the body"
            + " has `currentUpper` and `writerUpper` (the writer's last appended upper: at or beyond this batch's"
            + " upper, a retried append may have committed). A tombstone answers `currentUpper: []`."
            + " `idempotency_token_reused`: the writer already used `idempotencyToken` for a different batch; the"
            + " body has `writerId` and `idempotencyToken`; nothing changed.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "429", description = "`inline_backpressure`: the shard's inline bytes would pass"
            + " the cap; write the inline parts to blobs and retry.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.Appended> append(@RestPath String shard, Requests.Append body) {
        ShardId id = ApiParams.shardId(shard);
        Requests.Append b = Requests.body(body);
        WriterId writer = ApiParams.writerId(b.writerId());
        IdempotencyToken token = ApiParams.idempotencyToken(b.idempotencyToken());
        HollowBatch batch = b.batch();
        return api.compareAndAppend(id, writer, token, batch, b.lease()).thenApply(Views.Appended::of);
    }

    @GET
    @Path("/snapshot")
    @Operation(summary = "Snapshot the batches needed to read as of a time",
            description = "Every batch whose lower is <= asOf, for a read as of `asOf`, which must be in"
                    + " [since, upper).")
    @APIResponse(responseCode = "200", description = "The batches",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.Snapshot.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`as_of_before_since` (asOf < since) or `as_of_not_available`"
            + " (upper <= asOf); the body has `since` and `upper`.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Response> snapshot(@RestPath String shard,
            @Parameter(description = "The read time, 0..2^63-1", required = true) @RestQuery String asOf) {
        ShardId id = ApiParams.shardId(shard);
        long at = QueryParams.timestamp("asOf", asOf);
        return large.render(api.snapshot(id, at), snapshot -> snapshot.batches().size(),
                snapshot -> Response.ok(Views.Snapshot.of(snapshot)).build(),
                snapshot -> json.ok(Views.Snapshot.of(snapshot)));
    }

    @GET
    @Path("/merge-requests")
    @Operation(summary = "List outstanding merge requests",
            description = "Groups of adjacent batches that a compactor may merge into one and return with"
                    + " `POST merges`.")
    @APIResponse(responseCode = "200", description = "The outstanding merge requests",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.MergeRequests.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.MergeRequests> mergeRequests(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.listMergeRequests(id).thenApply(r -> new Views.MergeRequests(Views.mergeRequests(r)));
    }

    @POST
    @Path("/merges")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Apply a compaction result (apply_merge_res)",
            description = "Replaces `inputs` with `output` iff the inputs are, batch for batch (bounds, since, len,"
                    + " parts and their keys, run splits), a contiguous run of the shard's batches that the output"
                    + " spans exactly, the output is not compacted beyond the shard's since, and it has no more"
                    + " updates than they do. A stale result (another compactor merged the inputs first), a"
                    + " repeated one or invented inputs are `not_applied_no_match` and commit nothing. `result` says"
                    + " what happened; a result that was not applied is not an error. Delete the output blob only"
                    + " after a `not_applied_*` answered with no `outcome_unknown` before it for this merge.")
    @APIResponse(responseCode = "200", description = "What the merge did",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.MergeApplied.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.MergeApplied> applyMerge(@RestPath String shard, Requests.ApplyMerge body) {
        ShardId id = ApiParams.shardId(shard);
        Requests.ApplyMerge b = Requests.body(body);
        String mergeId = ApiParams.mergeId(b.id());
        FueledMergeRes res = new FueledMergeRes(b.outputBatch(), b.inputBatches());
        return api.applyMergeRes(id, mergeId, res).thenApply(Views.MergeApplied::of);
    }
}
