package io.stateversions.api.security;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.security.identity.SecurityIdentity;
import io.quarkus.vertx.http.runtime.security.QuarkusHttpUser;
import io.smallrye.mutiny.Uni;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.api.rest.ProblemMappers;
import io.stateversions.api.rest.RouteRefusal;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Map;
import java.util.function.BiConsumer;
import org.jboss.logging.Logger;

/**
 * Enforces {@link Operation}'s table on every request of the API port, REST and gRPC alike, when security is on.
 *
 * <p>It is a route of the HTTP router, after Quarkus' authentication handler (which only prepares the caller's
 * identity: authentication is lazy, {@code quarkus.http.auth.proactive=false}) and before every other route: the
 * body limit, the REST resources, the watch route and the gRPC server, which Quarkus serves on the same router. So
 * a request is refused before its body is read and before a gRPC call exists. gRPC requests are told apart by their
 * content type, and their operation is their path ({@code /service/method}); REST requests by method and path.
 *
 * <p>The identity comes from Quarkus' mechanisms: a bearer token ({@code Authorization: Bearer …} on REST, the
 * {@code authorization} metadata on gRPC, which is the same HTTP/2 header) verified by SmallRye JWT, or a client
 * certificate verified by the TLS handshake and mapped to roles ({@link SecuritySetup}). No credentials, or credentials
 * that were not accepted: {@code 401 unauthenticated} / {@code UNAUTHENTICATED}. No role that includes the one the
 * operation needs: {@code 403 forbidden} / {@code PERMISSION_DENIED}. Both as problem documents or gRPC statuses
 * with the {@code sv-error-code} trailer, as every other error. No answer repeats a credential.
 */
@ApplicationScoped
public class AccessControl {

    /** After Quarkus' authentication (-200) and permission (-100) handlers, before the body limit (-4) and routes. */
    static final int ORDER = -50;

    private static final Logger LOG = Logger.getLogger(AccessControl.class);
    private static final String NO_CREDENTIALS = "credentials are required: a bearer token (Authorization: Bearer"
            + " <JWT>) or a client certificate";
    private static final String BAD_CREDENTIALS = "the credentials were not accepted (a token must be a JWT signed by"
            + " the configured key, for the configured issuer and audience, and within its validity)";

    /** Where an allowed request's roles are kept for {@link #allows}. */
    private static final String CALLER_ROLES = AccessControl.class.getName() + ".roles";

    private final SecurityConfig config;
    private final RouteRefusal refusal;

    public AccessControl(SecurityConfig config, ObjectMapper mapper) {
        this.config = config;
        this.refusal = new RouteRefusal(new ProblemMappers(mapper));
    }

    void install(@Observes Router router) {
        if (config.enabled()) {
            router.route().order(ORDER).handler(this::check);
        }
    }

    void check(RoutingContext ctx) {
        HttpServerRequest request = ctx.request();
        boolean grpc = isGrpc(request);
        Operation operation = (grpc ? Operation.ofGrpc(request.path().substring(1))
                : Operation.ofRest(request.method().name(), withoutTrailingSlash(ctx.normalizedPath())))
                .orElse(null);
        Role required = operation == null ? Role.ADMIN : operation.role();
        // This handler answers authentication failures itself, as problem documents or gRPC statuses.
        ctx.put(QuarkusHttpUser.AUTH_FAILURE_HANDLER, (BiConsumer<RoutingContext, Throwable>) (c, t) -> {});
        Context context = Vertx.currentContext();
        Uni<SecurityIdentity> identity = QuarkusHttpUser.getSecurityIdentity(ctx, null);
        identity.subscribe().with(
                caller -> onContext(context, () -> decide(ctx, grpc, operation, required, caller)),
                failure -> onContext(context, () -> {
                    LOG.debugf("authentication failed for %s %s: %s", request.method(), request.path(),
                            failure.getClass().getSimpleName());
                    refuse(ctx, grpc, new ApiException(ErrorCode.UNAUTHENTICATED, BAD_CREDENTIALS));
                }));
    }

    private void decide(RoutingContext ctx, boolean grpc, Operation operation, Role required,
            SecurityIdentity caller) {
        if (caller == null || caller.isAnonymous()) {
            refuse(ctx, grpc, new ApiException(ErrorCode.UNAUTHENTICATED, NO_CREDENTIALS));
        } else if (!Role.grants(caller.getRoles(), required)) {
            String what = operation == null ? "this request (no operation of the API)" : operationName(operation);
            refuse(ctx, grpc, new ApiException(ErrorCode.FORBIDDEN, what + " needs the role " + required.roleName()
                    + " (or one that includes it); the caller has none of them", Map.of("requiredRole",
                    required.roleName())));
        } else {
            ctx.put(CALLER_ROLES, caller.getRoles());
            ctx.next();
        }
    }

    /**
     * Iff the caller of {@code ctx} may do what {@code role} allows: always while security is off; else iff the roles
     * this check found for it (an allowed request's) include it. For pages that offer more to some callers (the
     * inspector's maintenance buttons); the routes themselves are checked by the table.
     */
    public boolean allows(RoutingContext ctx, Role role) {
        if (!config.enabled()) {
            return true;
        }
        java.util.Set<String> roles = ctx.get(CALLER_ROLES);
        return roles != null && Role.grants(roles, role);
    }

    private void refuse(RoutingContext ctx, boolean grpc, ApiException error) {
        refusal.refuse(ctx, error, error.code() == ErrorCode.UNAUTHENTICATED
                ? Map.of("WWW-Authenticate", "Bearer realm=\"state-versions\"") : Map.of(), false);
    }

    static boolean isGrpc(HttpServerRequest request) {
        return RouteRefusal.isGrpc(request);
    }

    private static String withoutTrailingSlash(String path) {
        return path.length() > 1 && path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    /** The gRPC method's simple name, or for a REST-only route (the inspector's) its method and path template. */
    private static String operationName(Operation operation) {
        if (operation.grpcMethods().isEmpty()) {
            return operation.httpMethod().orElseThrow() + " " + operation.pathTemplate().orElseThrow();
        }
        return operation.grpcMethods().get(0).substring(operation.grpcMethods().get(0).indexOf('/') + 1);
    }

    /** Identity providers may answer on another thread; the routing continues on the request's own context. */
    private static void onContext(Context context, Runnable action) {
        if (context == null || Vertx.currentContext() == context) {
            action.run();
        } else {
            context.runOnContext(ignored -> action.run());
        }
    }
}
