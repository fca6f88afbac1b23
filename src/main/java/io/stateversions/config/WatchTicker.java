package io.stateversions.config;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.stateversions.watch.WatchConfig;
import io.stateversions.watch.Watches;
import io.vertx.core.Vertx;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * Runs {@link Watches#tick()} every {@code stateversions.watch.fallback-poll-interval} on a Vert.x timer (the tick
 * only starts I/O, so an event loop serves it), and ends every watch when the service stops, telling each client
 * where to resume.
 */
@ApplicationScoped
public class WatchTicker {

    private final Vertx vertx;
    private final Watches watches;
    private final WatchConfig config;
    private volatile long timer = -1;

    public WatchTicker(Vertx vertx, Watches watches, WatchConfig config) {
        this.vertx = vertx;
        this.watches = watches;
        this.config = config;
    }

    void start(@Observes StartupEvent event) {
        long everyMs = Math.max(10, config.fallbackPollInterval().toMillis());
        timer = vertx.setPeriodic(everyMs, id -> watches.tick());
    }

    void stop(@Observes ShutdownEvent event) {
        if (timer >= 0) {
            vertx.cancelTimer(timer);
        }
        watches.shutdown();
    }
}
