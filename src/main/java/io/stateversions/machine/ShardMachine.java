package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.HandleLimitException;
import io.stateversions.core.InvalidUsageException;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.Transition;
import io.stateversions.core.WorkResult;
import io.stateversions.location.CasResult;
import io.stateversions.location.Failures;
import io.stateversions.location.Indeterminate;
import io.stateversions.stateversions.StateVersions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * One shard's state machine (spec §4): the cached current state, and the loop that applies commands to it and
 * commits them by compare-and-set.
 *
 * <h2>Batching</h2>
 * Commands are queued; one batch is in flight at a time. A batch takes every queued command (up to
 * {@link MachineConfig#maxBatchSize}) and applies them in one transition and one CaS
 * ({@link Transition#computeNextBatch}): one PostgreSQL commit serves many callers. Each caller gets its own
 * result: a command that breaks or throws leaves the state as it found it and fails nobody else.
 *
 * <p>Commands with the same {@linkplain #apply(Command, Transition.Work, Object) exclusive key} never share a
 * batch: the later ones wait, in order, for the next. compare_and_append is keyed by its writer, because its
 * idempotency rests on the writer's <em>last</em> token (spec §17): were two appends of one writer in one
 * transition whose CaS failed indeterminately but landed, the re-run would find the second's token recorded and
 * answer the first an upper mismatch, and the client's retry of a committed append would learn "not committed".
 * Persist's {@code WriteHandle} has one append in flight for the same reason.
 *
 * <h2>The loop</h2>
 * <ul>
 *   <li>Committed: the new state is cached (the cache never regresses), every caller completes.</li>
 *   <li>Expectation mismatch: another replica committed. Refresh ({@code fetchAllLiveDiffsGtSeqno}, or the slow
 *       path when the cache was truncated away) and re-run every work function on the fresher state, with no
 *       backoff (spec §4.3): never reuse an old diff. A refresh that finds nothing newer is checked against the
 *       head: Consensus behind the cache (it lost versions) fails the batch and reloads the cache
 *       ({@link #mismatchWithoutNews}) instead of mismatching forever.</li>
 *   <li>Indeterminate: the CaS may have landed. After a backoff, refresh and re-run: idempotent commands produce
 *       the same result again, and compare_and_append recognises its own idempotency token (spec §17.2). Each
 *       caller learns that its command saw an indeterminate failure ({@link Applied#sawIndeterminate}). After
 *       {@link MachineConfig#indeterminateRetries} attempts the callers get the {@link Indeterminate}.</li>
 *   <li>Nothing to commit (every command broke, or only reads): the answer is only as fresh as the cache, so
 *       the cache is refreshed first (one indexed read of the diffs after its seqno) and the batch re-run if it
 *       moved. That makes errors such as "reader expired" and reads linearizable across replicas; a batch that
 *       commits needs no such read, its CaS proves the cache was current.</li>
 * </ul>
 *
 * <h2>Retirement</h2>
 * {@link Machines} keeps a bounded cache of machines and retires the ones it evicts ({@link #retire}). A machine
 * is retired only while nothing uses it: no command queued or in flight, no {@linkplain #pin pin}. Retiring and
 * taking a command are decided by one atomic count ({@link #users}), so a command racing eviction either is taken
 * here, and then the machine is not retired until it completes, or finds the machine retired and goes to the
 * shard's current machine instead ({@link Owner#forward}). A retired machine commits nothing and holds no state:
 * whoever still holds it (maintenance, say) reaches the current machine through it.
 *
 * <p>No lock is held across I/O; work functions run on whichever thread completed the previous I/O, and never
 * block.
 */
public final class ShardMachine {

    private static final Logger LOG = Logger.getLogger(ShardMachine.class);

    /**
     * What one command got.
     *
     * @param seqno            the version after the command, or the version it was linearized at if it broke
     * @param committed        its work continued and the batch holding it committed
     * @param sawIndeterminate a CaS of its batch failed indeterminately before this outcome
     * @param state            the state after its batch (at {@code seqno})
     */
    public record Applied<R>(SeqNo seqno, R value, boolean committed, boolean sawIndeterminate, State state) {}

    /** Told of every commit, after the cache holds it and before its callers are (for maintenance and metrics). */
    @FunctionalInterface
    public interface CommitListener {
        void committed(ShardMachine machine, Transition.Committable<Void> commit, int commands);

        CommitListener NONE = (machine, commit, commands) -> {};

        /** Tells {@code first}, then {@code second}; a listener that throws does not keep the other from hearing. */
        static CommitListener both(CommitListener first, CommitListener second) {
            return (machine, commit, commands) -> {
                try {
                    first.committed(machine, commit, commands);
                } finally {
                    second.committed(machine, commit, commands);
                }
            };
        }
    }

    /**
     * What a machine needs from the machines it belongs to ({@link Machines}): where commands go once it is retired,
     * whom to tell when a machine held outside the cache falls idle, and the replica's cap of queued bytes.
     */
    interface Owner {

        /**
         * Runs {@code command}, carrying {@code queuedBytes}, on the shard's current machine: it reached
         * {@code retired} after its retirement (and was not counted there).
         */
        <T> CompletableFuture<T> forward(ShardMachine retired, long queuedBytes,
                Function<ShardMachine, CompletableFuture<T>> command);

        /** {@code machine}, {@linkplain #detach() held outside the cache}, has no command and no pin any more. */
        void idle(ShardMachine machine);

        QueuedBytes queuedBytes();

        /** The replica's estimate of the heap its machines hold, to which this machine adds its own part. */
        HeldBytes heldBytes();

        /** The held bytes grew past their budget as {@code machine} cached a newer state: evict what is idle. */
        void overBudget(ShardMachine machine);

        /** The clock of uses ({@link #lastUseNanos}, {@link #reuseNanos}): the cache's clock of idleness. */
        long nanos();

        /** A machine on its own: never retired, its queued bytes uncapped, its heap not budgeted. */
        Owner NONE = new Owner() {
            private final QueuedBytes uncapped = new QueuedBytes(Long.MAX_VALUE);
            private final HeldBytes unbudgeted = new HeldBytes(Long.MAX_VALUE);

            @Override
            public <T> CompletableFuture<T> forward(ShardMachine retired, long queuedBytes,
                    Function<ShardMachine, CompletableFuture<T>> command) {
                return CompletableFuture.failedFuture(new IllegalStateException("invariant violated: the machine of"
                        + " shard " + retired.shard() + " was retired outside Machines"));
            }

            @Override
            public void idle(ShardMachine machine) {}

            @Override
            public QueuedBytes queuedBytes() {
                return uncapped;
            }

            @Override
            public HeldBytes heldBytes() {
                return unbudgeted;
            }

            @Override
            public void overBudget(ShardMachine machine) {}

            @Override
            public long nanos() {
                return System.nanoTime();
            }
        };
    }

    /** {@link #lastUseNanos} of a machine that has taken no command. */
    static final long NEVER = Long.MIN_VALUE;

    /** {@link #users} of a retired machine: below every count, so that no command or pin is taken any more. */
    private static final int RETIRED = Integer.MIN_VALUE;

    private final ShardId shard;
    private final StateVersions stateVersions;
    private final PersistConfig cfg;
    private final MachineConfig config;
    private final java.util.function.LongSupplier nowMs;
    private final String hostname;
    private final CommitListener listener;
    private final MachineMetrics metrics;
    private final Owner owner;

    /** The cached state; null once retired (a retired machine must not keep a shard's state alive). */
    private final AtomicReference<State> state;
    /** The sizes of the diffs this machine saw, for the size-aware rollup policy. */
    private final DiffSizeLog diffSizes = new DiffSizeLog();
    /**
     * Commands queued or in flight (from enqueue to the end of their batch) plus pins, or {@link #RETIRED}. A machine
     * is retired only at 0, by one compare-and-set, so that nothing taken here is stranded.
     */
    private final AtomicInteger users = new AtomicInteger();
    /**
     * This machine's part of {@link Owner#heldBytes}: the estimate of the state it caches ({@link RetainedSize}), or
     * -1 once retired (its part given back). Changed only by compare-and-set, so a state installed as the machine is
     * retired adds nothing after the part was given back.
     */
    private final AtomicLong heldBytes = new AtomicLong();
    private final RetainedSize.SchemaBytes schemaBytes = new RetainedSize.SchemaBytes();
    /**
     * A command or pin has been taken here, or the shard opened: until then {@link Machines#trim} leaves the machine
     * alone, so that a shard loaded for a command is not evicted before the command reaches it (which would forward
     * it, load again, and so on).
     */
    private volatile boolean served;
    /**
     * When this machine last took a client's command ({@link #apply}, {@link #read}; maintenance's do not count), on
     * {@link Owner#nanos}; {@link #NEVER} before its first, unless {@link #rememberUse remembered} from a machine of
     * the shard evicted before it.
     */
    private volatile long lastUseNanos = NEVER;
    /**
     * The time between its last two uses, or -1 while unknown; a shorter gap counts no less than half the one before
     * (a client that sends two commands per visit is reused at its visits' interval, not at the gap between them).
     * Written racily by the threads that submit commands: an estimate, for {@link Machines#trim}'s choice alone.
     */
    private volatile long reuseNanos = -1;
    /** Held outside the cache (evicted while in use, or made for a sweep): {@link Owner#idle} hears when it idles. */
    private volatile boolean detached;
    /** Made for maintenance of a quiet shard, outside the cache; cleared once a use takes it into the cache. */
    private volatile boolean forMaintenance;
    private final ConcurrentLinkedQueue<Pending<?>> queue = new ConcurrentLinkedQueue<>();
    /**
     * Commands taken from the queue that could not join the last batch (their exclusive key was taken), oldest
     * first; they go before the queue into the next. Only the draining thread (the one that set {@link #running})
     * touches it. Counted in {@link #queued}.
     */
    private ArrayDeque<Pending<?>> deferred = NONE_DEFERRED;
    private final AtomicInteger queued = new AtomicInteger();
    private final AtomicBoolean running = new AtomicBoolean();
    private final AtomicLong learnedSeqno = new AtomicLong(-1);
    private final AtomicBoolean learnedRefreshing = new AtomicBoolean();

    public ShardMachine(State initial, StateVersions stateVersions, MachineConfig config,
            java.util.function.LongSupplier nowMs, String hostname, CommitListener listener) {
        this(initial, stateVersions, config, nowMs, hostname, listener, MachineMetrics.NONE);
    }

    public ShardMachine(State initial, StateVersions stateVersions, MachineConfig config,
            java.util.function.LongSupplier nowMs, String hostname, CommitListener listener, MachineMetrics metrics) {
        this(initial, stateVersions, config, nowMs, hostname, listener, metrics, Owner.NONE);
    }

    ShardMachine(State initial, StateVersions stateVersions, MachineConfig config,
            java.util.function.LongSupplier nowMs, String hostname, CommitListener listener, MachineMetrics metrics,
            Owner owner) {
        this.metrics = metrics;
        this.owner = owner;
        this.shard = initial.shardId();
        this.stateVersions = stateVersions;
        this.cfg = stateVersions.cfg();
        this.config = config;
        this.nowMs = nowMs;
        this.hostname = hostname;
        this.listener = listener;
        this.state = new AtomicReference<>(initial);
        weigh(initial); // no trim from here: a machine may be made inside Caffeine's compute of its shard
    }

    public ShardId shard() {
        return shard;
    }

    /**
     * The cached state: possibly behind other replicas' commits; never behind this machine's. A retired machine has
     * none (read the shard through {@link Machines}).
     */
    public State cached() {
        State cached = state.get();
        if (cached == null) {
            throw new IllegalStateException("the machine of shard " + shard + " is retired and caches no state;"
                    + " get the shard's machine from Machines");
        }
        return cached;
    }

    /** The cached state, or null if this machine is retired. */
    State cachedOrNull() {
        return state.get();
    }

    /**
     * Caches {@code newer} if it is newer than the cached state; the cache never regresses. Returns the cached state
     * after it ({@code newer} itself if this machine is retired: it caches nothing).
     */
    public State install(State newer) {
        if (!newer.shardId().equals(shard)) {
            throw new IllegalArgumentException("invariant violated: state of " + newer.shardId()
                    + " installed in the machine of " + shard);
        }
        State after = state.accumulateAndGet(newer, (cur, next) ->
                cur == null || !next.seqno().isAfter(cur.seqno()) ? cur : next);
        if (after == newer && weigh(newer)) {
            owner.overBudget(this);
        }
        return after != null ? after : newer;
    }

    /** Applies one command (batched with whatever else is queued). Fails only with storage or internal errors. */
    public <R> CompletableFuture<Applied<R>> apply(Command cmd, Transition.Work<R> work) {
        return apply(cmd, work, null);
    }

    /**
     * {@link #apply(Command, Transition.Work)}, never in the same batch as another command with an equal
     * {@code exclusiveKey} (null: no such constraint); of those, the earlier queued is applied first.
     */
    public <R> CompletableFuture<Applied<R>> apply(Command cmd, Transition.Work<R> work, Object exclusiveKey) {
        return apply(cmd, work, exclusiveKey, 0);
    }

    /**
     * {@link #apply(Command, Transition.Work, Object)} for a command carrying {@code queuedBytes} (a batch's
     * {@link EncodedSize}), counted against the replica's cap of queued bytes until it completes.
     */
    public <R> CompletableFuture<Applied<R>> apply(Command cmd, Transition.Work<R> work, Object exclusiveKey,
            long queuedBytes) {
        return apply(cmd, work, exclusiveKey, queuedBytes, true);
    }

    /**
     * {@link #apply(Command, Transition.Work)} for maintenance (rollups, GC, sweeps): not a use of the shard, so that
     * the cache's estimate of when the shard comes back ({@link #lastUseNanos}, {@link #reuseNanos}) counts its
     * clients' commands only. (A sweep's visit counted as a use made a shard quiet for hours look due back at the
     * sweep's interval, and a rollup right after an append halved the shard's interval.)
     */
    public <R> CompletableFuture<Applied<R>> applyForMaintenance(Command cmd, Transition.Work<R> work) {
        return apply(cmd, work, null, 0, false);
    }

    private <R> CompletableFuture<Applied<R>> apply(Command cmd, Transition.Work<R> work, Object exclusiveKey,
            long queuedBytes, boolean use) {
        if (!enter()) {
            return owner.forward(this, queuedBytes, next -> next.apply(cmd, work, exclusiveKey, queuedBytes, use));
        }
        if (use) {
            used();
        }
        Pending<R> pending = new Pending<>(cmd, work, exclusiveKey, queuedBytes);
        enqueue(pending);
        return pending.future;
    }

    /** The current state, linearizably: it reflects every commit that finished, on any replica, before the call. */
    public CompletableFuture<State> read() {
        return read(true);
    }

    /** {@link #read()} for maintenance: not a use of the shard (see {@link #applyForMaintenance}). */
    public CompletableFuture<State> readForMaintenance() {
        return read(false);
    }

    private CompletableFuture<State> read(boolean use) {
        if (!enter()) {
            return owner.forward(this, 0, next -> next.read(use));
        }
        if (use) {
            used();
        }
        Pending<State> pending = new Pending<>(null, null, null, 0);
        enqueue(pending);
        return pending.future.thenApply(Applied::value);
    }

    /** Brings the cache up to date with Consensus (a retired machine's: the shard's current machine's). */
    public CompletableFuture<State> refresh() {
        State cached = state.get();
        if (cached == null) {
            return owner.forward(this, 0, ShardMachine::refresh);
        }
        return refresh(cached);
    }

    private CompletableFuture<State> refresh(State cached) {
        return stateVersions.fetchAllLiveDiffsGtSeqno(shard, cached.seqno()).thenCompose(diffs -> {
            if (diffs.isEmpty()) {
                return CompletableFuture.completedFuture(cached);
            }
            State applied = stateVersions.applyEncodedDiffs(cached, diffs);
            if (applied.seqno().isAfter(cached.seqno())) {
                diffSizes.recordApplied(diffs, cached.seqno(), applied.seqno());
                return CompletableFuture.completedFuture(install(applied));
            }
            // The diffs after the cache were truncated away: rebuild from the latest rollup (slow path).
            return stateVersions.fetchCurrentState(shard, diffs).thenApply(this::install);
        });
    }

    // ------------------------------------------------------------------------------------------ retirement

    /** A client's command reached this machine now: updates {@link #lastUseNanos} and {@link #reuseNanos}. */
    private void used() {
        long now = owner.nanos();
        long last = lastUseNanos;
        if (last != NEVER) {
            reuseNanos = Math.max(now - last, reuseNanos / 2);
        }
        lastUseNanos = now;
    }

    /**
     * This machine replaces one of its shard that was evicted for the budget after its last use at {@code nanos}
     * (a use of the shard before this machine): its first command then gives it a {@link #reuseNanos}.
     */
    void rememberUse(long nanos) {
        if (lastUseNanos == NEVER) {
            lastUseNanos = nanos;
        }
    }

    /** When this machine last took a client's command ({@link Owner#nanos}), or {@link #NEVER}. */
    long lastUseNanos() {
        return lastUseNanos;
    }

    /** The time between its last two uses, or -1 while unknown (see {@link #reuseNanos}). */
    long reuseNanos() {
        return reuseNanos;
    }

    /** Takes a command or a pin: false iff this machine is retired. */
    private boolean enter() {
        while (true) {
            int now = users.get();
            if (now < 0) {
                return false;
            }
            if (users.compareAndSet(now, now + 1)) {
                if (!served) {
                    served = true;
                }
                return true;
            }
        }
    }

    /** {@code count} commands or pins are done; a detached machine left with none tells its owner. */
    private void exit(int count) {
        int left = users.addAndGet(-count);
        if (left < 0) {
            throw new IllegalStateException("invariant violated: the machine of shard " + shard + " has " + left
                    + " users after " + count + " left");
        }
        if (left == 0 && detached) {
            owner.idle(this);
        }
    }

    /**
     * Keeps this machine from being retired until {@link #unpin()} (a caller that runs several commands on it, with
     * I/O between them); false, and nothing pinned, if it is retired already.
     */
    boolean pin() {
        return enter();
    }

    void unpin() {
        exit(1);
    }

    /**
     * Retires this machine iff nothing uses it: no command queued or in flight, no pin. From then on it commits
     * nothing, caches nothing, and sends every command to the shard's current machine.
     */
    boolean retire() {
        if (!users.compareAndSet(0, RETIRED)) {
            return false;
        }
        state.set(null);
        long part = heldBytes.getAndSet(-1);
        if (part > 0) {
            owner.heldBytes().add(-part);
        }
        return true;
    }

    /**
     * Sets this machine's part of the held bytes to the estimate of {@code cached}, unless it is retired. Two states
     * installed at once may leave the part at the older one's estimate until the next install: the sum stays exact
     * for the parts. Returns whether the held bytes grew past the point at which to trim.
     */
    private boolean weigh(State cached) {
        long estimate = RetainedSize.estimateBytes(cached, schemaBytes.of(cached.collections().schemas()));
        while (true) {
            long part = heldBytes.get();
            if (part < 0 || part == estimate) {
                return false;
            }
            if (heldBytes.compareAndSet(part, estimate)) {
                return owner.heldBytes().add(estimate - part);
            }
        }
    }

    /** This machine's part of the held bytes (its state's estimated heap), or -1 once retired. */
    long heldBytes() {
        return heldBytes.get();
    }

    /** Whether a command is queued or in flight here, or a pin held, or this machine is retired. */
    boolean inUseOrRetired() {
        return users.get() != 0;
    }

    /** Whether this machine has taken a command or pin, or {@link #markServed served} an open. */
    boolean served() {
        return served;
    }

    /** This machine served an open of its shard (which takes no command). */
    void markServed() {
        served = true;
    }

    boolean retired() {
        return users.get() < 0;
    }

    /** This machine is now held outside the cache: its owner hears when it falls idle, to retire it then. */
    void detach() {
        detached = true;
    }

    /** This machine is in the cache (back, or for the first time). */
    void attach() {
        detached = false;
        forMaintenance = false;
    }

    /** This machine is made for maintenance, outside the cache; {@link Owner#forward} keeps what reaches it there. */
    void markForMaintenance() {
        forMaintenance = true;
    }

    boolean forMaintenance() {
        return forMaintenance;
    }

    /**
     * Another replica committed {@code seqno} (a commit notification): if the cache is behind it, refresh now, so
     * that this replica's next command rarely meets a compare-and-set mismatch. At most one such refresh is in
     * flight; notifications arriving meanwhile are folded into it. Failures are ignored: the next command's
     * mismatch refreshes anyway.
     */
    public void learned(SeqNo seqno) {
        learnedSeqno.accumulateAndGet(seqno.value(), Math::max);
        State cached = state.get();
        if (cached == null || !cached.seqno().isBefore(seqno) || !learnedRefreshing.compareAndSet(false, true)) {
            return;
        }
        SeqNo before = cached.seqno();
        refresh(cached).whenComplete((refreshed, error) -> {
            learnedRefreshing.set(false);
            long wanted = learnedSeqno.get();
            if (error == null && refreshed.seqno().isAfter(before) && refreshed.seqno().value() < wanted) {
                learned(SeqNo.of(wanted));
            }
        });
    }

    /** Queues a command taken by {@link #enter}, or refuses it at once if a cap is reached. */
    private void enqueue(Pending<?> pending) {
        MachineOverloadedException refused = admit(shard, queued, config.maxQueuedCommands(), owner.queuedBytes(),
                pending.bytes);
        if (refused != null) {
            refuse(pending, refused);
            return;
        }
        queue.add(pending);
        if (running.compareAndSet(false, true)) {
            drain();
        }
    }

    /**
     * Counts one command carrying {@code bytes} in {@code queued} (one shard's commands, capped at {@code maxQueued})
     * and in {@code queuedBytes}; or, if either cap is reached, counts nothing and returns the refusal. The one test
     * of both caps: for a machine's queue ({@link #enqueue}), and for the commands waiting for a shard's machine to
     * load ({@link Machines}).
     */
    static MachineOverloadedException admit(ShardId shard, AtomicInteger queued, int maxQueued,
            QueuedBytes queuedBytes, long bytes) {
        if (queued.incrementAndGet() > maxQueued) {
            queued.decrementAndGet();
            return new MachineOverloadedException(shard, maxQueued);
        }
        if (bytes > 0 && !queuedBytes.tryAcquire(bytes)) {
            queued.decrementAndGet();
            return new MachineOverloadedException(bytes, queuedBytes.queued(), queuedBytes.maxBytes());
        }
        return null;
    }

    /** Runs batches while there are queued commands; one batch in flight at a time. */
    private void drain() {
        while (true) {
            List<Pending<?>> batch = nextBatch();
            queued.addAndGet(-batch.size());
            if (batch.isEmpty()) {
                running.set(false);
                // A command enqueued after the poll but before the flag dropped must not be stranded.
                if (queue.isEmpty() || !running.compareAndSet(false, true)) {
                    return;
                }
                continue;
            }
            CompletableFuture<Void> done;
            try {
                done = runBatch(batch);
            } catch (RuntimeException e) {
                failAll(batch, e);
                done = CompletableFuture.completedFuture(null);
            }
            if (!done.isDone()) {
                done.whenComplete((ignored, error) -> {
                    finished(batch);
                    drain();
                });
                return;
            }
            finished(batch);
        }
    }

    private void refuse(Pending<?> pending, RuntimeException error) {
        failAll(List.of(pending), error);
        exit(1);
    }

    /** Every command of {@code batch} has its answer: release what they held. */
    private void finished(List<Pending<?>> batch) {
        long bytes = 0;
        for (Pending<?> p : batch) {
            bytes += p.bytes;
        }
        if (bytes > 0) {
            owner.queuedBytes().release(bytes);
        }
        exit(batch.size());
    }

    /**
     * The next batch: the deferred commands, then the queue's, in order, up to {@link MachineConfig#maxBatchSize};
     * a command whose exclusive key is already in the batch is deferred to the next. At most that many commands
     * are deferred at once, so that one writer's long pipeline costs each batch a bounded scan.
     */
    private List<Pending<?>> nextBatch() {
        int max = config.maxBatchSize();
        List<Pending<?>> batch = new ArrayList<>();
        ArrayDeque<Pending<?>> previouslyDeferred = deferred;
        deferred = NONE_DEFERRED;
        Set<Object> keys = null; // allocated only for keyed commands: most batches hold none
        for (Pending<?> p : previouslyDeferred) {
            if (batch.size() < max && (p.exclusiveKey == null || (keys = keys(keys)).add(p.exclusiveKey))) {
                batch.add(p);
            } else {
                defer(p);
            }
        }
        Pending<?> next;
        while (batch.size() < max && deferred.size() < max && (next = queue.poll()) != null) {
            if (next.exclusiveKey == null || (keys = keys(keys)).add(next.exclusiveKey)) {
                batch.add(next);
            } else {
                defer(next);
            }
        }
        return batch;
    }

    /** The empty {@link #deferred}, shared: never added to. */
    private static final ArrayDeque<Pending<?>> NONE_DEFERRED = new ArrayDeque<>(0);

    private void defer(Pending<?> p) {
        if (deferred == NONE_DEFERRED) {
            deferred = new ArrayDeque<>();
        }
        deferred.add(p);
    }

    private static Set<Object> keys(Set<Object> keys) {
        return keys != null ? keys : new HashSet<>();
    }

    private CompletableFuture<Void> runBatch(List<Pending<?>> batch) {
        Attempt attempt = new Attempt(batch);
        metrics.batch(attempt.commands.size(), attempt.reads.size());
        return attempt(attempt).exceptionally(error -> {
            failAll(batch, Failures.unwrap(error));
            return null;
        });
    }

    private CompletableFuture<Void> attempt(Attempt a) {
        State prev = state.get();
        Transition.Batch t = Transition.computeNextBatch(prev, cfg, nowMs.getAsLong(), hostname,
                diffSizes.before(prev), a.steps);
        if (t.commit().isEmpty()) {
            if (!a.verified) {
                a.verified = true;
                return refresh().thenCompose(ignored -> attempt(a));
            }
            complete(a, t, prev, null);
            return CompletableFuture.completedFuture(null);
        }
        Transition.Committable<Void> commit = t.commit().get();
        Command cmd = a.firstCommand();
        return stateVersions.tryCompareAndSetCurrent(cmd, Optional.of(prev.seqno()), commit.state(), commit.diff())
                .handle((outcome, error) -> {
                    if (error != null) {
                        return onCasFailure(a, Failures.unwrap(error));
                    }
                    if (outcome.result() == CasResult.COMMITTED) {
                        diffSizes.record(commit.state().seqno(), outcome.data().data().length);
                        install(commit.state());
                        metrics.leasesExpired(commit.readersExpired(), commit.writersExpired());
                        // The listener hears of the commit before its callers do, so the maintenance it assigned
                        // is queued before a caller (maintenance itself, say) can finish and report idle.
                        try {
                            listener.committed(this, commit, a.steps.size());
                        } catch (RuntimeException e) {
                            LOG.errorf(e, "commit listener failed for shard %s at %s", shard, commit.state().seqno());
                        }
                        complete(a, t, prev, commit);
                        return CompletableFuture.<Void>completedFuture(null);
                    }
                    // Another replica committed first: refresh and recompute everything (never reuse a diff), at
                    // once (spec §4.3: backoff would only make starvation worse).
                    metrics.casMismatch();
                    a.verified = true;
                    return refresh().thenCompose(refreshed -> {
                        if (refreshed.seqno().isAfter(prev.seqno())) {
                            a.mismatchedWithoutNews = false;
                            return attempt(a);
                        }
                        return mismatchWithoutNews(a, prev);
                    });
                })
                .thenCompose(f -> f);
    }

    /**
     * A CaS expecting the cached {@code prev} lost, yet the refresh found nothing after {@code prev}. A lost CaS
     * means the head was past {@code prev} when it ran, and heads only grow, so the head decides:
     * <ul>
     *   <li>Past {@code prev}: committed after the refresh read. Once: try again, and that attempt's refresh sees
     *       it. Twice in a row without a refresh seeing anything, Consensus contradicts itself.</li>
     *   <li>At {@code prev}: Consensus refused a CaS on its own head (a broken contract).</li>
     *   <li>Before {@code prev}, or none: Consensus lost versions that this machine saw committed (a failover to a
     *       standby without them, a restore to an earlier point while replicas run).</li>
     * </ul>
     * Trying again after one of the last three would mismatch forever, with no backoff. Instead the batch fails (a
     * broken invariant: an internal error, never the caller's), and the cache is reloaded from storage so that
     * the shard's next command meets Consensus as it now is rather than the same wall.
     */
    private CompletableFuture<Void> mismatchWithoutNews(Attempt a, State prev) {
        SeqNo cached = prev.seqno();
        return stateVersions.fetchHead(shard).thenCompose(head -> {
            if (head.isPresent() && head.get().isAfter(cached) && !a.mismatchedWithoutNews) {
                a.mismatchedWithoutNews = true;
                return attempt(a);
            }
            String what = head.isEmpty() ? "Consensus lost versions: it holds none at all"
                    : head.get().isBefore(cached) ? "Consensus lost versions: its head is " + head.get()
                    : head.get().equals(cached) ? "Consensus refused a compare-and-set expecting its own head " + cached
                    : "Consensus' head is " + head.get() + ", but a scan after " + cached + " finds nothing, twice";
            IllegalStateException broken = new IllegalStateException("invariant violated: shard " + shard
                    + ": this replica saw " + cached + " committed, but " + what + "; " + a.commands.size()
                    + " command(s) failed, and the shard is reloaded from storage");
            return reloadAfter(broken, prev);
        });
    }

    /**
     * Replaces the cached {@code stale} with the shard's current state in storage, then fails with {@code broken}
     * (with the reload's own failure attached, if it failed: the next command then finds the same wall, fails the
     * same way and tries again). The one place the cache goes back: Consensus no longer holds what it cached.
     */
    private CompletableFuture<Void> reloadAfter(IllegalStateException broken, State stale) {
        LOG.error(broken.getMessage());
        return stateVersions.fetchLatestState(shard)
                .handle((latest, error) -> {
                    State reloaded = latest == null ? null : latest.orElse(null);
                    if (error != null) {
                        broken.addSuppressed(Failures.unwrap(error));
                    } else if (reloaded != null && state.compareAndSet(stale, reloaded)) {
                        diffSizes.clear();
                        weigh(reloaded);
                        LOG.errorf("shard %s reloaded at %s (this replica had cached %s)", shard, reloaded.seqno(),
                                stale.seqno());
                    }
                    return null;
                })
                .thenCompose(ignored -> CompletableFuture.failedFuture(broken));
    }

    private CompletableFuture<Void> onCasFailure(Attempt a, Throwable error) {
        if (!(error instanceof Indeterminate)) {
            return CompletableFuture.failedFuture(error);
        }
        a.indeterminateFailures++;
        metrics.casIndeterminate();
        for (Pending<?> p : a.commands) {
            p.sawIndeterminate = true;
        }
        if (a.indeterminateFailures > config.indeterminateRetries()) {
            return CompletableFuture.failedFuture(error);
        }
        long sleepMs = Math.min(config.indeterminateBackoffMaxMs(), 4L << Math.min(20, a.indeterminateFailures));
        LOG.infof("CaS of shard %s failed indeterminately (attempt %d), refreshing and retrying in %d ms: %s", shard,
                a.indeterminateFailures, sleepMs, error.getMessage());
        a.verified = false;
        java.util.concurrent.Executor delayed = CompletableFuture.delayedExecutor(sleepMs, TimeUnit.MILLISECONDS);
        return CompletableFuture.supplyAsync(() -> null, delayed)
                .thenCompose(ignored -> refresh())
                .thenCompose(ignored -> attempt(a));
    }

    private void complete(Attempt a, Transition.Batch t, State prev, Transition.Committable<Void> commit) {
        long now = System.nanoTime();
        for (int i = 0; i < a.commands.size(); i++) {
            Pending<?> p = a.commands.get(i);
            Object outcome = t.outcomes().get(i);
            p.complete(outcome, prev, commit);
            // A command the state refused (a client's error, not storage's or ours) wrote nothing: a no-op.
            MachineMetrics.Outcome o = outcome instanceof InvalidUsageException
                    || outcome instanceof HandleLimitException ? MachineMetrics.Outcome.NOOP
                    : outcome instanceof RuntimeException ? MachineMetrics.Outcome.FAILED
                    : outcome instanceof WorkResult.Continue<?> ? MachineMetrics.Outcome.COMMITTED
                    : MachineMetrics.Outcome.NOOP;
            metrics.command(p.cmd, o, now - p.queuedNanos);
        }
        State current = commit != null ? commit.state() : prev;
        for (Pending<?> read : a.reads) {
            read.completeRead(current);
        }
    }

    private void failAll(List<Pending<?>> batch, Throwable error) {
        long now = System.nanoTime();
        for (Pending<?> p : batch) {
            if (p.future.completeExceptionally(error) && p.cmd != null) {
                metrics.command(p.cmd, MachineMetrics.Outcome.FAILED, now - p.queuedNanos);
            }
        }
    }

    /** One batch's commands and reads, and what its attempts learned. */
    private static final class Attempt {
        final List<Pending<?>> commands = new ArrayList<>();
        final List<Pending<?>> reads = new ArrayList<>();
        final List<Transition.Step<?>> steps = new ArrayList<>();
        boolean verified;
        int indeterminateFailures;
        /** The last CaS lost though the refresh after it found nothing newer ({@link #mismatchWithoutNews}). */
        boolean mismatchedWithoutNews;

        Attempt(List<Pending<?>> batch) {
            for (Pending<?> p : batch) {
                if (p.work == null) {
                    reads.add(p);
                } else {
                    commands.add(p);
                    steps.add(p.step());
                }
            }
        }

        Command firstCommand() {
            return commands.isEmpty() ? Command.REGISTER : commands.get(0).cmd;
        }
    }

    /** A queued command (or, with no work, a read) and its caller's future. */
    private static final class Pending<R> {
        final Command cmd;
        final Transition.Work<R> work;
        final Object exclusiveKey;
        /** Counted against {@link QueuedBytes} from enqueue to the end of its batch. */
        final long bytes;
        final CompletableFuture<Applied<R>> future = new CompletableFuture<>();
        final long queuedNanos = System.nanoTime();
        volatile boolean sawIndeterminate;

        Pending(Command cmd, Transition.Work<R> work, Object exclusiveKey, long bytes) {
            this.cmd = cmd;
            this.work = work;
            this.exclusiveKey = exclusiveKey;
            this.bytes = bytes;
        }

        Transition.Step<R> step() {
            return new Transition.Step<>(cmd, work);
        }

        @SuppressWarnings("unchecked")
        void complete(Object outcome, State prev, Transition.Committable<Void> commit) {
            if (outcome instanceof RuntimeException e) {
                future.completeExceptionally(e);
                return;
            }
            WorkResult<R> result = (WorkResult<R>) outcome;
            if (result instanceof WorkResult.Continue<R>) {
                future.complete(new Applied<>(commit.state().seqno(), result.value(), true, sawIndeterminate,
                        commit.state()));
            } else {
                future.complete(new Applied<>(prev.seqno(), result.value(), false, sawIndeterminate, prev));
            }
        }

        @SuppressWarnings("unchecked")
        void completeRead(State current) {
            future.complete((Applied<R>) new Applied<>(current.seqno(), current, false, false, current));
        }
    }
}
