package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.Frontier;
import io.stateversions.core.ShardId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;

/** Critical readers: a since capability guarded by an opaque token; they never expire on their own. */
@Path("/v1/shards/{shard}/critical-readers/{reader}")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Critical readers")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class CriticalReadersResource {

    private final ShardApi api;

    public CriticalReadersResource(ShardApi api) {
        this.api = api;
    }

    @PUT
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a critical reader",
            description = "Registers the reader with the shard's since and `initialOpaque` (default 0). Registering"
                    + " an existing reader again is idempotent and answers its current since and opaque.")
    @APIResponse(responseCode = "200", description = "Registered",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.CriticalReaderRegistered.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`opaque_codec_mismatch`: the reader exists with another"
            + " `opaqueCodec`; or `shard_tombstoned`.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.CriticalReaderRegistered> register(@RestPath String shard, @RestPath String reader,
            Requests.RegisterCriticalReader body) {
        ShardId id = ApiParams.shardId(shard);
        CriticalReaderId readerId = ApiParams.criticalReaderId(reader);
        Requests.RegisterCriticalReader b = Requests.body(body);
        long initialOpaque = b.initialOpaque() == null ? 0 : b.initialOpaque();
        return api.registerCriticalReader(id, readerId, b.purpose(), b.opaqueCodec(), initialOpaque)
                .thenApply(Views.CriticalReaderRegistered::of);
    }

    @POST
    @Path("/compare-and-downgrade-since")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Compare and downgrade a critical reader's since",
            description = "If the reader's opaque is `expectedOpaque`, sets it to `newOpaque` and advances the"
                    + " reader's since to `since` (never backwards). Otherwise answers `opaque_mismatch` with the"
                    + " current opaque and since.")
    @APIResponse(responseCode = "200", description = "The reader's since and opaque after the call",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.CriticalDowngraded.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = "`shard_not_found`, or `reader_expired`: the reader is not"
            + " registered.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`opaque_mismatch`: the reader's opaque is not"
            + " `expectedOpaque`; the body has `currentOpaque` and `since`.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.CriticalDowngraded> compareAndDowngradeSince(@RestPath String shard,
            @RestPath String reader, Requests.CompareAndDowngradeSince body) {
        ShardId id = ApiParams.shardId(shard);
        CriticalReaderId readerId = ApiParams.criticalReaderId(reader);
        Requests.CompareAndDowngradeSince b = Requests.body(body);
        long expected = Requests.required("expectedOpaque", b.expectedOpaque());
        long next = Requests.required("newOpaque", b.newOpaque());
        Frontier since = Requests.frontier("since", b.since());
        return api.compareAndDowngradeSince(id, readerId, expected, next, since)
                .thenApply(Views.CriticalDowngraded::of);
    }

    @DELETE
    @Operation(summary = "Expire a critical reader",
            description = "Removes the reader. Idempotent: an unknown reader is a no-op.")
    @APIResponse(responseCode = "200", description = "Expired (or was not registered)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SeqnoView.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SeqnoView> expire(@RestPath String shard, @RestPath String reader) {
        ShardId id = ApiParams.shardId(shard);
        CriticalReaderId readerId = ApiParams.criticalReaderId(reader);
        return api.expireCriticalReader(id, readerId).thenApply(Views.SeqnoView::of);
    }
}
