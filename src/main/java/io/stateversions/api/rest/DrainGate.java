package io.stateversions.api.rest;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.runtime.ShutdownDelayInitiatedEvent;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;

/**
 * The API port's side of a graceful stop. On SIGTERM Quarkus turns readiness DOWN and keeps the server fully up for
 * {@code quarkus.shutdown.delay}, so that load balancers take the replica out; then it waits up to
 * {@code quarkus.shutdown.timeout} for the requests in flight and closes the server. That last step has a gap: a
 * request that arrives after the last one in flight has finished, as the server closes, is cut off without an answer,
 * and its client cannot tell whether its append committed. So for the last {@code stateversions.api.drain-refusal} of
 * the delay this gate answers every new request at once with {@code 503 shutting_down} (gRPC {@code UNAVAILABLE}):
 * certainly not done, to be sent to another replica. The server is still fully open then, requests in flight finish,
 * and clients that are still sending are told to go elsewhere before anything closes.
 */
@ApplicationScoped
public class DrainGate {

    /** Before access control: a stopping replica refuses every caller alike, without checking credentials. */
    static final int ORDER = -60;

    private static final Logger LOG = Logger.getLogger(DrainGate.class);

    private final RouteRefusal refusal;
    private final Duration serveFor;
    private volatile boolean draining;
    private volatile long refuseFromNanos;

    public DrainGate(ObjectMapper mapper,
            @ConfigProperty(name = "quarkus.shutdown.delay", defaultValue = "0s") Duration delay, ApiConfig config) {
        this.refusal = new RouteRefusal(new ProblemMappers(mapper));
        Duration refusal = config.drainRefusal();
        this.serveFor = delay.compareTo(refusal) > 0 ? delay.minus(refusal) : Duration.ZERO;
    }

    void install(@Observes Router router) {
        router.route().order(ORDER).handler(this::check);
    }

    void drainStarted(@Observes ShutdownDelayInitiatedEvent event) {
        refuseFromNanos = System.nanoTime() + serveFor.toNanos();
        draining = true;
        LOG.infof("Draining: readiness is DOWN; requests are served for %d ms more, then refused with 503"
                + " shutting_down while those in flight finish", serveFor.toMillis());
    }

    void check(RoutingContext ctx) {
        if (draining && System.nanoTime() - refuseFromNanos >= 0) {
            refusal.refuse(ctx, new ApiException(ErrorCode.SHUTTING_DOWN, "this replica is shutting down; nothing was"
                    + " done: send the request to another replica"), Map.of(), true);
        } else {
            ctx.next();
        }
    }
}
