package io.stateversions.watch;

/** A replica already serves as many watches as it may ({@link WatchConfig#maxWatchers()}). */
public final class TooManyWatchersException extends RuntimeException {

    public TooManyWatchersException(int max) {
        super("this replica already serves " + max + " watches (stateversions.watch.max-watchers); retry later or"
                + " on another replica", null, false, false);
    }
}
