package io.stateversions.api.ui;

import io.quarkus.qute.CheckedTemplate;
import io.quarkus.qute.TemplateInstance;
import io.smallrye.common.annotation.Blocking;
import io.stateversions.api.ApiException;
import io.stateversions.api.ApiParams;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.ShardApi;
import io.stateversions.api.rest.QueryParams;
import io.stateversions.api.rest.Views;
import io.stateversions.api.security.AccessControl;
import io.stateversions.api.security.Role;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.stateversions.BlobInventory;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.stateversions.StateVersions;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriBuilder;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.jboss.resteasy.reactive.RestPath;
import org.jboss.resteasy.reactive.RestQuery;

/**
 * The web inspector under {@code /ui}: server-rendered pages (Qute templates, SVG drawn here, a small script for
 * the live follow and tooltips) over the same {@link ShardApi} calls the REST and gRPC adapters make, plus the
 * blob inventory and the invariant check ({@link BlobInventory}, {@link ShardInvariants}), which read through
 * {@link StateVersions}. Not part of the versioned API: its routes are in the role table ({@code INSPECT_*}), readers
 * see every page, and only admins get the maintenance buttons and the check. The blob and check pages answer JSON
 * to {@code Accept: application/json}: that is what the command-line tool reads when it runs against a service.
 */
@Path("/ui")
@Produces(MediaType.TEXT_HTML)
public class InspectorResource {

    /** Versions the timeline shows at once. */
    static final int TIMELINE_VERSIONS = 200;
    /** Shards one page of the list shows. */
    static final int SHARDS_PER_PAGE = 100;

    @CheckedTemplate(basePath = "inspector")
    static class Templates {
        static native TemplateInstance shards(ShardsPage page);

        static native TemplateInstance shard(ShardPage page);

        static native TemplateInstance live(ShardPage page);

        static native TemplateInstance version(VersionPage page);

        static native TemplateInstance blobs(Views.BlobsView page);

        static native TemplateInstance check(Views.CheckView page);
    }

    /** The shard list: a page of ids after {@code after}, and the look-up form's outcome. */
    public record ShardsPage(List<String> shards, String after, String next, String lookupError, boolean admin) {}

    /**
     * The shard page: the current state, its timeline, and whether the caller gets the maintenance buttons.
     *
     * @param earlierFrom where the timeline's previous window starts, if the live log is longer than one window
     */
    public record ShardPage(StateModel state, Timeline timeline, boolean admin, String notice, Long earlierFrom,
            Long laterFrom) {}

    /** The time-travel page: the state at one version and what that version's diff changed. */
    public record VersionPage(StateModel state, long current, String kind, String summary, String time,
            List<ChangeRow> changes, Long previous, Long next) {}

    /** One change of a diff, its values as JSON text. */
    public record ChangeRow(String field, String op, String key, String old, String neu) {}

    private final ShardApi api;
    private final StateVersions stateVersions;
    private final Consensus consensus;
    private final Blob blob;
    private final AccessControl access;

    public InspectorResource(ShardApi api, StateVersions stateVersions, Consensus consensus, Blob blob,
            AccessControl access) {
        this.api = api;
        this.stateVersions = stateVersions;
        this.consensus = consensus;
        this.blob = blob;
        this.access = access;
    }

    @GET
    public CompletionStage<Response> shards(@RestQuery String after, @RestQuery String shard, RoutingContext ctx) {
        if (shard != null && !shard.isBlank()) {
            try {
                ShardId id = ApiParams.shardId(shard.trim());
                return CompletableFuture.completedFuture(Response.status(Response.Status.SEE_OTHER)
                        .header("Location", "/ui/shards/" + id).build());
            } catch (ApiException e) {
                return list(Optional.empty(), e.detail(), ctx);
            }
        }
        Optional<ShardId> from = QueryParams.optionalShard(after == null || after.isEmpty() ? null : after);
        return list(from, null, ctx);
    }

    private CompletionStage<Response> list(Optional<ShardId> after, String lookupError, RoutingContext ctx) {
        return api.listShards(after, SHARDS_PER_PAGE).thenApply(page -> Response.status(lookupError == null ? 200 : 400)
                .entity(Templates.shards(new ShardsPage(page.shards().stream().map(Object::toString).toList(),
                        after.map(Object::toString).orElse(null), page.next().map(Object::toString).orElse(null),
                        lookupError, access.allows(ctx, Role.ADMIN)))).build());
    }

    @GET
    @Path("/shards/{shard}")
    public CompletionStage<TemplateInstance> shard(@RestPath String shard, @RestQuery String from,
            @RestQuery String notice, RoutingContext ctx) {
        return shardPage(shard, from, notice, ctx).thenApply(Templates::shard);
    }

    /** The part of the shard page that follows new versions: fetched by the page's script after each one. */
    @GET
    @Path("/shards/{shard}/live")
    public CompletionStage<TemplateInstance> live(@RestPath String shard, @RestQuery String from,
            RoutingContext ctx) {
        return shardPage(shard, from, null, ctx).thenApply(Templates::live);
    }

    private CompletionStage<ShardPage> shardPage(String shard, String from, String notice, RoutingContext ctx) {
        ShardId id = ApiParams.shardId(shard);
        Optional<SeqNo> windowFrom = QueryParams.optionalSeqno("from", from == null || from.isEmpty() ? null : from);
        return api.getState(id).thenCompose(state -> {
            SeqNo earliest = ShardApi.earliestSeqno(state);
            long last = state.seqno().value();
            long first = windowFrom.map(SeqNo::value).orElse(last - TIMELINE_VERSIONS + 1);
            first = Math.max(earliest.value(), Math.min(first, last));
            long limit = Math.min(last - first + 1, ShardApi.DEFAULT_LIMIT);
            long windowStart = first;
            return api.listDiffs(id, Optional.of(SeqNo.of(first)), (int) Math.min(limit, TIMELINE_VERSIONS))
                    .thenApply(diffs -> {
                        // Versions committed after the state was read belong to the next refresh.
                        List<ShardApi.DiffView> shown = diffs.diffs().stream()
                                .filter(d -> !d.seqnoTo().isAfter(state.seqno())).toList();
                        long now = System.currentTimeMillis();
                        long shownFirst = shown.isEmpty() ? windowStart : shown.get(0).seqnoTo().value();
                        long shownLast = shown.isEmpty() ? last : shown.get(shown.size() - 1).seqnoTo().value();
                        Long earlier = shownFirst > earliest.value()
                                ? Math.max(earliest.value(), shownFirst - TIMELINE_VERSIONS) : null;
                        Long later = shownLast < last ? shownLast + 1 : null;
                        return new ShardPage(StateModel.of(state, earliest, now),
                                Timeline.of(state, earliest, shown, now), access.allows(ctx, Role.ADMIN), notice,
                                earlier, later);
                    });
        });
    }

    /** Time travel: the state at a live version, and what that version changed. */
    @GET
    @Path("/shards/{shard}/versions/{seqno}")
    public CompletionStage<TemplateInstance> version(@RestPath String shard, @RestPath String seqno) {
        ShardId id = ApiParams.shardId(shard);
        SeqNo at = QueryParams.seqno("seqno", seqno);
        return api.getVersion(id, at).thenCompose(state -> api.getState(id).thenCompose(current ->
                api.listDiffs(id, Optional.of(at), 1).thenApply(diffs -> {
                    SeqNo earliest = ShardApi.earliestSeqno(current);
                    ShardApi.DiffView diff = diffs.diffs().isEmpty() ? null : diffs.diffs().get(0);
                    List<ChangeRow> changes = diff == null || !diff.seqnoTo().equals(at) ? List.of()
                            : diff.changes().stream().map(c -> new ChangeRow(c.field(), c.op(), json(c.key()),
                                    json(c.old()), json(c.neu()))).toList();
                    boolean found = diff != null && diff.seqnoTo().equals(at);
                    return Templates.version(new VersionPage(StateModel.of(state, earliest,
                            System.currentTimeMillis()), current.seqno().value(),
                            found ? Timeline.kind(diff) : "other", found ? Timeline.summary(diff) : "",
                            found ? Format.time(diff.walltimeMs()) : Format.time(state.walltimeMs()), changes,
                            at.isAfter(earliest) ? at.value() - 1 : null,
                            at.isBefore(current.seqno()) ? at.value() + 1 : null));
                })));
    }

    @GET
    @Path("/shards/{shard}/blobs")
    public CompletionStage<TemplateInstance> blobs(@RestPath String shard) {
        return inventory(shard).thenApply(Templates::blobs);
    }

    @GET
    @Path("/shards/{shard}/blobs")
    @Produces(MediaType.APPLICATION_JSON)
    public CompletionStage<Views.BlobsView> blobsJson(@RestPath String shard) {
        return inventory(shard);
    }

    private CompletionStage<Views.BlobsView> inventory(String shard) {
        ShardId id = ApiParams.shardId(shard);
        // The shard must exist for the API first (shard_not_found otherwise), as for every other page.
        return api.getState(id).thenCompose(state -> BlobInventory.take(stateVersions, id))
                .thenApply(inventory -> Views.BlobsView.of(inventory.orElseThrow(() ->
                        new ApiException(ErrorCode.SHARD_NOT_FOUND, "shard " + id + " has no versions"))));
    }

    @GET
    @Path("/shards/{shard}/check")
    @Blocking
    public TemplateInstance check(@RestPath String shard) {
        return Templates.check(checked(shard));
    }

    @GET
    @Path("/shards/{shard}/check")
    @Produces(MediaType.APPLICATION_JSON)
    @Blocking
    public Views.CheckView checkJson(@RestPath String shard) {
        return checked(shard);
    }

    /** Runs the invariant check on storage; a violation is an answer (200, {@code ok: false}), not an error. */
    private Views.CheckView checked(String shard) {
        ShardId id = ApiParams.shardId(shard);
        api.getState(id).toCompletableFuture().join(); // shard_not_found first, as for every page
        try {
            return Views.CheckView.of(ShardInvariants.check(id, consensus, blob, stateVersions.cfg(), "inspector"));
        } catch (ShardInvariants.Violation e) {
            return Views.CheckView.violated(id.toString(), e.getMessage());
        }
    }

    @POST
    @Path("/shards/{shard}/maintenance/rollup")
    public CompletionStage<Response> rollup(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.writeRollup(id).thenApply(r -> backTo(id, r.rollupKey().map(k -> "Rollup " + k + " written, "
                + "linked at " + r.seqno()).orElse("No rollup needed: the latest one is current (at " + r.seqno()
                + ")")));
    }

    @POST
    @Path("/shards/{shard}/maintenance/gc")
    public CompletionStage<Response> gc(@RestPath String shard) {
        ShardId id = ApiParams.shardId(shard);
        return api.runGc(id).thenApply(g -> backTo(id, "GC at " + g.seqno() + ": truncated below "
                + g.truncatedBelow() + ", " + g.rollupsDeleted() + " rollups and " + g.partsDeleted()
                + " parts deleted"));
    }

    /**
     * After a button: back to the shard page, which shows what happened (post/redirect/get). The location is set as
     * a header, relative: {@code Response.seeOther} would resolve it against the current request, which a stage
     * completed by the shard's machine does not have.
     */
    private static Response backTo(ShardId shard, String notice) {
        return Response.status(Response.Status.SEE_OTHER).header("Location", UriBuilder.fromPath("/ui/shards/{shard}")
                .queryParam("notice", notice).build(shard.toString()).toString()).build();
    }

    private static String json(com.fasterxml.jackson.databind.JsonNode node) {
        return node == null || node.isNull() ? "" : node.toString();
    }
}
