package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.core.Bytes;
import io.stateversions.core.ShardId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

/** Schemas, finalization, and maintenance run on demand (rollup, GC, leaked-blob sweep). */
@Path("/v1/shards/{shard}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Lifecycle and maintenance")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class LifecycleResource {

    private final ShardApi api;

    public LifecycleResource(ShardApi api) {
        this.api = api;
    }

    @POST
    @Path("/schemas")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a (key schema, value schema) pair",
            description = "Schemas are opaque bytes. Ids are dense integers from 0; registering an identical pair"
                    + " again answers the same id.")
    @APIResponse(responseCode = "200", description = "The schema pair's id",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SchemaRegistered.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = Docs.TOMBSTONED,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SchemaRegistered> registerSchema(@RestPath String shard,
            Requests.RegisterSchema body) {
        ShardId id = ApiParams.shardId(shard);
        Requests.RegisterSchema b = Requests.body(body);
        Bytes key = Requests.bytes("keySchema", b.keySchema());
        Bytes val = Requests.bytes("valSchema", b.valSchema());
        return api.registerSchema(id, key, val).thenApply(Views.SchemaRegistered::of);
    }

    @POST
    @Path("/finalize")
    @Operation(summary = "Finalize a shard into a tombstone",
            description = "A shard whose since and upper are both [] becomes a tombstone: its readers and writers"
                    + " are removed and its batches collapse into one empty batch. Finalizing a tombstone again is"
                    + " 200. Afterwards appends get `upper_mismatch` with `currentUpper: []`, registrations get"
                    + " `shard_tombstoned`, and only maintenance commits new versions.")
    @APIResponse(responseCode = "200", description = "The tombstone's summary",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardSummary.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`not_finalizable`: since or upper is not [].",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.ShardSummary> finalizeShard(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.finalizeShard(id)
                .thenApply(state -> ShardsResource.withEarliest(state, Views.ShardSummary::of));
    }

    @POST
    @Path("/maintenance/rollup")
    @Operation(summary = "Write a rollup of the current state now",
            description = "Writes the current state to Blob and links it into state. `rollupKey` is null when"
                    + " there was nothing to do (the latest version is already rolled up).")
    @APIResponse(responseCode = "200", description = "The rollup written, if any",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.RollupWritten.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.RollupWritten> writeRollup(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.writeRollup(id).thenApply(Views.RollupWritten::of);
    }

    @POST
    @Path("/maintenance/gc")
    @Operation(summary = "Run garbage collection now",
            description = "Deletes the blobs only truncatable versions refer to, truncates Consensus below the"
                    + " latest rollup no reader still needs, and removes the rollups below it from state.")
    @APIResponse(responseCode = "200", description = "What GC did",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.GcRun.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.GcRun> runGc(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.runGc(id).thenApply(Views.GcRun::of);
    }

    @POST
    @Path("/maintenance/leaked-blobs")
    @Operation(summary = "Delete the shard's leaked blobs now",
            description = "Lists the blobs under the shard's prefix, then reads every live version, and deletes"
                    + " the listed batch parts and rollups that no live version refers to and that are at least"
                    + " `graceMs` old (rollups only below the earliest live version): blobs that were written but"
                    + " never linked into state (a writer that crashed before appending, a rollup whose link was"
                    + " lost). Younger ones are kept, since their writer may still link them (`tooYoung`), as are"
                    + " rollups at or above the earliest live version. Safe as long as every client links what it"
                    + " uploads within the grace. Keys under the prefix that are not blob keys of the shard are"
                    + " never deleted. GC never deletes leaked blobs: it deletes only what truncated versions"
                    + " dropped.")
    @APIResponse(responseCode = "200", description = "What the sweep did",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.LeakedBlobsSwept.class)))
    @APIResponse(responseCode = "400", description = "`invalid_id` or `invalid_request` (a malformed `graceMs`, or"
            + " one below `stateversions.maintenance.leaked-blob-min-grace`, 15 min by default: member `minGraceMs`).",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.LeakedBlobsSwept> sweepLeakedBlobs(@RestPath String shard,
            @Parameter(description = "How old, in milliseconds, an unreferenced blob must be to be deleted; at least"
                    + " `stateversions.maintenance.leaked-blob-min-grace` (15 min). Default:"
                    + " `stateversions.maintenance.leaked-blob-grace` (1 hour).") @RestQuery String graceMs) {
        ShardId id = ApiParams.shardId(shard);
        OptionalLong grace = QueryParams.optionalUnsigned("graceMs", graceMs);
        return api.sweepLeakedBlobs(id, grace).thenApply(Views.LeakedBlobsSwept::of);
    }
}
