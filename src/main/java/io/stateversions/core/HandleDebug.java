package io.stateversions.core;

import java.util.Objects;

/** Where a reader or writer handle came from: for operators only, never for decisions. */
public record HandleDebug(String hostname, String purpose) {

    public HandleDebug {
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(purpose, "purpose");
    }
}
