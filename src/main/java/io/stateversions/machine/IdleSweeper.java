package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.Consensus;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;
import org.jboss.logging.Logger;

/**
 * The scheduled sweep over quiet shards. Maintenance normally rides on commits: every committing transition
 * expires lapsed leases and assigns rollups and GC. A shard that stops receiving commands would keep its dead
 * readers' seqno holds, and its untruncated log, forever. For each shard with no commit for {@code idleAfterMs},
 * the sweep:
 * <ol>
 *   <li>commits the expiry of lapsed readers and writers, if there are any ({@link Commands#expireLapsedHandles});</li>
 *   <li>writes a rollup of its current state if versions other than the sweep's own were committed since its
 *       latest rollup;</li>
 *   <li>runs GC up to its {@code seqno_since}.</li>
 * </ol>
 * Busy shards are skipped: their own commits do all of this. Several replicas may sweep at once: each step is
 * idempotent, a lost race recomputes, and a second rollup at the same seqno is not applied (and deleted).
 */
public final class IdleSweeper {

    private static final Logger LOG = Logger.getLogger(IdleSweeper.class);
    private static final int PAGE = 1000;
    /** Versions a sweep itself commits after a rollup: {@code add_rollup} and GC's {@code remove_rollups}. */
    private static final int OWN_COMMITS = 2;

    /** What one sweep did ({@code gcRuns}: GC runs that collected something). */
    public record Result(int shards, int idle, int handlesExpired, int rollupsWritten, int gcRuns, int failed) {}

    private final Machines machines;
    private final Consensus consensus;
    private final RollupWriter rollups;
    private final GarbageCollector gc;
    private final LongSupplier nowMs;

    public IdleSweeper(Machines machines, Consensus consensus, RollupWriter rollups, GarbageCollector gc,
            LongSupplier nowMs) {
        this.machines = machines;
        this.consensus = consensus;
        this.rollups = rollups;
        this.gc = gc;
        this.nowMs = nowMs;
    }

    /** Sweeps every shard in Consensus, {@code concurrency} at a time. */
    public CompletableFuture<Result> sweepAll(long idleAfterMs, int concurrency) {
        Tally tally = new Tally();
        return sweepPage("", idleAfterMs, concurrency, tally).thenApply(ignored -> tally.result());
    }

    private CompletableFuture<Void> sweepPage(String after, long idleAfterMs, int concurrency, Tally tally) {
        return consensus.listKeys(after, PAGE).toCompletableFuture().thenCompose(keys -> {
            List<ShardId> shards = new ArrayList<>();
            for (String key : keys) {
                try {
                    shards.add(ShardId.parse(key));
                } catch (IllegalArgumentException e) {
                    LOG.debugf("Consensus key %s is not a shard; not swept", key);
                }
            }
            CompletableFuture<Void> page = sweepShards(shards, idleAfterMs, concurrency, tally);
            return keys.size() < PAGE ? page
                    : page.thenCompose(ignored -> sweepPage(keys.get(keys.size() - 1), idleAfterMs, concurrency, tally));
        });
    }

    /** Sweeps {@code shards}, {@code concurrency} at a time; a shard whose sweep fails is counted and logged. */
    private CompletableFuture<Void> sweepShards(List<ShardId> shards, long idleAfterMs, int concurrency, Tally tally) {
        return Bounded.forEach(shards, concurrency, shard -> sweep(shard, idleAfterMs, tally).handle((ignored, error) -> {
            if (error != null) {
                tally.failed.incrementAndGet();
                LOG.warnf("maintenance sweep of shard %s failed: %s", shard, error.toString());
            }
            return null;
        }));
    }

    /** Sweeps one shard if it is idle. */
    public CompletableFuture<Void> sweep(ShardId shard, long idleAfterMs, Tally tally) {
        tally.shards.incrementAndGet();
        return machines.get(shard).thenCompose(machine -> machine.read().thenCompose(state -> {
            long now = nowMs.getAsLong();
            if (state.walltimeMs() > now - idleAfterMs) {
                return CompletableFuture.completedFuture(null);
            }
            tally.idle.incrementAndGet();
            return machine.apply(Command.EXPIRE_LEASES, Commands.expireLapsedHandles(now))
                    .thenCompose(expired -> {
                        tally.handlesExpired.addAndGet(expired.value());
                        State current = expired.state();
                        SeqNo latestRollup = current.latestRollup().getKey();
                        // The sweep's own commits (add_rollup, then GC's remove_rollups) are two versions past a
                        // rollup: rolling those up again would churn forever on a shard that is otherwise idle.
                        if (current.seqno().value() - latestRollup.value() <= OWN_COMMITS) {
                            return CompletableFuture.completedFuture(null);
                        }
                        return rollups.write(machine).thenAccept(r -> {
                            if (r.rollupKey().isPresent()) {
                                tally.rollupsWritten.incrementAndGet();
                            }
                        });
                    })
                    .thenCompose(ignored -> gc.runToSeqnoSince(machine))
                    .thenAccept(gcRun -> {
                        if (gcRun.didWork()) {
                            tally.gcRuns.incrementAndGet();
                        }
                    });
        }));
    }

    /** Counts of one sweep, shared by its concurrent shard sweeps. */
    public static final class Tally {
        final AtomicInteger shards = new AtomicInteger();
        final AtomicInteger idle = new AtomicInteger();
        final AtomicInteger handlesExpired = new AtomicInteger();
        final AtomicInteger rollupsWritten = new AtomicInteger();
        final AtomicInteger gcRuns = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();

        public Result result() {
            return new Result(shards.get(), idle.get(), handlesExpired.get(), rollupsWritten.get(), gcRuns.get(),
                    failed.get());
        }
    }
}
