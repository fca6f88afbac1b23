package io.stateversions.api.rest;

import io.quarkus.runtime.configuration.MemorySize;
import io.stateversions.api.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpVersion;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Caps REST request bodies at {@code quarkus.http.limits.max-body-size} and answers a body over it with {@code 413}
 * and a problem document ({@code invalid_request}), closing an HTTP/1 connection. Quarkus' own check answers an empty
 * 413, and only for a declared {@code Content-Length}; this one runs first and also counts chunked bodies as they
 * arrive, so a body is never held beyond the cap. The body read here is the one the REST layer then parses.
 */
@ApplicationScoped
public class BodyLimit {

    /** Before Quarkus' upload-limit route ({@code RouteConstants.ROUTE_ORDER_UPLOAD_LIMIT}, -2). */
    static final int ORDER = -3;

    private final Optional<MemorySize> maxBodySize;

    public BodyLimit(@ConfigProperty(name = "quarkus.http.limits.max-body-size") Optional<MemorySize> maxBodySize) {
        this.maxBodySize = maxBodySize;
    }

    void install(@Observes Router router) {
        if (maxBodySize.isEmpty()) {
            return;
        }
        long limit = maxBodySize.get().asLongValue();
        router.route("/v1/*").order(ORDER)
                .handler(BodyHandler.create(false).setBodyLimit(limit))
                .failureHandler(ctx -> tooLarge(ctx, limit));
    }

    private static void tooLarge(RoutingContext ctx, long limit) {
        if (ctx.statusCode() != 413 || ctx.response().headWritten()) {
            ctx.next();
            return;
        }
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
}
