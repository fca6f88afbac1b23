package io.stateversions.testing;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.quarkus.test.junit.QuarkusTestProfile;
import java.util.List;
import java.util.Map;

/**
 * A PostgreSQL server of one test profile's own (the profile disables the global {@link StorageServers}), which its
 * tests stop once the service has started: Consensus then becomes unreachable (connections are refused at once), as
 * in an outage. The service starts on it normally, with {@code mem://} blobs; a test with the {@link Profile} gets
 * this resource injected into a field of this type and calls {@link #stopServer()}.
 */
public class VanishingPostgres implements QuarkusTestResourceLifecycleManager {

    /** The test profile of a service on a {@link VanishingPostgres} instead of the global test resources. */
    public static class Profile implements QuarkusTestProfile {
        @Override
        public List<TestResourceEntry> testResources() {
            return List.of(new TestResourceEntry(VanishingPostgres.class));
        }

        @Override
        public boolean disableGlobalTestResources() {
            return true;
        }
    }

    private TemporaryPostgres postgres;

    @Override
    public synchronized Map<String, String> start() {
        postgres = TemporaryPostgres.start();
        return Map.of("stateversions.consensus.url", postgres.url(), "stateversions.blob.url", "mem:///");
    }

    @Override
    public void inject(TestInjector injector) {
        injector.injectIntoFields(this, field -> field.getType().getName().equals(VanishingPostgres.class.getName()));
    }

    /** Stops the server, if it still runs: from now on the service's connections are refused. */
    public synchronized void stopServer() {
        if (postgres != null) {
            postgres.close();
            postgres = null;
        }
    }

    @Override
    public void stop() {
        stopServer();
    }
}
