package io.stateversions.config;

import io.quarkus.scheduler.Scheduled;
import io.stateversions.machine.IdleSweeper;
import io.stateversions.machine.MaintenanceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.jboss.logging.Logger;

/**
 * Runs the {@link IdleSweeper} every {@code stateversions.maintenance.sweep-interval}, first one minute after
 * start-up (so that a restarting fleet does not sweep at once); a run never overlaps the previous one.
 */
@ApplicationScoped
public class MaintenanceScheduler {

    private static final Logger LOG = Logger.getLogger(MaintenanceScheduler.class);

    private final IdleSweeper sweeper;
    private final MaintenanceConfig config;

    public MaintenanceScheduler(IdleSweeper sweeper, MaintenanceConfig config) {
        this.sweeper = sweeper;
        this.config = config;
    }

    @Scheduled(identity = "maintenance-sweep", every = "${stateversions.maintenance.sweep-interval:5m}",
            delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    CompletionStage<Void> sweep() {
        long start = System.nanoTime();
        return sweeper.sweepAll(config.idleAfter().toMillis(), config.sweepConcurrency()).thenAccept(result -> {
            long ms = (System.nanoTime() - start) / 1_000_000;
            if (result.handlesExpired() > 0 || result.gcRuns() > 0 || result.rollupsWritten() > 0
                    || result.failed() > 0) {
                LOG.infof("maintenance sweep in %d ms: %s", ms, result);
            } else {
                LOG.debugf("maintenance sweep in %d ms: %s", ms, result);
            }
        });
    }
}
