package io.stateversions.api.rest;

import io.quarkus.runtime.configuration.MemorySize;
import io.stateversions.api.ErrorCode;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import java.util.Set;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Caps REST request bodies at {@code quarkus.http.limits.max-body-size} and refuses a larger one with {@code 413}
 * and a problem document ({@code invalid_request}), closing an HTTP/1 connection, without reading the body past
 * the cap. (Quarkus' own check answers an empty 413.)
 * <ul>
 *   <li>A declared {@code Content-Length} is checked before anything is read; a body within the cap is then read
 *       by the REST layer as usual.</li>
 *   <li>An HTTP/1 body of undeclared length (chunked) is read here, counting bytes as they arrive, and handed to the
 *       REST layer whole. The REST layer must then keep it in one piece: {@code quarkus.rest.input-buffer-size} must
 *       be at least the cap (checked at start-up), because Quarkus REST 3.33 garbles a pre-read body larger than its
 *       input buffer.</li>
 *   <li>An HTTP/2 body of undeclared length is left to Quarkus' own limit (an empty 413): the REST layer pauses the
 *       request it is handed, which Vert.x refuses for an HTTP/2 request already read to its end, so a pre-read
 *       HTTP/2 body (even an empty one: a {@code POST} without a body, as {@code curl -X POST} over TLS sends it)
 *       would fail with a 500.</li>
 * </ul>
 */
@ApplicationScoped
public class BodyLimit {

    /** Before Quarkus' upload-limit route ({@code RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT}, -2). */
    static final int ORDER = -4;

    private static final String PRE_READ = BodyLimit.class.getName() + ".preRead";
    private static final Set<HttpMethod> WITH_BODY = Set.of(HttpMethod.POST, HttpMethod.PUT, HttpMethod.PATCH);

    private final Optional<MemorySize> maxBodySize;
    private final MemorySize inputBufferSize;

    public BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBodySize,
            @ConfigProperty(name = "quarkus.rest.input-buffer-size") MemorySize inputBufferSize) {
        this.maxBodySize = maxBodySize;
        this.inputBufferSize = inputBufferSize;
    }

    @SuppressWarnings("deprecation") // RoutingContext.setBody: Vert.x 4.5 has no other way to hand over a body
    void install(@Observes Router router) {
        if (maxBodySize.isEmpty()) {
            return;
        }
        long limit = maxBodySize.get().asLongValue();
        if (inputBufferSize.asLongValue() < limit) {
            throw new IllegalStateException("quarkus.rest.input-buffer-size (" + inputBufferSize.asLongValue()
                    + " bytes) must be at least quarkus.http.limits.max-body-size (" + limit + " bytes): a chunked"
                    + " request body larger than the REST input buffer would be garbled");
        }
        BodyHandler reader = BodyHandler.create(false).setBodyLimit(limit);
        router.route("/v1/*").order(ORDER)
                .handler(ctx -> {
                    String length = ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH);
                    if (length != null) {
                        if (declaredLength(length) > limit) {
                            tooLarge(ctx, limit);
                        } else {
                            ctx.next();
                        }
                    } else if (WITH_BODY.contains(ctx.request().method())
                            && ctx.request().version() != HttpVersion.HTTP_2) {
                        ctx.put(PRE_READ, true);
                        reader.handle(ctx);
                    } else {
                        ctx.next();
                    }
                })
                .failureHandler(ctx -> {
                    if (ctx.statusCode() == 413 && !ctx.response().headWritten()) {
                        tooLarge(ctx, limit);
                    } else if (!ctx.response().ended() && !ctx.response().closed()) {
                        ctx.next();
                    }
                    // else: the 413 is out and the connection closed under the rest of the body: nothing to add
                });
        router.route("/v1/*").order(ORDER + 1).handler(ctx -> {
            // An empty pre-read body leaves no buffer, and the REST layer would wait for a body already consumed.
            if (Boolean.TRUE.equals(ctx.get(PRE_READ)) && ctx.body().buffer() == null) {
                ctx.setBody(Buffer.buffer());
            }
            ctx.next();
        });
    }

    private static void tooLarge(RoutingContext ctx, long limit) {
        ErrorCode code = ErrorCode.INVALID_REQUEST;
        String body = "{\"type\":\"" + code.type() + "\",\"title\":\"" + code.title() + "\",\"status\":413,"
                + "\"detail\":\"request body too large: the limit is " + limit + " bytes\",\"code\":\"" + code.code()
                + "\"}";
        ctx.response().setStatusCode(413).putHeader(HttpHeaders.CONTENT_TYPE, ProblemMappers.PROBLEM_JSON);
        if (ctx.request().version() != HttpVersion.HTTP_2) {
            // The rest of the body is not read: the connection cannot carry another request (as Quarkus does).
            ctx.response().putHeader(HttpHeaders.CONNECTION, "close")
                    .endHandler(ignored -> ctx.request().connection().close());
        }
        ctx.response().end(body);
    }

    /** The declared length; a malformed header is left to the HTTP layer. */
    private static long declaredLength(String header) {
        try {
            return Long.parseLong(header.trim());
        } catch (NumberFormatException e) {
            return -1;
        }
    }
}
