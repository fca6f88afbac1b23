package io.stateversions.stateversions;

import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Failures;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Persist's two retry loops around storage calls (spec §9). Both retry forever, sleeping by the {@link RetryPolicy}
 * between attempts, and never retry anything but an {@link ExternalError} (a {@code ContractViolation} is a bug,
 * and retrying a bug only hides it). A lost compare-and-set is a value, not an error, and is never retried here:
 * callers refresh and recompute without backoff.
 *
 * <ul>
 *   <li>{@link #external}: retries every {@link ExternalError}. For operations that are safe to repeat: every
 *       Blob call, Consensus reads, truncation, and the initializing CaS (which is idempotent).</li>
 *   <li>{@link #determinate}: retries only {@link Determinate} errors and returns the first
 *       {@link io.stateversions.location.Indeterminate} one to the caller, who must find out what happened. For
 *       the command CaS.</li>
 * </ul>
 *
 * <p>Cancelling the returned future stops the loop after the attempt in flight. When the scheduler refuses a
 * retry (it is shutting down) the last error is returned.
 */
public final class Retries {

    private static final Logger LOG = Logger.getLogger(Retries.class);
    /** Below this many failures a retry is logged at debug, from it on at info (persist's INFO_MIN_ATTEMPTS). */
    static final int INFO_MIN_ATTEMPTS = 3;

    /** Which errors a loop retries. */
    public enum Mode { EXTERNAL, DETERMINATE }

    /** Runs a task after a delay; throws {@link RejectedExecutionException} when it no longer accepts tasks. */
    @FunctionalInterface
    public interface Scheduler {
        void schedule(Duration delay, Runnable task);

        /** The JDK's shared delayer: the task runs on the common pool, which suits tasks that only start I/O. */
        Scheduler DEFAULT = (delay, task) ->
                CompletableFuture.delayedExecutor(delay.toNanos(), TimeUnit.NANOSECONDS).execute(task);
    }

    /** Told of every retry, for metrics. */
    @FunctionalInterface
    public interface Listener {
        void retrying(String op, Mode mode, int retry, ExternalError error, Duration sleep);

        Listener NONE = (op, mode, retry, error, sleep) -> {};
    }

    private final RetryPolicy policy;
    private final Scheduler scheduler;
    private final Listener listener;
    private final DoubleSupplier jitter;

    public Retries(RetryPolicy policy, Scheduler scheduler, Listener listener) {
        this(policy, scheduler, listener,
                () -> ThreadLocalRandom.current().nextDouble(RetryPolicy.MIN_JITTER, RetryPolicy.MAX_JITTER));
    }

    Retries(RetryPolicy policy, Scheduler scheduler, Listener listener, DoubleSupplier jitter) {
        this.policy = policy;
        this.scheduler = scheduler;
        this.listener = listener;
        this.jitter = jitter;
    }

    /** Retries {@code operation} until it succeeds or fails with something other than an {@link ExternalError}. */
    public <T> CompletableFuture<T> external(String op, Supplier<? extends CompletionStage<T>> operation) {
        return retry(op, Mode.EXTERNAL, operation);
    }

    /** Retries {@code operation} while it fails with {@link Determinate}; any other failure is returned. */
    public <T> CompletableFuture<T> determinate(String op, Supplier<? extends CompletionStage<T>> operation) {
        return retry(op, Mode.DETERMINATE, operation);
    }

    /**
     * The sleep this policy prescribes before retry {@code retry} (from 1), jittered: for a loop that backs off for a
     * reason other than a storage failure ({@link StateVersions}' refetch of a missing rollup).
     */
    Duration backoff(int retry) {
        return policy.sleep(retry, jitter.getAsDouble());
    }

    /**
     * Completes after {@code delay}, on the scheduler; fails with {@link RejectedExecutionException} at once if the
     * scheduler no longer accepts tasks.
     */
    CompletableFuture<Void> sleep(Duration delay) {
        CompletableFuture<Void> slept = new CompletableFuture<>();
        try {
            scheduler.schedule(delay, () -> slept.complete(null));
        } catch (RejectedExecutionException e) {
            slept.completeExceptionally(e);
        }
        return slept;
    }

    private <T> CompletableFuture<T> retry(String op, Mode mode, Supplier<? extends CompletionStage<T>> operation) {
        CompletableFuture<T> result = new CompletableFuture<>();
        attempt(op, mode, operation, result, 0);
        return result;
    }

    private <T> void attempt(String op, Mode mode, Supplier<? extends CompletionStage<T>> operation,
            CompletableFuture<T> result, int failures) {
        if (result.isDone()) {
            return; // cancelled by the caller
        }
        CompletionStage<T> stage;
        try {
            stage = operation.get();
        } catch (RuntimeException e) {
            stage = CompletableFuture.failedFuture(e);
        }
        stage.whenComplete((value, error) -> {
            if (error == null) {
                result.complete(value);
                return;
            }
            Throwable cause = Failures.unwrap(error);
            boolean retriable = mode == Mode.EXTERNAL ? cause instanceof ExternalError : cause instanceof Determinate;
            if (!retriable) {
                result.completeExceptionally(cause);
                return;
            }
            int retry = failures + 1;
            Duration sleep = policy.sleep(retry, jitter.getAsDouble());
            if (mode == Mode.EXTERNAL && retry >= INFO_MIN_ATTEMPTS) {
                LOG.infof("%s failed %d times, retrying in %d ms: %s", op, retry, sleep.toMillis(), cause.getMessage());
            } else {
                LOG.debugf("%s failed, retrying in %d ms: %s", op, sleep.toMillis(), cause.getMessage());
            }
            listener.retrying(op, mode, retry, (ExternalError) cause, sleep);
            try {
                scheduler.schedule(sleep, () -> attempt(op, mode, operation, result, retry));
            } catch (RejectedExecutionException e) {
                result.completeExceptionally(cause);
            }
        });
    }

}
