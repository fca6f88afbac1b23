package io.stateversions.api.rest;

import io.stateversions.api.ApiException;
import io.stateversions.api.grpc.GrpcErrors;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.impl.HttpServerRequestInternal;
import io.vertx.ext.web.RoutingContext;
import jakarta.ws.rs.core.Response;
import java.util.Locale;
import java.util.Map;

/**
 * Answers a request at the routing layer, before any resource or gRPC service sees it: a problem document for REST,
 * a trailers-only status for gRPC (with the {@code sv-error-code} trailer), as the resources themselves would.
 */
public final class RouteRefusal {

    /**
     * The route of every REST request refused at the routing layer, in its request metrics ({@code uri} tag of
     * {@code http_server_requests_seconds}) and its trace: the path of a request that no resource matched yet would
     * be a new meter for every shard id (or over-long URI) a refused client sends, until Micrometer's cap of 100
     * {@code uri} values, beyond which the endpoints not yet seen get no metrics at all.
     */
    public static final String REFUSED_ROUTE = "/{refused}";

    /** The request-context key under which Quarkus' metrics and tracing look for a request's route template. */
    private static final String ROUTE_TEMPLATE_KEY = "UrlPathTemplate";

    private final ProblemMappers problems;

    public RouteRefusal(ProblemMappers problems) {
        this.problems = problems;
    }

    /**
     * Ends {@code ctx} with {@code error}, plus {@code headers} on a REST answer. An HTTP/1.1 connection is closed after
     * the answer if {@code close} or if the request's body was never read (the connection cannot carry another
     * request then). With {@code close}, the body is read (and dropped) before the answer is sent: a socket closed with
     * unread bytes in its receive buffer is reset, and the reset can destroy the answer before the client reads it,
     * which would leave the client with no answer at all.
     */
    public void refuse(RoutingContext ctx, ApiException error, Map<String, String> headers, boolean close) {
        if (close && ctx.request().version() != HttpVersion.HTTP_2 && !ctx.request().isEnded()) {
            HttpServerRequest request = ctx.request();
            request.handler(ignored -> { });
            request.exceptionHandler(ignored -> answer(ctx, error, headers, true));
            request.endHandler(ignored -> answer(ctx, error, headers, true));
            request.resume();
        } else {
            answer(ctx, error, headers, close);
        }
    }

    private void answer(RoutingContext ctx, ApiException error, Map<String, String> headers, boolean close) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (isGrpc(ctx.request())) {
            response.setStatusCode(200);
            GrpcErrors.trailersOnly(error).forEach(response::putHeader);
            response.end();
            return;
        }
        templateRefused(ctx);
        Response problem = problems.problem(error.code(), error.code().httpStatus(), error.detail(), error.members());
        response.setStatusCode(problem.getStatus()).putHeader(HttpHeaders.CONTENT_TYPE, ProblemMappers.PROBLEM_JSON);
        headers.forEach(response::putHeader);
        if (ctx.request().version() != HttpVersion.HTTP_2 && (close || !ctx.request().isEnded())) {
            response.putHeader(HttpHeaders.CONNECTION, "close")
                    .endHandler(ignored -> ctx.request().connection().close());
        }
        response.end((String) problem.getEntity());
    }

    /** Names {@code ctx}'s route {@link #REFUSED_ROUTE} for its metrics and trace (REST: gRPC calls are not measured). */
    public static void templateRefused(RoutingContext ctx) {
        if (ctx.request() instanceof HttpServerRequestInternal request) {
            request.context().putLocal(ROUTE_TEMPLATE_KEY, REFUSED_ROUTE);
        }
    }

    /** A gRPC call: HTTP/2 with a {@code application/grpc…} content type. */
    public static boolean isGrpc(HttpServerRequest request) {
        String type = request.getHeader(HttpHeaders.CONTENT_TYPE);
        return request.version() == HttpVersion.HTTP_2 && type != null
                && type.toLowerCase(Locale.ROOT).startsWith("application/grpc");
    }
}
