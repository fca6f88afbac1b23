package io.stateversions.config;

import io.quarkus.scheduler.Scheduled;
import io.stateversions.machine.IdleSweeper;
import io.stateversions.machine.Machines;
import io.stateversions.machine.MaintenanceConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletionStage;
import org.jboss.logging.Logger;

/**
 * Runs the {@link IdleSweeper} every {@code stateversions.maintenance.sweep-interval}, first one minute after
 * start-up (so that a restarting fleet does not sweep at once); a run never overlaps the previous one. Cleans the
 * cache of machines up every minute ({@link Machines#cleanUp}), whether sweeps run or not.
 */
@ApplicationScoped
public class MaintenanceScheduler {

    private static final Logger LOG = Logger.getLogger(MaintenanceScheduler.class);

    private final IdleSweeper sweeper;
    private final MaintenanceConfig config;
    private final Machines machines;

    public MaintenanceScheduler(IdleSweeper sweeper, MaintenanceConfig config, Machines machines) {
        this.sweeper = sweeper;
        this.config = config;
        this.machines = machines;
    }

    /** Evicts idle machines of a replica that serves nothing (the cache evicts on its own only as it is used). */
    @Scheduled(identity = "machine-cache-clean-up", every = "60s", delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void cleanUpMachines() {
        machines.cleanUp();
    }

    @Scheduled(identity = "maintenance-sweep", every = "${stateversions.maintenance.sweep-interval:5m}",
            delayed = "60s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    CompletionStage<Void> sweep() {
        long start = System.nanoTime();
        return sweeper.sweepNext(config.idleAfter().toMillis(), config.sweepConcurrency(), config.sweepMaxShards())
                .thenAccept(result -> {
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
