package io.stateversions.location;

/**
 * A storage failure after which the operation may or may not have taken effect (a timeout, a connection reset
 * after the request was sent, an unclassified error). The caller must find out, or only retry operations that
 * are idempotent.
 */
public final class Indeterminate extends ExternalError {

    public Indeterminate(String message) {
        this(message, null);
    }

    public Indeterminate(String message, Throwable cause) {
        super(message, cause);
    }
}
