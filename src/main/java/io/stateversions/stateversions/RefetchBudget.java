package io.stateversions.stateversions;

import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.ShardId;
import io.stateversions.location.VersionedData;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * The bound of one refetch loop of {@link StateVersions#fetchCurrentState} or {@link StateVersions#fetchAllLiveStates}
 * (spec §9, §10.4, §10.8, §22.4), shared by the loops nested in it so that together they spend one budget.
 *
 * <p>A rollup that a diff names but Blob does not hold normally means that the diffs were read before GC deleted
 * the rollup and moved on: one refetch finds the newer rollup. Persist refetches at once, forever. When the rollup
 * is really gone (deleted by hand, or this replica reads another blob store than the writers of Consensus use),
 * that loop spins at full speed and never answers. So a loop here
 * <ol>
 *   <li>refetches at once {@value #IMMEDIATE_REFETCHES} times, as persist does: a GC race costs no sleep;</li>
 *   <li>then sleeps before each refetch by the policy of its {@link Retries} (persist's defaults: 4 ms doubling,
 *       jittered), on their scheduler, never blocking a thread;</li>
 *   <li>gives up once {@link io.stateversions.core.PersistConfig#staleRollupRefetchBudgetMs} has passed since it
 *       started, failing with an {@link IllegalStateException} that names the shard, the missing rollup, the live
 *       versions it read last and the likely cause. The last sleep is cut to end at the budget, so the loop fails
 *       at most one refetch after it; the immediate refetches are always made, so slow storage cannot turn a GC
 *       race into a failure;</li>
 *   <li>stops before its next refetch, failing with a {@link CancellationException}, once its caller's future is
 *       done: whoever started it (an API request that timed out) no longer waits for the answer.</li>
 * </ol>
 * Every refetch and every give-up is counted ({@link StateVersionsMetrics#staleRollupRefetch},
 * {@link StateVersionsMetrics#staleRollupGaveUp}); warnings go through one {@link Warnings} per process.
 *
 * <p>Not thread-safe, and needs not be: a loop runs one step at a time, each step after the previous one's future
 * completed (which orders their memory effects).
 */
final class RefetchBudget {

    private static final Logger LOG = Logger.getLogger(RefetchBudget.class);

    /** Refetches made at once, without sleeping, before backing off; a GC race needs one. */
    static final int IMMEDIATE_REFETCHES = 3;
    /** The give-up reason when the budget is spent. */
    static final String BUDGET_SPENT = "budget";
    /** The give-up reason when the caller is done. */
    static final String CALLER_DONE = "caller_done";

    private final ShardId shard;
    private final Future<?> caller;
    private final long budgetNanos;
    private final Retries retries;
    private final StateVersionsMetrics metrics;
    private final Warnings warnings;
    private final long startNanos = System.nanoTime();
    private int refetches;

    RefetchBudget(ShardId shard, Future<?> caller, long budgetMs, Retries retries, StateVersionsMetrics metrics,
            Warnings warnings) {
        this.shard = Objects.requireNonNull(shard, "shard");
        this.caller = Objects.requireNonNull(caller, "caller");
        this.budgetNanos = TimeUnit.MILLISECONDS.toNanos(budgetMs);
        this.retries = Objects.requireNonNull(retries, "retries");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.warnings = Objects.requireNonNull(warnings, "warnings");
    }

    /**
     * Called when {@code op} found the rollup {@code missing}, named by the live diffs {@code live}, gone from Blob.
     * Completes when the refetch may start: at once, or after a backoff. Fails if the loop must stop instead.
     */
    CompletableFuture<Void> beforeRefetch(String op, PartialRollupKey missing, List<VersionedData> live) {
        if (caller.isDone()) {
            metrics.staleRollupGaveUp(op, CALLER_DONE);
            LOG.debugf("%s of shard %s stops refetching after %d refetches: its caller is done", op, shard, refetches);
            return CompletableFuture.failedFuture(new CancellationException(op + " of shard " + shard
                    + " stopped refetching, its caller being done; rollup " + missing.complete(shard)
                    + " was missing"));
        }
        refetches++;
        if (refetches <= IMMEDIATE_REFETCHES) {
            metrics.staleRollupRefetch(op);
            LOG.debugf("rollup %s is gone (live versions %s): the diffs are stale; refetch %d", missing.complete(shard),
                    range(live), refetches);
            return CompletableFuture.completedFuture(null);
        }
        long elapsedNanos = System.nanoTime() - startNanos;
        long remainingNanos = budgetNanos - elapsedNanos;
        if (remainingNanos <= 0) {
            metrics.staleRollupGaveUp(op, BUDGET_SPENT);
            IllegalStateException gaveUp = new IllegalStateException("rollup " + missing.complete(shard) + " of shard "
                    + shard + " is missing from Blob: " + op + " refetched the live versions " + (refetches - 1)
                    + " times in " + TimeUnit.NANOSECONDS.toMillis(elapsedNanos) + " ms, and they still name it"
                    + " (live versions " + range(live) + "). The blob store does not hold rollups that Consensus"
                    + " names: is this replica configured with the same blob store as the others, or was a rollup"
                    + " deleted by hand?");
            warnings.warn(gaveUp.getMessage());
            return CompletableFuture.failedFuture(gaveUp);
        }
        if (refetches == IMMEDIATE_REFETCHES + 1) {
            warnings.warn("rollup " + missing.complete(shard) + " of shard " + shard + " is still missing from Blob"
                    + " after " + IMMEDIATE_REFETCHES + " refetches (live versions " + range(live) + "); " + op
                    + " backs off and gives up after " + TimeUnit.NANOSECONDS.toMillis(budgetNanos) + " ms");
        }
        Duration sleep = retries.backoff(refetches - IMMEDIATE_REFETCHES);
        if (sleep.toNanos() > remainingNanos) {
            sleep = Duration.ofNanos(remainingNanos);
        }
        metrics.staleRollupRefetch(op);
        LOG.debugf("rollup %s is gone (live versions %s); refetch %d in %d ms", missing.complete(shard), range(live),
                refetches, sleep.toMillis());
        return retries.sleep(sleep);
    }

    private static String range(List<VersionedData> live) {
        return live.isEmpty() ? "none"
                : live.get(0).seqno() + ".." + live.get(live.size() - 1).seqno();
    }

    /**
     * At most one warning a minute for the whole process, each with the number suppressed before it. Global rather
     * than per shard: what makes rollups stay missing (a replica pointed at another blob store, a prefix deleted)
     * usually breaks every shard at once, and a per-shard limit would then still log a line a minute for each shard
     * and keep a map of them. Nothing is lost: the metrics count every refetch and give-up, and each give-up's
     * error names its shard and rollup to whoever called.
     */
    static final class Warnings {

        private static final long INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

        private final AtomicLong nextNanos = new AtomicLong(System.nanoTime());
        private final AtomicLong suppressed = new AtomicLong();

        void warn(String message) {
            long now = System.nanoTime();
            long next = nextNanos.get();
            if (now - next < 0 || !nextNanos.compareAndSet(next, now + INTERVAL_NANOS)) {
                suppressed.incrementAndGet();
                LOG.debug(message);
                return;
            }
            long dropped = suppressed.getAndSet(0);
            LOG.warn(dropped == 0 ? message
                    : message + " (" + dropped + " such warnings suppressed since the last one; at most one a minute)");
        }
    }
}
