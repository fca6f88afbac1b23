package io.stateversions.api.rest;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The API port's own settings (README "Configuration"). */
@ConfigMapping(prefix = "stateversions.api")
public interface ApiConfig {

    /**
     * The last part of {@code quarkus.shutdown.delay} in which a stopping replica answers new requests
     * {@code 503 shutting_down} ({@link DrainGate}).
     */
    @WithDefault("1s")
    Duration drainRefusal();
}
