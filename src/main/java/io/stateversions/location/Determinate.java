package io.stateversions.location;

/**
 * A storage failure after which the operation certainly did not take effect (permission denied, a serialization
 * failure, a connection that could not be opened). Safe to retry any operation.
 */
public final class Determinate extends ExternalError {

    public Determinate(String message) {
        this(message, null);
    }

    public Determinate(String message, Throwable cause) {
        super(message, cause);
    }
}
