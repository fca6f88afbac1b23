package io.stateversions.config;

import io.stateversions.core.PersistConfig;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.metrics.StateMetrics;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.StateVersions;
import jakarta.enterprise.context.ApplicationScoped;
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
            StateMetrics metrics) {
        return new StateVersions(cfg, consensus, blob, retries, metrics, System::currentTimeMillis, hostname());
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
