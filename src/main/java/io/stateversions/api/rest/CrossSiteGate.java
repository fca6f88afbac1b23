package io.stateversions.api.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URI;
import java.util.Map;

/**
 * Refuses a state-changing request that a browser sends on behalf of another site (cross-site request forgery). A
 * browser attaches what it holds for this service to any request a page sends it: a client certificate, credentials
 * a proxy in front adds, or nothing at all while security is off on {@code localhost}. Forms and "simple" requests
 * ({@code POST} with {@code text/plain} or a form body, or none) go out without a CORS preflight, so a page of any
 * site could write a rollup, run GC, heartbeat a reader or finalize a shard. Browsers say where a request comes from;
 * other clients (SDKs, {@code curl}, gRPC) send neither header, and are not affected:
 *
 * <ul>
 *   <li>{@code Sec-Fetch-Site} (every current browser): only {@code same-origin} and {@code none} (typed by the
 *       user) pass;</li>
 *   <li>else {@code Origin} (older browsers send it on cross-origin {@code POST}s): it must name this service, the
 *       scheme's default port standing for an absent one.</li>
 * </ul>
 * Reads ({@code GET}, {@code HEAD}, {@code OPTIONS}) pass: the browser keeps their answers from the other site. Runs
 * before access control, so a forged request is refused whatever credentials it carries: {@code 403 forbidden}.
 */
@ApplicationScoped
public class CrossSiteGate {

    /** Right after the drain gate, before access control. */
    static final int ORDER = DrainGate.ORDER + 1;

    private final RouteRefusal refusal;

    public CrossSiteGate(ObjectMapper mapper) {
        this.refusal = new RouteRefusal(new ProblemMappers(mapper));
    }

    void install(@Observes Router router) {
        router.route().order(ORDER).handler(this::check);
    }

    void check(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        HttpMethod method = request.method();
        if (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS
                || sameSite(request)) {
            ctx.next();
            return;
        }
        refusal.refuse(ctx, new ApiException(ErrorCode.FORBIDDEN, "a browser sent this " + method + " on behalf of"
                + " another site (Sec-Fetch-Site " + request.getHeader("Sec-Fetch-Site") + ", Origin "
                + request.getHeader("Origin") + "): state-changing requests from web pages are accepted from this"
                + " service's own pages only; nothing was done"), Map.of(), false);
    }

    static boolean sameSite(HttpServerRequest request) {
        String fetchSite = request.getHeader("Sec-Fetch-Site");
        if (fetchSite != null) {
            return fetchSite.equalsIgnoreCase("same-origin") || fetchSite.equalsIgnoreCase("none");
        }
        String origin = request.getHeader("Origin");
        return origin == null || isThisService(origin, request.authority(), request.isSSL());
    }

    /** Whether {@code origin} ({@code scheme://host[:port]}) names the service the request reached. */
    static boolean isThisService(String origin, HostAndPort authority, boolean tls) {
        if (authority == null) {
            return false;
        }
        URI uri;
        try {
            uri = URI.create(origin);
        } catch (IllegalArgumentException e) {
            return false; // "null" (a sandboxed or file page) and anything unparsable are another site
        }
        if (uri.getHost() == null || uri.getScheme() == null) {
            return false;
        }
        int originPort = uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        int port = authority.port() != -1 ? authority.port() : tls ? 443 : 80;
        return uri.getHost().equalsIgnoreCase(authority.host()) && originPort == port;
    }
}
