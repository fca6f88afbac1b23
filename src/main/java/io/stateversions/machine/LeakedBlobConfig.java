package io.stateversions.machine;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The knobs of the leaked-blob sweep ({@link LeakedBlobSweeper}). */
@ConfigMapping(prefix = "stateversions.maintenance")
public interface LeakedBlobConfig {

    /**
     * How old an unreferenced blob must be before a sweep deletes it, when the call names no grace: longer than any
     * writer takes from writing a blob to linking it into state, plus the clock skew to the blob store. Not negative.
     */
    @WithDefault("1h")
    Duration leakedBlobGrace();
}
