package io.stateversions.config;

import io.quarkus.arc.properties.IfBuildProperty;
import io.stateversions.location.postgres.EmbeddedPostgresServer;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import java.nio.file.Path;

/** The embedded PostgreSQL, in JVM builds only (see {@link EmbeddedConsensusServer}). */
@Singleton
@IfBuildProperty(name = "quarkus.native.enabled", stringValue = "false", enableIfMissing = true)
public class EmbeddedPostgresBean implements EmbeddedConsensusServer {

    private final StorageConfig config;
    private EmbeddedPostgresServer server;

    public EmbeddedPostgresBean(StorageConfig config) {
        this.config = config;
    }

    @Override
    public synchronized String start() {
        if (server == null) {
            server = EmbeddedPostgresServer.start(Path.of(config.dataDir()), config.consensus().embedded().port(), true);
        }
        return server.url();
    }

    /** Also a safety net at shutdown: normally the consensus backend has stopped it already, after its pool. */
    @Override
    @PreDestroy
    public synchronized void stop() {
        if (server != null) {
            server.close();
            server = null;
        }
    }

    @Override
    public synchronized String describe() {
        return server == null ? "embedded PostgreSQL (not started)" : "embedded PostgreSQL " + server.version();
    }
}
