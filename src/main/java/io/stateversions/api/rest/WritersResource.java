package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;

/** Writers: registered by {@code PUT} or by their first append, kept alive by appends and heartbeats. */
@Path("/v1/shards/{shard}/writers/{writer}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Writers")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class WritersResource {

    private final ShardApi api;

    public WritersResource(ShardApi api) {
        this.api = api;
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register (or heartbeat) a writer",
            description = "Registers the writer with a lease of `leaseDurationMs` (default: the configured writer"
                    + " lease), or heartbeats it if it is registered.")
    @APIResponse(responseCode = "200", description = "Registered",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.WriterRegistered.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_WRITER_LEASE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = Docs.TOMBSTONED,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.WriterRegistered> register(@RestPath String shard, @RestPath String writer,
            Requests.RegisterWriter body) {
        ShardId id = ApiParams.shardId(shard);
        WriterId writerId = ApiParams.writerId(writer);
        Requests.RegisterWriter b = Requests.body(body);
        OptionalLong lease = b.leaseDurationMs() == null ? OptionalLong.empty()
                : OptionalLong.of(ApiParams.leaseDurationMs(b.leaseDurationMs()));
        return api.registerWriter(id, writerId, b.purpose(), lease).thenApply(Views.WriterRegistered::of);
    }

    @POST
    @Path("/heartbeat")
    @Operation(summary = "Heartbeat a writer", description = "Extends the writer's lease from now.")
    @APIResponse(responseCode = "200", description = "Heartbeated",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SeqnoView.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = "`shard_not_found`, or `writer_expired`: the writer is not (or"
            + " no longer) registered.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SeqnoView> heartbeat(@RestPath String shard, @RestPath String writer) {
        ShardId id = ApiParams.shardId(shard);
        WriterId writerId = ApiParams.writerId(writer);
        return api.heartbeatWriter(id, writerId).thenApply(Views.SeqnoView::of);
    }

    @DELETE
    @Operation(summary = "Expire a writer",
            description = "Removes the writer and its idempotency token. Idempotent: an unknown writer is a no-op.")
    @APIResponse(responseCode = "200", description = "Expired (or was not registered)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SeqnoView.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SeqnoView> expire(@RestPath String shard, @RestPath String writer) {
        ShardId id = ApiParams.shardId(shard);
        WriterId writerId = ApiParams.writerId(writer);
        return api.expireWriter(id, writerId).thenApply(Views.SeqnoView::of);
    }
}
