package io.stateversions.machine;

import io.stateversions.core.Codecs;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.Failures;
import io.stateversions.stateversions.StateVersions;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Future;
import java.util.function.LongSupplier;

/**
 * The machines of the shards this process has touched, one per shard, each holding its cached state (spec §4.5).
 * A shard's machine is created by opening it, or by loading its current state from storage on first use.
 */
public final class Machines {

    /** The caller of a {@link #get} that gave none: never done, so a load it starts runs to its end. */
    private static final Future<Void> NO_CALLER = new CompletableFuture<>();

    private final StateVersions stateVersions;
    private final MachineConfig config;
    private final LongSupplier nowMs;
    private final String hostname;
    private final ShardMachine.CommitListener listener;
    private final MachineMetrics metrics;
    private final ConcurrentHashMap<ShardId, CompletableFuture<ShardMachine>> machines = new ConcurrentHashMap<>();

    public Machines(StateVersions stateVersions, MachineConfig config, LongSupplier nowMs, String hostname,
            ShardMachine.CommitListener listener) {
        this(stateVersions, config, nowMs, hostname, listener, MachineMetrics.NONE);
    }

    public Machines(StateVersions stateVersions, MachineConfig config, LongSupplier nowMs, String hostname,
            ShardMachine.CommitListener listener, MachineMetrics metrics) {
        this.metrics = metrics;
        this.stateVersions = stateVersions;
        this.config = config;
        this.nowMs = nowMs;
        this.hostname = hostname;
        this.listener = listener;
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

    /** The number of shards with a machine here. */
    public int size() {
        return machines.size();
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
        CompletableFuture<ShardMachine> existing = machines.get(shard);
        if (existing != null && !existing.isCompletedExceptionally()) {
            return join(existing, shard, caller);
        }
        CompletableFuture<ShardMachine> loading = new CompletableFuture<>();
        CompletableFuture<ShardMachine> raced = existing == null
                ? machines.putIfAbsent(shard, loading)
                : (machines.replace(shard, existing, loading) ? null : machines.get(shard));
        if (raced != null) {
            return join(raced, shard, caller);
        }
        stateVersions.fetchRecentLiveDiffs(shard)
                .thenCompose(diffs -> {
                    if (diffs.isEmpty()) {
                        throw new ShardNotFoundException(shard);
                    }
                    return stateVersions.fetchCurrentState(shard, diffs, caller);
                })
                .whenComplete((state, error) -> {
                    if (error != null) {
                        machines.remove(shard, loading);
                        loading.completeExceptionally(error);
                    } else {
                        loading.complete(newMachine(state));
                    }
                });
        return loading;
    }

    /** A load started by another caller, or a new one of this caller's if that one stops for its caller. */
    private CompletableFuture<ShardMachine> join(CompletableFuture<ShardMachine> load, ShardId shard,
            Future<?> caller) {
        return load.isDone() ? load : load.exceptionallyCompose(error ->
                Failures.unwrap(error) instanceof CancellationException
                        ? get(shard, caller) : CompletableFuture.failedFuture(error));
    }

    /**
     * Another replica committed {@code seqno} of {@code shard}: a machine of it here refreshes its cache
     * ({@link ShardMachine#learned}). Shards without a machine here are not loaded.
     *
     * @return whether a machine here had not seen {@code seqno} yet
     */
    public boolean learned(ShardId shard, SeqNo seqno) {
        CompletableFuture<ShardMachine> machine = machines.get(shard);
        if (machine == null || !machine.isDone() || machine.isCompletedExceptionally()) {
            return false;
        }
        ShardMachine m = machine.join();
        boolean behind = m.cached().seqno().isBefore(seqno);
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
        CompletableFuture<ShardMachine> existing = machines.get(shard);
        if (existing != null && existing.isDone() && !existing.isCompletedExceptionally()) {
            ShardMachine machine = existing.join();
            return machine.read().thenApply(state -> {
                if (!state.codecs().equals(codecs)) {
                    throw new CodecMismatchException(shard, codecs, state.codecs());
                }
                return new Opened(machine, state, false);
            });
        }
        return stateVersions.openShard(shard, codecs).thenCompose(opened -> adopt(opened.state())
                .thenApply(machine -> new Opened(machine, machine.cached(), opened.created())));
    }

    /**
     * Caches {@code state} in the shard's machine, creating it if there is none. A load in flight is waited for
     * (one machine per shard); if it fails (it started before the shard existed), this creates the machine.
     */
    private CompletableFuture<ShardMachine> adopt(State state) {
        CompletableFuture<ShardMachine> f = machines.compute(state.shardId(), (shard, current) ->
                current == null || current.isCompletedExceptionally()
                        ? CompletableFuture.completedFuture(newMachine(state)) : current);
        return f.handle((machine, error) -> {
            if (error != null) {
                return adopt(state);
            }
            machine.install(state);
            return CompletableFuture.completedFuture(machine);
        }).thenCompose(x -> x);
    }

    private ShardMachine newMachine(State state) {
        return new ShardMachine(state, stateVersions, config, nowMs, hostname, listener, metrics);
    }
}
