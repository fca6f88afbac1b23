package io.stateversions.config;

import io.quarkus.runtime.ShutdownEvent;
import io.stateversions.codec.StateCodec;
import io.stateversions.core.PersistConfig;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.Timeouts;
import io.stateversions.machine.MaintenanceConfig;
import io.stateversions.metrics.StateMetrics;
import io.stateversions.stateversions.OffLoopExecutor;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.StateVersions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Wires the state layer: its configuration, and one {@link StateVersions} over the configured storage. */
@ApplicationScoped
public class StateVersionsProducer {

    @Produces
    @Singleton
    PersistConfig persistConfig(StateConfig config) {
        return config.toPersistConfig();
    }

    @Produces
    @Singleton
    StateVersions stateVersions(PersistConfig cfg, Consensus consensus, Blob blob, Retries retries,
            StateMetrics metrics, OffLoopExecutor cpu) {
        return new StateVersions(cfg, new StateCodec(cfg), consensus, blob, retries, metrics,
                System::currentTimeMillis, hostname(), cpu);
    }

    /** The CPU-heavy work of the state layer runs here, never on the event loops of storage and the API. */
    @Produces
    @Singleton
    OffLoopExecutor offLoopExecutor(MaintenanceConfig config) {
        int threads = config.cpuThreads().orElse(OffLoopExecutor.defaultThreads());
        if (threads < 1) {
            throw new IllegalArgumentException("stateversions.maintenance.cpu-threads must be at least 1, got "
                    + threads);
        }
        return new OffLoopExecutor(threads);
    }

    void closeOffLoopExecutor(@Disposes OffLoopExecutor cpu) {
        cpu.close();
    }

    /** The request and statement bounds' wheel stops with the application (see {@link Timeouts#close}). */
    void closeTimeouts(@Observes ShutdownEvent event) {
        Timeouts.SHARED.close();
    }

    /** This host's name for the state it writes (operators only): the pod name on Kubernetes. */
    static String hostname() {
        String env = System.getenv("HOSTNAME");
        if (env != null && !env.isBlank()) {
            return env;
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown";
        }
    }
}
