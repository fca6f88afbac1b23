package io.stateversions.watch;

/** This replica is stopping: it starts no new watch, so that the client watches through another replica. */
public final class DrainingException extends RuntimeException {

    public DrainingException() {
        super("this replica is shutting down and starts no new watch; watch again (on any replica)", null, false,
                false);
    }
}
