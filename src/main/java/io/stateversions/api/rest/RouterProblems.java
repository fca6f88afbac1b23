package io.stateversions.api.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.api.ErrorCode;
import io.vertx.core.http.HttpHeaders;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/**
 * A request URI longer than {@value #MAX_URI_CHARS} characters is answered {@code 414} with a problem document (code
 * {@code invalid_request}), before any route sees it. The HTTP/1 codec reads request lines up to
 * {@code quarkus.http.limits.max-initial-line-length} and answers a longer one with a bare 414 before any handler
 * runs; that limit is set far above this one (to the body limit), so that only a client sending megabytes of URI meets
 * the codec's answer.
 *
 * <p>Not covered: a URI that is not a valid URI at all (a bad percent-encoding such as {@code %ZZ}) is answered an
 * empty {@code 400} by Quarkus' root handler, before the router and so before any handler of ours.
 */
@ApplicationScoped
public class RouterProblems {

    /** The longest request URI: the longest one of the API is under 200 characters. */
    static final int MAX_URI_CHARS = 8192;

    private final ProblemMappers problems;

    public RouterProblems(ObjectMapper mapper) {
        this.problems = new ProblemMappers(mapper);
    }

    void install(@Observes Router router) {
        router.route().order(Integer.MIN_VALUE + 2).handler(ctx -> {
            if (ctx.request().uri().length() > MAX_URI_CHARS) {
                send(ctx, 414, "request URI too long: the limit is " + MAX_URI_CHARS + " characters");
            } else {
                ctx.next();
            }
        });
    }

    private void send(RoutingContext ctx, int status, String detail) {
        RouteRefusal.templateRefused(ctx);
        Response problem = problems.problem(ErrorCode.INVALID_REQUEST, status, detail, Map.of());
        ctx.response().setStatusCode(status)
                .putHeader(HttpHeaders.CONTENT_TYPE, ProblemMappers.PROBLEM_JSON)
                .end((String) problem.getEntity());
    }
}
