package io.stateversions.api.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.api.ApiParams;
import io.stateversions.api.DiffChanges;
import io.stateversions.api.ShardApi;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.watch.TransportSink;
import io.stateversions.watch.WatchedVersion;
import io.stateversions.watch.Watcher;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.Response;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/shards/{shard}/watch} (api.md "Watch"): a {@code text/event-stream} with one event per committed
 * version, {@code id:} its seqno and {@code data:} its decoded diff as in {@code /diffs}. {@code Last-Event-ID} (sent
 * by a reconnecting EventSource) takes precedence over {@code fromSeqno}, so a reconnect resumes without a gap.
 *
 * <p>Served on a Vert.x route rather than a JAX-RS resource so that every write respects the connection's write
 * queue: an event is written only while the queue is not full, and the watcher resumes on its drain. A client that
 * stops reading holds at most one queue's worth of events, until it is disconnected as stalled. Errors before the
 * stream starts are the usual problem documents; after it started, an {@code event: problem} carries one (then the
 * stream ends), and {@code event: truncated} says the next version was garbage-collected.
 */
@ApplicationScoped
public class WatchRoute {

    static final String PATH = "/v1/shards/:shard/watch";
    static final String EVENT_STREAM = "text/event-stream";

    private final ShardApi api;
    private final ObjectMapper mapper;
    private final ProblemMappers problems;

    public WatchRoute(ShardApi api, ObjectMapper mapper) {
        this.api = api;
        this.mapper = mapper;
        this.problems = new ProblemMappers(mapper);
    }

    void register(@Observes Router router) {
        router.get(PATH).handler(this::watch);
    }

    void watch(RoutingContext context) {
        HttpServerResponse response = context.response();
        ShardId shard;
        Optional<SeqNo> after;
        try {
            shard = ApiParams.shardId(context.pathParam("shard"));
            String lastEventId = context.request().getHeader("Last-Event-ID");
            List<String> from = context.queryParam("fromSeqno");
            if (from.size() > 1) {
                throw io.stateversions.api.ApiException.invalidRequest("query parameter fromSeqno is given "
                        + from.size() + " times");
            }
            after = lastEventId != null ? Optional.of(QueryParams.seqno("Last-Event-ID", lastEventId.trim()))
                    : QueryParams.optionalSeqno("fromSeqno", from.isEmpty() ? null : from.get(0));
        } catch (RuntimeException e) {
            problem(response, e);
            return;
        }
        Sink sink = new Sink(response);
        response.closeHandler(ignored -> sink.disconnected());
        api.watch(shard, after, sink).whenComplete((watcher, error) -> {
            if (error != null) {
                problem(response, error);
                return;
            }
            if (sink.gone()) {
                watcher.cancel();
                return;
            }
            response.setStatusCode(200)
                    .setChunked(true)
                    .putHeader("Content-Type", EVENT_STREAM)
                    .putHeader("Cache-Control", "no-cache")
                    .putHeader("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
            response.write(": watching " + shard + " after " + watcher.lastDelivered() + "\n\n");
            response.drainHandler(ignored -> sink.transportReady());
            sink.attach(watcher);
        });
    }

    private void problem(HttpServerResponse response, Throwable error) {
        Response problem = problems.of(error);
        if (response.ended() || response.closed()) {
            return;
        }
        response.setStatusCode(problem.getStatus())
                .putHeader("Content-Type", ProblemMappers.PROBLEM_JSON)
                .end((String) problem.getEntity());
    }

    private byte[] versionFrame(WatchedVersion version) {
        return frame(null, Long.toString(version.seqno().value()),
                json(Views.DiffView.of(DiffChanges.view(version.diff()))));
    }

    private String json(Object value) {
        try {
            return mapper.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a watch event", e);
        }
    }

    /** One SSE event; {@code data} is one line of JSON (Jackson escapes newlines inside strings). */
    private static byte[] frame(String event, String id, String data) {
        StringBuilder frame = new StringBuilder(data.length() + 48);
        if (event != null) {
            frame.append("event: ").append(event).append('\n');
        }
        if (id != null) {
            frame.append("id: ").append(id).append('\n');
        }
        frame.append("data: ").append(data).append("\n\n");
        return frame.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** One response's side of a watcher. */
    private final class Sink extends TransportSink {

        private final HttpServerResponse response;

        Sink(HttpServerResponse response) {
            this.response = response;
        }

        boolean gone() {
            return isDisconnected();
        }

        @Override
        public boolean ready() {
            return !isDisconnected() && !response.writeQueueFull();
        }

        @Override
        public void version(WatchedVersion version) {
            response.write(Buffer.buffer(version.rendered(WatchedVersion.SSE, WatchRoute.this::versionFrame)));
        }

        @Override
        public void truncated(SeqNo next, SeqNo earliest) {
            Map<String, Object> data = new LinkedHashMap<>();
            data.put("nextSeqno", next.value());
            data.put("earliestSeqno", earliest.value());
            // No id: a reconnecting EventSource must not resume past the gap.
            response.end(Buffer.buffer(frame("truncated", null, json(data))));
        }

        @Override
        public void end(Watcher.End reason, SeqNo lastDelivered) {
            if (isDisconnected()) {
                return;
            }
            if (reason == Watcher.End.STALLED) {
                // The client reads nothing: nothing more can reach it, so drop the connection.
                response.reset();
                return;
            }
            String problem = (String) problems.of(ShardApi.watchEnded(reason, lastDelivered)).getEntity();
            response.end(Buffer.buffer(frame("problem", null, problem)));
        }

        @Override
        public void keepalive() {
            response.write(":\n\n");
        }
    }
}
