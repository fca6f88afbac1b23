package io.stateversions.machine;

import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Policy;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.stateversions.core.Codecs;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.Failures;
import io.stateversions.stateversions.StateVersions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The machines of the shards this replica serves, one per shard, each holding its cached state (spec §4.5). A
 * shard's machine is created by opening it, or by loading its current state from storage on first use.
 *
 * <h2>A bounded cache</h2>
 * The machines are a cache (Caffeine): at most {@link MachineConfig#maxCachedShards}, the least recently used
 * evicted beyond that, and any with no command for {@link MachineConfig#evictIdleAfter} evicted too. Nothing is
 * lost by eviction: the state is in storage, and an evicted shard reloads on its next use.
 *
 * <h2>A budget of heap</h2>
 * Shards differ in size by orders of magnitude (one uncompacted shard may hold 100,000 batches, 60 MB), so a count
 * alone does not bound the heap. Each machine adds the estimate of its state's heap ({@link RetainedSize}) to the
 * replica's {@link HeldBytes}, keeping it up to date at every install; once the sum passes
 * {@link MachineConfig#maxCachedBytes}, {@link #trim} evicts cached machines that nothing uses until it is under
 * again: first those with no known return (used once, or gone quiet), least recently used first, then those that come
 * back, due last first ({@link #idlest}), so that clients visiting more shards in turn than fit keep a stable part of
 * them cached instead of reloading every shard at every visit, as least recently used alone did. It goes by recency
 * and intervals, not by how often a shard was used: Caffeine's own size eviction (W-TinyLFU) admits by frequency,
 * which keeps a shard used a million times an hour ago over the shards in use now, and under a byte budget evicted
 * machines of a workload's working set between their commands, so that each reloaded and evicted another
 * (measured: P4's p99 went from 66 ms to 528 ms). A trim never evicts a machine in use (it is
 * retired only if nothing uses it), nor one whose shard is watched here, nor one loaded for a command that has not
 * reached it yet; so the budget can be exceeded by what is in use: a shard larger than the budget is served, and
 * evicted once it is idle and something else needs the room.
 *
 * <h2>What eviction must not do</h2>
 * <ul>
 *   <li><b>Evict a machine in use</b>: commands queued or in flight, a {@linkplain ShardMachine#pin pin}, or
 *       watchers of its shard (they rely on its commits). Caffeine cannot be told no, so a machine it evicts while
 *       in use is <em>retained</em>: kept outside the cache, still the shard's machine (the next use takes it back
 *       into the cache), and retired only once nothing uses it (its last command tells {@link #idle}, and
 *       {@link #cleanUp} looks again for watchers gone). A load in progress is never evicted: Caffeine gives an
 *       incomplete future no weight and no expiry.</li>
 *   <li><b>Load a shard twice</b>: concurrent uses of an absent shard share one load (a Caffeine compute per
 *       shard), as do uses of a retained machine.</li>
 *   <li><b>Lose a command</b>: a retired machine sends every command to the shard's current machine
 *       ({@link ShardMachine} "Retirement"), so one that raced the eviction runs either on the old machine before
 *       it is retired or on the new one.</li>
 * </ul>
 * So per shard there is at most one machine that takes commands: the cached or the retained one. Every change of
 * which one it is happens under Caffeine's lock of the shard (loads, eviction) or the retained map's
 * ({@link #idle}), and the two never wait for each other in the other order.
 *
 * <h2>Commands waiting for a load</h2>
 * A machine's queue is capped: {@link MachineConfig#maxQueuedCommands} commands per shard and
 * {@link MachineConfig#maxQueuedBytes} of appends and merges across the replica ({@link QueuedBytes}); beyond either
 * a command is refused at once, certainly not done, with {@link MachineOverloadedException} (storage_unavailable:
 * retry later). A command submitted while its shard's machine loads ({@link #submit}) waits for the load, which
 * retries storage failures for as long as they last, holding the command's payload; so it is counted against the
 * same caps while it waits, or refused at once: on the load's own count of waiting commands, and in the replica's
 * queued bytes. However the load ends (a machine, a failure, stopped for its starter's caller), each waiting command
 * is uncounted first, then goes to the machine, which counts it again as it queues it (and refuses it if commands
 * that came meanwhile filled the queue); nothing is counted twice or left counted. So at most maxQueuedCommands wait
 * for a shard's load, and the bytes waiting or queued exceed their cap by at most one command. A command whose
 * request timed out meanwhile stays counted until the load ends, because its payload is held until then; then a read
 * given its caller is dropped, and a mutation is queued (it was answered outcome_unknown: it may still happen). A
 * command that reaches a retired machine is submitted again ({@link ShardMachine.Owner#forward}). On a loaded machine
 * (the hot path) {@link #submit} adds nothing: only the machine's queue counts.
 *
 * <p>Notifications of other replicas' commits ({@link #learned}) and the sweep ({@link #pinIfHeld}) look
 * machines up without counting as a use, so that neither keeps a machine from going idle. The sweep's machines
 * for shards not held here are not cached at all ({@link #pinForMaintenance(State)}).
 */
public final class Machines {

    /** The caller of a {@link #get} that gave none: never done, so a load it starts runs to its end. */
    private static final Future<Void> NO_CALLER = new CompletableFuture<>();

    /**
     * What the cache needs besides {@link MachineConfig}: which shards have watchers (their machines are kept), the
     * clock of idleness, and where Caffeine evicts (tests pass a manual clock and the calling thread).
     */
    public record Settings(Predicate<ShardId> watched, LongSupplier nanos, Executor executor) {

        public static final Settings DEFAULT = new Settings(shard -> false, System::nanoTime,
                ForkJoinPool.commonPool());

        public Settings withWatched(Predicate<ShardId> watchedShards) {
            return new Settings(watchedShards, nanos, executor);
        }
    }

    private final StateVersions stateVersions;
    private final MachineConfig config;
    private final LongSupplier nowMs;
    private final String hostname;
    private final ShardMachine.CommitListener listener;
    private final MachineMetrics metrics;
    private final Predicate<ShardId> watched;
    private final QueuedBytes queuedBytes;
    private final HeldBytes heldBytes;
    private final Executor executor;
    private final LongSupplier nanos;
    /**
     * The last use ({@link ShardMachine#lastUseNanos}) of shards whose machines were evicted for the budget or the
     * count, as many as the cache may hold and for as long as an idle machine stays: a machine loaded again starts
     * from it, so that its first command tells how soon the shard came back ({@link #idlest}).
     */
    private final Cache<ShardId, Long> evictedUses;
    /** A {@link #trim} runs or is queued; {@link #trimAgain} asks it to look once more when it ends. */
    private final AtomicBoolean trimming = new AtomicBoolean();
    private volatile boolean trimAgain;
    private final ShardMachine.Owner owner = new ShardMachine.Owner() {
        @Override
        public <T> CompletableFuture<T> forward(ShardMachine retired, long queuedBytes,
                Function<ShardMachine, CompletableFuture<T>> command) {
            if (!retired.forMaintenance()) {
                return submit(retired.shard(), NO_CALLER, queuedBytes, command);
            }
            // A sweep's machine, retired while maintenance its commits assigned still holds it (Maintenance keeps
            // the machine it first saw): that work, on a quiet shard, stays out of the cache too.
            return pinForMaintenance(retired.shard()).thenCompose(machine -> whilePinned(machine, command));
        }

        @Override
        public void idle(ShardMachine machine) {
            Machines.this.idle(machine);
        }

        @Override
        public QueuedBytes queuedBytes() {
            return queuedBytes;
        }

        @Override
        public HeldBytes heldBytes() {
            return heldBytes;
        }

        @Override
        public void overBudget(ShardMachine machine) {
            requestTrim();
        }

        @Override
        public long nanos() {
            return nanos.getAsLong();
        }
    };
    private final AsyncCache<ShardId, ShardMachine> cache;
    /** Machines held outside the cache: evicted while in use, or made for a sweep; see the class comment. */
    private final ConcurrentHashMap<ShardId, Retained> retained = new ConcurrentHashMap<>();

    /** A machine held outside the cache, and why it left it (for the metric of its retirement). */
    private record Retained(ShardMachine machine, String cause) {}

    public Machines(StateVersions stateVersions, MachineConfig config, LongSupplier nowMs, String hostname,
            ShardMachine.CommitListener listener) {
        this(stateVersions, config, nowMs, hostname, listener, MachineMetrics.NONE);
    }

    public Machines(StateVersions stateVersions, MachineConfig config, LongSupplier nowMs, String hostname,
            ShardMachine.CommitListener listener, MachineMetrics metrics) {
        this(stateVersions, config, nowMs, hostname, listener, metrics, Settings.DEFAULT);
    }

    public Machines(StateVersions stateVersions, MachineConfig config, LongSupplier nowMs, String hostname,
            ShardMachine.CommitListener listener, MachineMetrics metrics, Settings settings) {
        if (config.maxCachedShards() < 1 || config.evictIdleAfter().isNegative() || config.evictIdleAfter().isZero()) {
            throw new IllegalArgumentException("stateversions.machine.max-cached-shards (" + config.maxCachedShards()
                    + ") must be at least 1 and stateversions.machine.evict-idle-after (" + config.evictIdleAfter()
                    + ") positive");
        }
        this.metrics = metrics;
        this.stateVersions = stateVersions;
        this.config = config;
        this.nowMs = nowMs;
        this.hostname = hostname;
        this.listener = listener;
        this.watched = settings.watched();
        this.queuedBytes = QueuedBytes.of(config);
        this.heldBytes = HeldBytes.of(config);
        this.executor = settings.executor();
        this.nanos = settings.nanos();
        this.evictedUses = Caffeine.newBuilder()
                .maximumSize(config.maxCachedShards())
                .expireAfterWrite(config.evictIdleAfter())
                .ticker(settings.nanos()::getAsLong)
                .executor(settings.executor())
                .build();
        this.cache = Caffeine.newBuilder()
                .maximumSize(config.maxCachedShards())
                .expireAfterAccess(config.evictIdleAfter())
                .ticker(settings.nanos()::getAsLong)
                .executor(settings.executor())
                .evictionListener((ShardId shard, ShardMachine machine, RemovalCause cause) ->
                        evicted(shard, machine, cause))
                .buildAsync();
        metrics.machines(this::size, queuedBytes::queued, heldBytes::held);
    }

    public StateVersions stateVersions() {
        return stateVersions;
    }

    /** The clock of commands: heartbeats, lease expiry and walltimes. */
    public long nowMs() {
        return nowMs.getAsLong();
    }

    /** This process's host name, recorded in the states it writes. */
    public String hostname() {
        return hostname;
    }

    /** The number of shards with a machine here: cached (counting loads in progress) and retained. */
    public long size() {
        return cache.synchronous().estimatedSize() + retained.size();
    }

    /** The estimated heap of the machines this replica holds (cached, retained and made for a sweep). */
    public long heldBytes() {
        return heldBytes.held();
    }

    /** Whether {@code shard} has a loaded machine in the cache (not a use: for tests). */
    boolean isCached(ShardId shard) {
        return cachedQuietly(shard) != null;
    }

    /** The loaded machine of {@code shard} in the cache, or null (not a use: for tests). */
    ShardMachine cachedQuietly(ShardId shard) {
        return cache.synchronous().policy().getIfPresentQuietly(shard);
    }

    /** The bytes of appends and merges queued in this replica's machines, and their cap. */
    public QueuedBytes queuedBytes() {
        return queuedBytes;
    }

    /**
     * The machine of an initialized shard, loading its current state on first use; fails with
     * {@link ShardNotFoundException} if the shard has no versions (it is not cached, so a later open works).
     */
    public CompletableFuture<ShardMachine> get(ShardId shard) {
        return get(shard, NO_CALLER);
    }

    /**
     * {@link #get(ShardId)} for a caller that may stop waiting (an API request with a timeout). A load this call
     * starts is its own: once {@code caller} is done, the load stops refetching a missing rollup
     * ({@link StateVersions#fetchCurrentState(ShardId, java.util.List, Future)}). A call that joins a load started by
     * another caller, and sees it stop that way, starts its own load rather than fail for someone else's timeout.
     */
    public CompletableFuture<ShardMachine> get(ShardId shard, Future<?> caller) {
        CompletableFuture<ShardMachine> existing = cache.getIfPresent(shard); // a use: the machine is not idle
        return join(usable(existing) ? existing : entry(shard, caller), shard, caller);
    }

    /**
     * Runs {@code command} on the machine of {@code shard} (see {@link #get(ShardId)}), which counts it against
     * both caps of queued commands ({@link MachineConfig#maxQueuedCommands}, {@link MachineConfig#maxQueuedBytes})
     * as it queues it; {@code bytes} is what the command carries (an append's or a merge's {@link EncodedSize}, or 0).
     * While the machine loads, the command is counted against both caps here, or refused at once with
     * {@link MachineOverloadedException}; see the class comment.
     */
    public <T> CompletableFuture<T> submit(ShardId shard, long bytes,
            Function<ShardMachine, CompletableFuture<T>> command) {
        return submit(shard, NO_CALLER, bytes, command);
    }

    /**
     * {@link #submit(ShardId, long, Function)} for a caller that may stop waiting, as in
     * {@link #get(ShardId, Future)}; a command whose caller is done by the time the load it waited for ends is
     * dropped, not queued.
     */
    public <T> CompletableFuture<T> submit(ShardId shard, Future<?> caller, long bytes,
            Function<ShardMachine, CompletableFuture<T>> command) {
        CompletableFuture<ShardMachine> existing = cache.getIfPresent(shard); // a use: the machine is not idle
        if (usable(existing) && existing.isDone()) {
            return command.apply(existing.join()); // the hot path: the machine's queue counts the command
        }
        CompletableFuture<ShardMachine> entry = usable(existing) ? existing : entry(shard, caller);
        if (entry.isDone()) {
            return join(entry, shard, caller).thenCompose(command); // a retained machine, or a load that just ended
        }
        if (!(entry instanceof Load load)) {
            throw new IllegalStateException("invariant violated: the cache entry of shard " + shard
                    + " is in progress but not a load: " + entry);
        }
        MachineOverloadedException refused = ShardMachine.admit(shard, load.waiting, config.maxQueuedCommands(),
                queuedBytes, bytes);
        if (refused != null) {
            return CompletableFuture.failedFuture(refused);
        }
        return load.handle((machine, error) -> {
            // Uncounted here before the machine counts it (or refuses it): never counted twice, however the load ends.
            load.waiting.decrementAndGet();
            if (bytes > 0) {
                queuedBytes.release(bytes);
            }
            if (caller.isDone()) {
                return CompletableFuture.<T>failedFuture(error != null ? error : new CancellationException("the"
                        + " caller of a command for shard " + shard + " stopped waiting for its machine's load"));
            }
            if (error != null) {
                // As in join: a load stopped for the caller that started it goes on for this one (counted anew).
                return Failures.unwrap(error) instanceof CancellationException
                        ? submit(shard, caller, bytes, command) : CompletableFuture.<T>failedFuture(error);
            }
            return machine != null ? command.apply(machine) : Machines.<T>notFound(shard);
        }).thenCompose(next -> next);
    }

    /**
     * The cache's entry of {@code shard}, which had none usable when looked up: a loaded machine (its load just
     * ended, or a retained machine taken back), or a {@link Load} in progress, joined or started by this call.
     */
    private CompletableFuture<ShardMachine> entry(ShardId shard, Future<?> caller) {
        // A failed load is removed by Caffeine once it fails; until then it counts as absent here.
        Load loading = new Load();
        // The compute waits for an eviction of the shard in progress (its machine retired, its entry not yet gone, so
        // that the caller's read saw it): looking again at once would find the same machine, and a command forwarded
        // from it would come back here, again and again on one thread, until the eviction ended or the stack overflowed.
        CompletableFuture<ShardMachine> current = cache.asMap().compute(shard, (id, present) -> {
            if (usable(present)) {
                return present;
            }
            CompletableFuture<ShardMachine> kept = takeRetained(id);
            return kept != null ? kept : loading;
        });
        if (current != loading) {
            return current;
        }
        // The I/O starts after the compute: a load that completes at once must not complete inside it.
        stateVersions.fetchLatestState(shard, caller)
                .whenComplete((state, error) -> {
                    if (error != null) {
                        // Caffeine removes it: the next use loads again. It logs the failure as a warning unless it
                        // is a cancellation (the load stopped for its caller, who timed out), which it must see as
                        // such, not wrapped.
                        Throwable cause = Failures.unwrap(error);
                        loading.completeExceptionally(cause instanceof CancellationException ? cause : error);
                    } else if (state.isEmpty()) {
                        // Not a failure: the shard has no versions. A load that completes with null is removed by
                        // Caffeine as quietly as it came, where a failed one is logged as a warning with its stack,
                        // once for every request a client sends for a shard that does not exist.
                        loading.complete(null);
                    } else {
                        loading.complete(newMachine(state.get()));
                        trimIfDue();
                    }
                });
        return loading;
    }

    /**
     * {@code load}, or, if it stops for the caller that started it, a new load for this caller while it still waits
     * (the starter's own caller is done by then, so the starter gets the failure).
     */
    private CompletableFuture<ShardMachine> join(CompletableFuture<ShardMachine> load, ShardId shard,
            Future<?> caller) {
        if (load.isDone()) {
            return load.isCompletedExceptionally() || load.join() != null ? load : notFound(shard);
        }
        return load.thenApply(machine -> found(shard, machine)).exceptionallyCompose(error ->
                Failures.unwrap(error) instanceof CancellationException && !caller.isDone()
                        ? get(shard, caller) : CompletableFuture.failedFuture(error));
    }

    /** {@code machine}, the outcome of a load of {@code shard}: null if the shard has no versions. */
    private static ShardMachine found(ShardId shard, ShardMachine machine) {
        if (machine == null) {
            throw new ShardNotFoundException(shard);
        }
        return machine;
    }

    private static <T> CompletableFuture<T> notFound(ShardId shard) {
        return CompletableFuture.failedFuture(new ShardNotFoundException(shard));
    }

    /**
     * A load of a shard's machine in progress (the cache's entry meanwhile), and the count of the commands waiting
     * for it ({@link #submit}), capped as a machine's queue is.
     */
    private static final class Load extends CompletableFuture<ShardMachine> {
        final AtomicInteger waiting = new AtomicInteger();
    }

    /**
     * Whether a cache entry can take commands: a load in progress or a loaded machine that is not retired. An entry
     * whose machine is retired is one Caffeine is evicting right now (retirement happens in its eviction, before the
     * entry is removed); a failed load, or one that found no shard (null), is one it is removing.
     */
    private static boolean usable(CompletableFuture<ShardMachine> entry) {
        if (entry == null || entry.isCompletedExceptionally()) {
            return false;
        }
        if (!entry.isDone()) {
            return true;
        }
        ShardMachine machine = entry.join();
        return machine != null && !machine.retired();
    }

    /**
     * The machine of {@code shard} held here, without counting as a use (no load, no reset of its idleness): the
     * cached one if loaded, else the retained one; null if there is none.
     */
    private ShardMachine quietly(ShardId shard) {
        ShardMachine cached = cache.synchronous().policy().getIfPresentQuietly(shard);
        if (cached != null) {
            return cached;
        }
        Retained kept = retained.get(shard);
        return kept != null ? kept.machine() : null;
    }

    /**
     * Another replica committed {@code seqno} of {@code shard}: a machine of it here refreshes its cache
     * ({@link ShardMachine#learned}). Shards without a machine here are not loaded, and the machine's idleness is
     * not reset: a notification is not a command.
     *
     * @return whether a machine here had not seen {@code seqno} yet
     */
    public boolean learned(ShardId shard, SeqNo seqno) {
        ShardMachine m = quietly(shard);
        if (m == null || m.retired()) {
            return false;
        }
        State cached = m.cachedOrNull();
        boolean behind = cached != null && cached.seqno().isBefore(seqno);
        m.learned(seqno);
        return behind;
    }

    /** The outcome of {@link #open}. */
    public record Opened(ShardMachine machine, State state, boolean created) {}

    /**
     * Opens a shard, initializing it with {@code codecs} if it has no versions (spec §10.1). Fails with
     * {@link CodecMismatchException}, changing nothing, if it exists with other codecs.
     */
    public CompletableFuture<Opened> open(ShardId shard, Codecs codecs) {
        CompletableFuture<ShardMachine> existing = cache.getIfPresent(shard);
        if (usable(existing) && existing.isDone()) {
            ShardMachine machine = existing.join();
            return machine.read().thenApply(state -> {
                if (!state.codecs().equals(codecs)) {
                    throw new CodecMismatchException(shard, codecs, state.codecs());
                }
                return new Opened(machine, state, false);
            });
        }
        return stateVersions.openShard(shard, codecs).thenCompose(opened -> adopt(opened.state())
                .thenApply(adopted -> new Opened(adopted.machine(), adopted.state(), opened.created())));
    }

    private record Adopted(ShardMachine machine, State state) {}

    /**
     * Caches {@code state} in the shard's machine, creating it if there is none. A load in flight is waited for
     * (one machine per shard); if it fails (it started before the shard existed), this creates the machine.
     */
    private CompletableFuture<Adopted> adopt(State state) {
        CompletableFuture<ShardMachine> f = cache.asMap().compute(state.shardId(), (shard, current) -> {
            if (usable(current)) {
                return current;
            }
            CompletableFuture<ShardMachine> kept = takeRetained(shard);
            return kept != null ? kept : CompletableFuture.completedFuture(newMachine(state));
        });
        trimIfDue(); // a new machine's part is added in its constructor, here inside the compute: trim after it
        return f.handle((machine, error) -> error != null || machine == null ? adopt(state)
                : CompletableFuture.completedFuture(new Adopted(machine, served(machine).install(state))))
                .thenCompose(adopted -> adopted);
    }

    private static ShardMachine served(ShardMachine machine) {
        machine.markServed();
        return machine;
    }

    // ------------------------------------------------------------------------------------------ the sweep

    /**
     * The machine of {@code shard} if this replica holds one, {@linkplain ShardMachine#pin pinned} (so that it is
     * not retired while the caller runs several commands on it), without counting as a use; null if there is none.
     * The caller unpins it ({@link #whilePinned}).
     */
    public ShardMachine pinIfHeld(ShardId shard) {
        ShardMachine m = quietly(shard);
        return m != null && m.pin() ? m : null;
    }

    /** {@link #pinForMaintenance(State)} of the shard's current state, read from storage if no machine holds it. */
    private CompletableFuture<ShardMachine> pinForMaintenance(ShardId shard) {
        ShardMachine held = pinIfHeld(shard);
        if (held != null) {
            return CompletableFuture.completedFuture(held);
        }
        return stateVersions.fetchLatestState(shard)
                .thenApply(state -> state.orElseThrow(() -> new ShardNotFoundException(shard)))
                .thenCompose(this::pinForMaintenance);
    }

    /**
     * A pinned machine of {@code state}'s shard for maintenance work (the sweep): the one this replica holds if there
     * is one, else a new machine starting from {@code state} (a fresh read of the shard) that is not put in the
     * cache, so that sweeping many shards does not evict the ones in use. It is retained while pinned (a command
     * for the shard meanwhile takes it into the cache rather than load another) and retired once unpinned and idle.
     */
    public CompletableFuture<ShardMachine> pinForMaintenance(State state) {
        ShardId shard = state.shardId();
        ShardMachine[] pinned = new ShardMachine[1];
        // In Caffeine's compute of the shard: no load can start in between, so there stays one machine per shard.
        CompletableFuture<ShardMachine> cached = cache.asMap().compute(shard, (id, present) -> {
            if (usable(present)) {
                return present;
            }
            retained.compute(id, (ignored, kept) -> {
                if (kept != null && kept.machine().pin()) {
                    pinned[0] = kept.machine();
                    return kept;
                }
                ShardMachine made = newMachine(state);
                made.markForMaintenance();
                made.detach();
                made.pin();
                pinned[0] = made;
                return new Retained(made, "sweep");
            });
            return null; // not cached (and a retired machine's entry, if one was there, is gone)
        });
        if (cached == null) {
            trimIfDue();
            return CompletableFuture.completedFuture(pinned[0]);
        }
        return cached.thenCompose(m -> m != null && m.pin() ? CompletableFuture.completedFuture(m)
                : pinForMaintenance(state)); // null: a load that started before the shard existed
    }

    /** Runs {@code work} on {@code pinned} (pinned by the caller), and unpins it however the work ends. */
    public static <T> CompletableFuture<T> whilePinned(ShardMachine pinned,
            Function<ShardMachine, CompletableFuture<T>> work) {
        CompletableFuture<T> done;
        try {
            done = work.apply(pinned);
        } catch (RuntimeException e) {
            done = CompletableFuture.failedFuture(e);
        }
        return done.whenComplete((ignored, error) -> pinned.unpin());
    }

    // ------------------------------------------------------------------------------------------ the budget

    private void trimIfDue() {
        if (heldBytes.trimDue()) {
            requestTrim();
        }
    }

    /** Runs {@link #trim} on the executor, unless one runs or is queued: that one then looks once more. */
    private void requestTrim() {
        trimAgain = true;
        if (trimming.compareAndSet(false, true)) {
            executor.execute(this::trimWhileAsked);
        }
    }

    private void trimWhileAsked() {
        while (true) {
            trimAgain = false;
            try {
                trim();
            } finally {
                heldBytes.trimmed();
                trimming.set(false);
            }
            // Asked while it ran (trimAgain is set before trimming is tested): look again, unless another took over.
            if (!trimAgain || !heldBytes.trimDue() || !trimming.compareAndSet(false, true)) {
                return;
            }
        }
    }

    /**
     * Evicts cached machines that nothing uses, in {@link #idlest}'s order, until the held bytes are a sixteenth under
     * their budget (so that a growing shard does not make every commit trim) or no such machine is left; see the
     * class comment. Each candidate is retired in Caffeine's compute of its shard, and only if it is still not in use
     * there (it may have taken a command since it was chosen).
     *
     * <p>O(machines cached) to choose, and O(chosen) to evict: trims come at most once per sixteenth of the budget
     * that the machines grow by.
     */
    void trim() {
        long excess = heldBytes.excessOverLowMark();
        if (excess == 0) {
            return;
        }
        for (ShardId shard : idlest(excess)) {
            if (heldBytes.excessOverLowMark() == 0) {
                return;
            }
            evictIdle(shard); // if taken into use since it was chosen, it stays: what is idle then is for the next trim
        }
    }

    /**
     * How much older than its last interval between uses a machine may be and still count as coming back: a shard
     * that has missed a few of its usual returns has gone quiet, and is chosen by age like one used once.
     */
    static final int OVERDUE_AFTER_INTERVALS = 4;

    /**
     * The cached machines not in use to evict for {@code excess} bytes, in the order {@link #trim} evicts them; a
     * machine that has not served the use it was loaded for is not one of them ({@link ShardMachine#served}).
     *
     * <p>First the machines with no known return, least recently used first: those used once since they were loaded
     * (and not evicted shortly before), and those that stayed away for over {@link #OVERDUE_AFTER_INTERVALS} of their
     * intervals between uses. Then the machines that come back, those due last first: the time until a machine's next
     * use is estimated as its last interval between uses ({@link ShardMachine#reuseNanos}) less the time since its last
     * use. Least recently used alone fails exactly where a cache matters most: clients that visit more shards than fit
     * in turn (a stream processor ticking over its shards) find every shard evicted just before its turn, so that every
     * command reloads its shard. This order keeps a stable part of such a cycle cached, and reloads only the rest; a
     * shard loaded again soon after its eviction knows its interval from its first command
     * ({@link #evictedUses}).
     *
     * <p>Ages are Caffeine's ({@code ageOf}). Caffeine's {@code oldest} is not that order: it keeps one per segment of
     * its W-TinyLFU policy, and in 3.2.3 the {@code expiresAt} of its snapshot entries grows with the age (it adds
     * {@code now - accessTime} to the expiry instead of subtracting it).
     */
    private List<ShardId> idlest(long excess) {
        record Candidate(ShardId shard, long age, long untilNextUse, long bytes) {}
        Policy.FixedExpiration<ShardId, ShardMachine> access = cache.synchronous().policy().expireAfterAccess()
                .orElseThrow();
        List<Candidate> candidates = new ArrayList<>();
        for (var entry : cache.synchronous().asMap().entrySet()) {
            ShardMachine machine = entry.getValue();
            if (machine.served() && !machine.inUseOrRetired() && !watched.test(entry.getKey())) {
                OptionalLong age = access.ageOf(entry.getKey(), TimeUnit.NANOSECONDS);
                if (age.isPresent()) {
                    candidates.add(new Candidate(entry.getKey(), age.getAsLong(),
                            untilNextUse(age.getAsLong(), machine.reuseNanos()), machine.heldBytes()));
                }
            }
        }
        candidates.sort(Comparator.comparing((Candidate c) -> c.untilNextUse() >= 0)
                .thenComparing(Comparator.comparingLong(Candidate::untilNextUse).reversed())
                .thenComparing(Comparator.comparingLong(Candidate::age).reversed()));
        List<ShardId> chosen = new ArrayList<>();
        long sum = 0;
        for (Candidate candidate : candidates) {
            if (sum >= excess) {
                break;
            }
            chosen.add(candidate.shard());
            sum += candidate.bytes();
        }
        return chosen;
    }

    /**
     * The estimated time until the next use of a machine last used {@code age} ago whose last interval between uses
     * was {@code reuse}: -1 if it has none (used once) or is overdue by {@link #OVERDUE_AFTER_INTERVALS} intervals.
     */
    static long untilNextUse(long age, long reuse) {
        if (reuse < 0 || age / OVERDUE_AFTER_INTERVALS > reuse) {
            return -1;
        }
        return Math.max(reuse - age, 0);
    }

    /** Retires the cached machine of {@code shard} and removes its entry, if nothing uses it. */
    private void evictIdle(ShardId shard) {
        ShardMachine[] gone = new ShardMachine[1];
        cache.asMap().computeIfPresent(shard, (id, entry) -> {
            if (!usable(entry) || !entry.isDone() || watched.test(id) || !entry.join().retire()) {
                return entry;
            }
            gone[0] = entry.join();
            return null; // an explicit removal: Caffeine's eviction listener does not hear of it
        });
        if (gone[0] != null) {
            rememberEvicted(gone[0]);
            metrics.machineRetired(shard, "bytes");
        }
    }

    /** {@code machine} left the cache for room: its shard's next machine starts from its last use. */
    private void rememberEvicted(ShardMachine machine) {
        long last = machine.lastUseNanos();
        if (last != ShardMachine.NEVER) {
            evictedUses.put(machine.shard(), last);
        }
    }

    // ------------------------------------------------------------------------------------------ eviction

    /**
     * Caffeine evicted {@code machine} ({@code cause}: idle, or beyond the bound), in its compute of the shard.
     * Retire it if nothing uses it; else retain it, still the shard's machine, until nothing does.
     */
    private void evicted(ShardId shard, ShardMachine machine, RemovalCause cause) {
        if (machine == null) {
            return; // Caffeine passes only loaded machines; a load in progress is never evicted
        }
        String why = cause == RemovalCause.EXPIRED ? "idle" : "size";
        // Retained first, retired second: a command finishing in between finds it retained and retires it.
        machine.detach();
        Retained previous = retained.put(shard, new Retained(machine, why));
        if (previous != null) {
            throw new IllegalStateException("invariant violated: shard " + shard + " had a cached machine and a"
                    + " retained one (" + previous.cause() + ") at once");
        }
        idle(machine);
    }

    /** {@code machine}, held outside the cache, may be unused now: retire it unless its shard is watched. */
    private void idle(ShardMachine machine) {
        ShardId shard = machine.shard();
        Retained[] gone = new Retained[1];
        retained.computeIfPresent(shard, (id, kept) -> {
            if (kept.machine() == machine && !watched.test(id) && machine.retire()) {
                gone[0] = kept;
                return null;
            }
            return kept;
        });
        if (gone[0] != null) {
            if (gone[0].cause().equals("size")) {
                rememberEvicted(machine); // retired for room, not taken back while in use
            }
            metrics.machineRetired(shard, gone[0].cause());
        }
    }

    /** A retained machine of {@code shard}, back into the cache (a use of the shard); null if there is none. */
    private CompletableFuture<ShardMachine> takeRetained(ShardId shard) {
        Retained kept = retained.remove(shard);
        if (kept == null) {
            return null;
        }
        kept.machine().attach();
        return CompletableFuture.completedFuture(kept.machine());
    }

    /**
     * Evicts what is due (Caffeine evicts on its own only as it is used), retires the retained machines that nothing
     * uses any more (whose watchers ended, say), and trims if the held bytes are over their budget: machines that
     * were in use when the last trim ran may be idle now. The service runs it every minute.
     */
    public void cleanUp() {
        cache.synchronous().cleanUp();
        for (Retained kept : retained.values()) {
            idle(kept.machine());
        }
        if (heldBytes.overBudget()) {
            requestTrim();
        }
    }

    private ShardMachine newMachine(State state) {
        ShardMachine machine = new ShardMachine(state, stateVersions, config, nowMs, hostname, listener, metrics,
                owner);
        Long evictedUse = evictedUses.asMap().remove(state.shardId());
        if (evictedUse != null) {
            machine.rememberUse(evictedUse);
        }
        return machine;
    }
}
