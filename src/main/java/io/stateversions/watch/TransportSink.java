package io.stateversions.watch;

/**
 * The part of a {@link WatchSink} every transport shares: the watcher arrives after the transport's stream exists
 * (the start of a watch is asynchronous), so readiness and disconnects that happen before are remembered and handed
 * on when it does.
 */
public abstract class TransportSink implements WatchSink {

    private volatile Watcher watcher;
    private volatile boolean disconnected;

    /** The watch started: start sending, unless the client already went away. */
    public final void attach(Watcher w) {
        watcher = w;
        if (disconnected) {
            w.cancel();
        } else {
            w.start();
        }
    }

    /** The transport can take events again. */
    public final void transportReady() {
        Watcher w = watcher;
        if (w != null) {
            w.ready();
        }
    }

    /** The client went away. */
    public final void disconnected() {
        disconnected = true;
        Watcher w = watcher;
        if (w != null) {
            w.cancel();
        }
    }

    /** The client went away (events sent now are lost). */
    protected final boolean isDisconnected() {
        return disconnected;
    }
}
