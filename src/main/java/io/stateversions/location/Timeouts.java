package io.stateversions.location;

import io.netty.util.HashedWheelTimer;
import io.netty.util.Timeout;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Bounds on how long a future may take, for the bounds that every request sets and almost never reaches (the
 * request timeout, the client-side statement timeout).
 *
 * <p>{@link CompletableFuture#orTimeout} puts each bound on the JDK's one delay thread, and wakes that thread
 * whenever the new bound is the earliest one queued: with one request in flight, that is every request, a futex
 * wake-up and a context switch per request and per statement on a 2-core machine. Here a bound is an entry in a
 * hashed timer wheel whose thread wakes once per tick whatever the load, and adding or cancelling a bound wakes
 * nobody. The price is precision: a bound fires up to one tick (and the wheel's processing) late, which does not
 * matter for bounds of seconds.
 */
public final class Timeouts implements AutoCloseable {

    /** The tick of {@link #SHARED}: far below the bounds it serves, which are seconds. */
    static final long SHARED_TICK_MS = 10;

    /** The wheel of every request and statement bound of this process; its thread is a daemon. */
    public static final Timeouts SHARED = new Timeouts("stateversions-timeouts", SHARED_TICK_MS);

    private final HashedWheelTimer wheel;
    private volatile boolean closed;

    /** A wheel of its own, ticking every {@code tickMs}, on a daemon thread named {@code threadName}. */
    public Timeouts(String threadName, long tickMs) {
        ThreadFactory factory = task -> {
            Thread thread = new Thread(task, threadName);
            thread.setDaemon(true);
            return thread;
        };
        // Leak detection off: the wheel lives as long as the process, and a daemon thread needs no stop.
        this.wheel = new HashedWheelTimer(factory, tickMs, TimeUnit.MILLISECONDS, 512, false);
    }

    /**
     * Fails {@code future} with a {@link TimeoutException} unless it completes within {@code timeout} (at most about
     * one tick later); returns {@code future}. Completing it cancels the bound, so a wheel holds only the bounds of
     * futures still pending.
     */
    public <T> CompletableFuture<T> orTimeout(CompletableFuture<T> future, long timeout, TimeUnit unit) {
        if (future.isDone() || closed) {
            return future;
        }
        Timeout bound;
        try {
            bound = wheel.newTimeout(expired -> future.completeExceptionally(new TimeoutException(
                    "not complete within " + unit.toMillis(timeout) + " ms")), timeout, unit);
        } catch (IllegalStateException stopped) {
            return future; // closed meanwhile: see close()
        }
        future.whenComplete((value, error) -> bound.cancel());
        return future;
    }

    /** Bounds not yet expired or cancelled (a cancelled one leaves at the wheel's next tick). */
    long pending() {
        return wheel.pendingTimeouts();
    }

    /**
     * Stops the wheel's thread; pending bounds never fire, and futures given later get none (the process is
     * stopping: its last requests finish or fail on their own). The service closes {@link #SHARED} when it stops,
     * since a static wheel's thread would otherwise outlive the application: in dev mode every live reload loads
     * this class anew, and each old wheel would keep ticking and keep the old application's classes alive.
     */
    @Override
    public void close() {
        closed = true;
        wheel.stop();
    }
}
