package io.stateversions.config;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.stateversions.machine.Machines;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchConfig;
import io.stateversions.watch.Watches;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Runs {@link Watches#tick()} every {@code stateversions.watch.fallback-poll-interval} (at most every second, so
 * that a failed read is retried soon whatever the poll settings) on a Vert.x timer (the tick only starts I/O, so an
 * event loop serves it). At start-up it creates the machines, which hear of other replicas' commits from then on.
 * When the service stops it ends every watch, telling each client where to resume, and closes the notification
 * connection before storage shuts down.
 */
@ApplicationScoped
public class WatchTicker {

    private final Vertx vertx;
    private final Watches watches;
    private final WatchConfig config;
    private final CommitBus bus;
    private volatile long timer = -1;

    public WatchTicker(Vertx vertx, Watches watches, WatchConfig config, CommitBus bus) {
        this.vertx = vertx;
        this.watches = watches;
        this.config = config;
        this.bus = bus;
    }

    void start(@Observes StartupEvent event, Machines machines) {
        long everyMs = Math.max(10, Math.min(MAX_TICK_MS, config.fallbackPollInterval().toMillis()));
        timer = vertx.setPeriodic(everyMs, id -> watches.tick());
    }

    private static final long MAX_TICK_MS = 1_000;

    /**
     * The drain has begun (readiness is DOWN, requests are still served for {@code quarkus.shutdown.delay}): watches
     * end now, with the event that tells each client where to resume, so that they move to a replica that stays.
     */
    void drain(@Observes io.quarkus.runtime.ShutdownDelayInitiatedEvent event) {
        watches.shutdown();
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        watches.shutdown();
        bus.close();
    }
}
