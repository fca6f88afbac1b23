package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.StateVersions;
import java.util.ArrayList;
import java.util.List;
import java.util.NavigableMap;
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
 * Busy shards are skipped: their own commits do all of this. A quiet shard reaches a fixed point where none of
 * the three has anything to do (a finalized shard, a tombstone, too, once collected); it is then only read.
 *
 * <h2>Bounded, and not through the cache</h2>
 * A run visits at most {@code maxShards} shards, in key order from where the previous run stopped, wrapping around
 * at the end, never one twice. The first run starts at a random key, so replicas walk the shards from different
 * places. Replicas do not divide the shards between them: a replica cannot learn how many replicas there are
 * without coordination (a Deployment scales and surges), and a division by a wrong count would leave shards
 * that nobody sweeps. Instead every replica eventually visits every shard (within {@code shards / maxShards}
 * runs), and visits by several replicas are harmless: each step is idempotent, a lost race recomputes, and a
 * second rollup at the same seqno is not applied (and deleted).
 *
 * <p>A shard without a machine here is read through {@link StateVersions} (its head first: a busy shard costs no
 * blob read), and gets a machine only if there is something to commit, one that is not put in the cache
 * ({@link Machines#pinForMaintenance}): sweeping does not evict the machines in use, nor fill the cache.
 */
public final class IdleSweeper {

    private static final Logger LOG = Logger.getLogger(IdleSweeper.class);
    private static final int PAGE = 1000;
    /** Versions a sweep itself commits after a rollup: {@code add_rollup} and GC's {@code remove_rollups}. */
    private static final int OWN_COMMITS = 2;

    /**
     * What one run did ({@code gcRuns}: GC runs that collected something; {@code tombstones}: finalized shards
     * with nothing left to collect, skipped).
     */
    public record Result(int shards, int idle, int handlesExpired, int rollupsWritten, int gcRuns, int failed,
            int tombstones) {}

    private final Machines machines;
    private final StateVersions stateVersions;
    private final Consensus consensus;
    private final RollupWriter rollups;
    private final GarbageCollector gc;
    private final LongSupplier nowMs;
    /** The last key the previous run visited: the next run starts after it. */
    private volatile String cursor;

    public IdleSweeper(Machines machines, Consensus consensus, RollupWriter rollups, GarbageCollector gc,
            LongSupplier nowMs) {
        this(machines, consensus, rollups, gc, nowMs, ShardId.random().toString());
    }

    /** A sweeper whose first run starts after {@code startAfter} (a key, or any string: keys sort as strings). */
    public IdleSweeper(Machines machines, Consensus consensus, RollupWriter rollups, GarbageCollector gc,
            LongSupplier nowMs, String startAfter) {
        this.machines = machines;
        this.stateVersions = machines.stateVersions();
        this.consensus = consensus;
        this.rollups = rollups;
        this.gc = gc;
        this.nowMs = nowMs;
        this.cursor = startAfter;
    }

    /**
     * Sweeps the next {@code maxShards} shards (keys of Consensus) after where the previous run stopped, wrapping
     * around at the end, {@code concurrency} at a time; fewer if there are fewer shards, each once.
     */
    public CompletableFuture<Result> sweepNext(long idleAfterMs, int concurrency, int maxShards) {
        if (maxShards < 1) {
            throw new IllegalArgumentException("a sweep visits at least 1 shard, asked for " + maxShards);
        }
        Tally tally = new Tally();
        Run run = new Run(cursor, maxShards);
        return sweepPage(run, run.start, false, idleAfterMs, concurrency, tally).thenApply(ignored -> {
            if (run.last != null) {
                cursor = run.last;
            }
            return tally.result();
        });
    }

    /** One run's walk: it started after {@code start}, and has {@code remaining} keys left to visit. */
    private static final class Run {
        final String start;
        int remaining;
        String last;

        Run(String start, int remaining) {
            this.start = start;
            this.remaining = remaining;
        }
    }

    /**
     * Sweeps the keys after {@code after}; {@code wrapped}: this run went past the last key and started again from
     * the first, so it stops at {@link Run#start}.
     */
    private CompletableFuture<Void> sweepPage(Run run, String after, boolean wrapped, long idleAfterMs,
            int concurrency, Tally tally) {
        int limit = Math.min(PAGE, run.remaining);
        return consensus.listKeys(after, limit).toCompletableFuture().thenCompose(keys -> {
            List<ShardId> shards = new ArrayList<>();
            boolean backAtStart = false;
            for (String key : keys) {
                if (wrapped && key.compareTo(run.start) > 0) {
                    backAtStart = true;
                    break;
                }
                run.last = key;
                run.remaining--;
                try {
                    shards.add(ShardId.parse(key));
                } catch (IllegalArgumentException e) {
                    LOG.debugf("Consensus key %s is not a shard; not swept", key);
                }
            }
            boolean atEnd = keys.size() < limit;
            CompletableFuture<Void> page = sweepShards(shards, idleAfterMs, concurrency, tally);
            if (backAtStart || run.remaining == 0 || (atEnd && wrapped)) {
                return page;
            }
            String next = atEnd ? "" : keys.get(keys.size() - 1);
            return page.thenCompose(ignored -> sweepPage(run, next, wrapped || atEnd, idleAfterMs, concurrency,
                    tally));
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
        ShardMachine held = machines.pinIfHeld(shard);
        if (held != null) {
            return Machines.whilePinned(held, machine -> machine.readForMaintenance().thenCompose(state -> {
                long now = nowMs.getAsLong();
                return needsWork(state, now, idleAfterMs, tally).thenCompose(work -> work
                        ? maintain(machine, now, tally) : CompletableFuture.completedFuture(null));
            }));
        }
        long now = nowMs.getAsLong();
        return stateVersions.fetchRecentLiveDiffs(shard).thenCompose(diffs -> {
            if (diffs.isEmpty()) {
                return CompletableFuture.completedFuture(null); // not initialized
            }
            VersionedData head = diffs.get(diffs.size() - 1);
            if (!idle(stateVersions.codec().decodeDiff(shard, head.data()).walltimeMs(), now, idleAfterMs)) {
                return CompletableFuture.completedFuture(null); // busy: known from its head, without its rollup
            }
            return stateVersions.fetchCurrentState(shard, diffs)
                    .thenCompose(state -> needsWork(state, now, idleAfterMs, tally).thenCompose(work -> !work
                            ? CompletableFuture.completedFuture(null)
                            : machines.pinForMaintenance(state).thenCompose(pinned ->
                                    Machines.whilePinned(pinned, machine -> maintain(machine, now, tally)))));
        });
    }

    private static boolean idle(long walltimeMs, long nowMs, long idleAfterMs) {
        return walltimeMs <= nowMs - idleAfterMs;
    }

    /**
     * Whether {@code state} is idle and the sweep would commit or collect something: expire a lapsed handle, roll
     * up versions other than its own, or garbage-collect (two rollups at or below seqno_since: GC truncates below
     * the later and removes the earlier from state). A tombstone keeps its rollups in state
     * ({@link Commands#removeRollups} leaves it alone), so for one GC has work only while versions below the later
     * rollup are not truncated yet; once they are, the tombstone has nothing left to collect and is left alone.
     * Counts the idle shards, and the tombstones left alone.
     */
    private CompletableFuture<Boolean> needsWork(State state, long nowMs, long idleAfterMs, Tally tally) {
        if (!idle(state.walltimeMs(), nowMs, idleAfterMs)) {
            return CompletableFuture.completedFuture(false);
        }
        tally.idle.incrementAndGet();
        if (hasLapsedHandles(state, nowMs)
                || state.seqno().value() - state.latestRollup().getKey().value() > OWN_COMMITS) {
            return CompletableFuture.completedFuture(true);
        }
        NavigableMap<SeqNo, HollowRollup> collectable = state.collections().rollups().headMap(state.seqnoSince(), true);
        if (collectable.size() >= 2 && !state.isTombstone()) {
            return CompletableFuture.completedFuture(true);
        }
        if (collectable.size() < 2) {
            return CompletableFuture.completedFuture(skippedIfTombstone(state, tally));
        }
        return consensus.scan(state.shardId().toString(), SeqNo.MIN, 1).toCompletableFuture().thenApply(first -> {
            boolean truncatable = !first.isEmpty() && first.get(0).seqno().isBefore(collectable.lastKey());
            return truncatable || skippedIfTombstone(state, tally);
        });
    }

    /** False (nothing to do), counting a tombstone left alone. */
    private static boolean skippedIfTombstone(State state, Tally tally) {
        if (state.isTombstone()) {
            tally.tombstones.incrementAndGet();
        }
        return false;
    }

    /**
     * The condition of {@link Commands#expireLapsedHandles}: a handle whose lease lapsed by {@code nowMs}. O(log n)
     * from the state's index of lease expiries, so that a sweep over many idle shards does not walk their handles.
     */
    private static boolean hasLapsedHandles(State state, long nowMs) {
        return state.collections().hasLapsedHandles(nowMs);
    }

    /** The three steps, on {@code machine} (pinned by the caller). */
    private CompletableFuture<Void> maintain(ShardMachine machine, long now, Tally tally) {
        return machine.applyForMaintenance(Command.EXPIRE_LEASES, Commands.expireLapsedHandles(now))
                .thenCompose(expired -> {
                    tally.handlesExpired.addAndGet(expired.value());
                    State current = expired.state();
                    // The sweep's own commits (add_rollup, then GC's remove_rollups) are two versions past a
                    // rollup: rolling those up again would churn forever on a shard that is otherwise idle.
                    if (current.seqno().value() - current.latestRollup().getKey().value() <= OWN_COMMITS) {
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
    }

    /** Counts of one sweep, shared by its concurrent shard sweeps. */
    public static final class Tally {
        final AtomicInteger shards = new AtomicInteger();
        final AtomicInteger idle = new AtomicInteger();
        final AtomicInteger handlesExpired = new AtomicInteger();
        final AtomicInteger rollupsWritten = new AtomicInteger();
        final AtomicInteger gcRuns = new AtomicInteger();
        final AtomicInteger failed = new AtomicInteger();
        final AtomicInteger tombstones = new AtomicInteger();

        public Result result() {
            return new Result(shards.get(), idle.get(), handlesExpired.get(), rollupsWritten.get(), gcRuns.get(),
                    failed.get(), tombstones.get());
        }
    }
}
