package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.core.Frontier;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.ShardId;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;

/** Leased readers: a since capability and a seqno hold, kept alive by heartbeats. */
@Path("/v1/shards/{shard}/leased-readers")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Leased readers")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class LeasedReadersResource {

    private final ShardApi api;

    public LeasedReadersResource(ShardApi api) {
        this.api = api;
    }

    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Register a leased reader",
            description = "Registers a reader (a new one if `readerId` is omitted; the same `readerId` again is"
                    + " idempotent). Its since is the shard's since and it holds the current seqno; the lease is"
                    + " `leaseDurationMs` (default: the configured reader lease).")
    @APIResponse(responseCode = "200", description = "Registered",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.LeasedReaderRegistered.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = Docs.TOMBSTONED,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.LeasedReaderRegistered> register(@RestPath String shard,
            Requests.RegisterLeasedReader body) {
        ShardId id = ApiParams.shardId(shard);
        Requests.RegisterLeasedReader b = Requests.body(body);
        Optional<LeasedReaderId> reader = b.readerId() == null ? Optional.empty()
                : Optional.of(ApiParams.leasedReaderId(b.readerId()));
        OptionalLong lease = b.leaseDurationMs() == null ? OptionalLong.empty()
                : OptionalLong.of(ApiParams.leaseDurationMs(b.leaseDurationMs()));
        return api.registerLeasedReader(id, reader, b.purpose(), lease).thenApply(Views.LeasedReaderRegistered::of);
    }

    @POST
    @Path("/{reader}/heartbeat")
    @Operation(summary = "Heartbeat a leased reader", description = "Extends the reader's lease from now.")
    @APIResponse(responseCode = "200", description = "Heartbeated",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SeqnoView.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = "`shard_not_found`, or `reader_expired`: the reader is not (or"
            + " no longer) registered.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SeqnoView> heartbeat(@RestPath String shard, @RestPath String reader) {
        ShardId id = ApiParams.shardId(shard);
        LeasedReaderId readerId = ApiParams.leasedReaderId(reader);
        return api.heartbeatLeasedReader(id, readerId).thenApply(Views.SeqnoView::of);
    }

    @POST
    @Path("/{reader}/downgrade-since")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Downgrade a leased reader's since",
            description = "Advances the reader's since to `since` and heartbeats it; since never regresses (an"
                    + " older value is a no-op that still answers the reader's since). The shard's since becomes"
                    + " the meet of its readers'. The reader's seqno hold moves to the current version, or to"
                    + " `outstandingSeqno` if that is lower: a reader still fetching the parts of a snapshot passes"
                    + " the snapshot's `seqno`, so that GC keeps them. An `outstandingSeqno` below the reader's"
                    + " present hold is `400 invalid_request`.")
    @APIResponse(responseCode = "200", description = "The reader's since after the call",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SinceDowngraded.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = "`shard_not_found`, or `reader_expired`: the reader is not (or"
            + " no longer) registered.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SinceDowngraded> downgradeSince(@RestPath String shard, @RestPath String reader,
            Requests.DowngradeSince body) {
        ShardId id = ApiParams.shardId(shard);
        LeasedReaderId readerId = ApiParams.leasedReaderId(reader);
        Requests.DowngradeSince b = Requests.body(body);
        Frontier since = Requests.frontier("since", b.since());
        return api.downgradeSince(id, readerId, since, b.outstanding()).thenApply(Views.SinceDowngraded::of);
    }

    @DELETE
    @Path("/{reader}")
    @Operation(summary = "Expire a leased reader",
            description = "Removes the reader and releases its seqno hold. Idempotent: an unknown reader is a"
                    + " no-op. The shard's since is not recomputed.")
    @APIResponse(responseCode = "200", description = "Expired (or was not registered)",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.SeqnoView.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.SeqnoView> expire(@RestPath String shard, @RestPath String reader) {
        ShardId id = ApiParams.shardId(shard);
        LeasedReaderId readerId = ApiParams.leasedReaderId(reader);
        return api.expireLeasedReader(id, readerId).thenApply(Views.SeqnoView::of);
    }
}
