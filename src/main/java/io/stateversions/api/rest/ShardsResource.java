package io.stateversions.api.rest;

import io.stateversions.api.ApiParams;
import io.stateversions.api.LargeAnswers;
import io.stateversions.api.ShardApi;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.PUT;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.function.BiFunction;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.media.Content;
import org.eclipse.microprofile.openapi.annotations.media.Schema;
import org.eclipse.microprofile.openapi.annotations.parameters.Parameter;
import org.eclipse.microprofile.openapi.annotations.responses.APIResponse;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

/** Shards: open (initialize), list, and read their state, versions, diffs and rollups. */
@Path("/v1/shards")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "Shards")
@APIResponse(responseCode = "500", description = Docs.INTERNAL,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "503", description = Docs.STORAGE_UNAVAILABLE,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
@APIResponse(responseCode = "504", description = Docs.OUTCOME_UNKNOWN,
        content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
public class ShardsResource {

    private final ShardApi api;

    private final LargeAnswers large;
    private final JsonBodies json;

    public ShardsResource(ShardApi api, LargeAnswers large, JsonBodies json) {
        this.api = api;
        this.large = large;
        this.json = json;
    }

    /**
     * {@code state} as the API shows it, rendered and, when large, serialized on the CPU pool
     * ({@link LargeAnswers}).
     */
    private CompletionStage<Response> stateAnswer(CompletionStage<State> state) {
        return large.render(state, LargeAnswers::batches, s -> Response.ok(view(s)).build(),
                s -> json.ok(view(s)));
    }

    private static Views.ShardState view(State state) {
        return withEarliest(state, Views.ShardState::of);
    }

    /** Renders a state with the shard's earliest live version ({@link ShardApi#earliestSeqno}). */
    static <T> T withEarliest(State state, BiFunction<State, SeqNo, T> render) {
        return render.apply(state, ShardApi.earliestSeqno(state));
    }

    @PUT
    @Path("/{shard}")
    @Consumes(MediaType.APPLICATION_JSON)
    @Operation(summary = "Open a shard, initializing it if it does not exist",
            description = "maybe_init_shard: creates the shard with these codec names, or checks them against the"
                    + " existing shard's (which are fixed at creation). Answers 201 if this call initialized the"
                    + " shard and 200 if it existed; the body is the shard's summary.")
    @APIResponse(responseCode = "201", description = "Initialized by this call",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardSummary.class)))
    @APIResponse(responseCode = "200", description = "Existed already, with these codecs",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardSummary.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "409", description = "`codec_mismatch`: the shard exists with other codecs, given"
            + " in `actual` ({keyCodec, valCodec, tsCodec, diffCodec}); nothing changed.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "413", description = Docs.TOO_LARGE,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Response> open(@RestPath String shard, Requests.OpenShard body) {
        ShardId id = ApiParams.shardId(shard);
        var codecs = Requests.body(body).codecs();
        return api.openShard(id, codecs).thenApply(opened -> withEarliest(opened.state(),
                (state, earliest) -> Response.status(opened.created() ? 201 : 200)
                        .entity(Views.ShardSummary.of(state, earliest)).build()));
    }

    @GET
    @Operation(summary = "List shards",
            description = "Initialized shards in ascending order of id, a page at a time: pass `next` back as"
                    + " `after` to continue; `next` is null on the last page.")
    @APIResponse(responseCode = "200", description = "A page of shard ids",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardPage.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.ShardPage> list(
            @Parameter(description = "Start after this shard id (exclusive)") @RestQuery String after,
            @Parameter(description = "Page size, 1..1000 (default 1000)") @RestQuery String limit) {
        Optional<ShardId> afterId = QueryParams.optionalShard(after);
        int pageSize = QueryParams.limit(limit);
        return api.listShards(afterId, pageSize).thenApply(Views.ShardPage::of);
    }

    @GET
    @Path("/{shard}")
    @Operation(summary = "Get a shard's current state",
            description = "The current state (linearizable: it reflects every commit that finished before the"
                    + " call): readers, writers, batches, rollups, schemas and sizes.")
    @APIResponse(responseCode = "200", description = "The current state",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardState.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Response> state(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return stateAnswer(api.getState(id));
    }

    @GET
    @Path("/{shard}/versions")
    @Operation(summary = "List a shard's live versions",
            description = "The versions not yet truncated, from `from` (default: the earliest), with the size of"
                    + " each one's diff; pass `next` back as `from` to continue.")
    @APIResponse(responseCode = "200", description = "A page of live versions",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.VersionsPage.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.VersionsPage> versions(@RestPath String shard,
            @Parameter(description = "First seqno of the page (default: the earliest live one)") @RestQuery String from,
            @Parameter(description = "Page size, 1..1000 (default 1000)") @RestQuery String limit) {
        ShardId id = ApiParams.shardId(shard);
        Optional<SeqNo> fromSeqno = QueryParams.optionalSeqno("from", from);
        int pageSize = QueryParams.limit(limit);
        return api.listVersions(id, fromSeqno, pageSize).thenApply(Views.VersionsPage::of);
    }

    @GET
    @Path("/{shard}/versions/{seqno}")
    @Operation(summary = "Get a shard's state at a live version",
            description = "The state as it was at that seqno, rebuilt from the rollup at or below it and the diffs"
                    + " after it. `earliestSeqno` is the current one.")
    @APIResponse(responseCode = "200", description = "The state at that version",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.ShardState.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = "`shard_not_found`, or `version_not_found`: the seqno is above"
            + " the current version.",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "410", description = "`version_truncated`: the seqno is below the earliest live"
            + " version (garbage-collected).",
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Response> version(@RestPath String shard, @RestPath String seqno) {
        ShardId id = ApiParams.shardId(shard);
        SeqNo at = QueryParams.seqno("seqno", seqno);
        return stateAnswer(api.getVersion(id, at));
    }

    @GET
    @Path("/{shard}/diffs")
    @Operation(summary = "List a shard's live diffs, decoded",
            description = "Each live version's diff from its predecessor, field by field, from `from` (default: the"
                    + " earliest); pass `next` back as `from` to continue.")
    @APIResponse(responseCode = "200", description = "A page of decoded diffs",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.DiffsPage.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_REQUEST,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.DiffsPage> diffs(@RestPath String shard,
            @Parameter(description = "First seqno of the page (default: the earliest live one)") @RestQuery String from,
            @Parameter(description = "Page size, 1..1000 (default 1000)") @RestQuery String limit) {
        ShardId id = ApiParams.shardId(shard);
        Optional<SeqNo> fromSeqno = QueryParams.optionalSeqno("from", from);
        int pageSize = QueryParams.limit(limit);
        return api.listDiffs(id, fromSeqno, pageSize).thenApply(Views.DiffsPage::of);
    }

    @GET
    @Path("/{shard}/rollups")
    @Operation(summary = "List a shard's rollups",
            description = "The rollups the current state refers to, by the seqno of the state each holds.")
    @APIResponse(responseCode = "200", description = "The rollups",
            content = @Content(mediaType = MediaType.APPLICATION_JSON,
                    schema = @Schema(implementation = Views.RollupsList.class)))
    @APIResponse(responseCode = "400", description = Docs.BAD_ID,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    @APIResponse(responseCode = "404", description = Docs.SHARD_NOT_FOUND,
            content = @Content(mediaType = Docs.PROBLEM, schema = @Schema(ref = "Problem")))
    public CompletionStage<Views.RollupsList> rollups(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.listRollups(id).thenApply(rollups -> new Views.RollupsList(Views.rollups(rollups)));
    }
}
