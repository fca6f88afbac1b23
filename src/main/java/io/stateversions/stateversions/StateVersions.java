package io.stateversions.stateversions;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.BlobKey;
import io.stateversions.core.Codecs;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.DiffValue;
import io.stateversions.core.FieldDiff;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Transition;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.Failures;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.VersionedData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The durable, truncatable log of versions of each shard's state: persist's {@code StateVersions} (spec §10). Each
 * version is a {@link StateDiff} stored in {@link Consensus} under the shard's id; full states ("rollups") are
 * stored in {@link Blob} so that a reader never has to replay the log from the beginning.
 *
 * <h2>Invariants of the versioned log (spec §3.7)</h2>
 * Everything else in this package, and garbage collection, relies on these; code that breaks one is wrong.
 * <ol>
 *   <li>A shard is <em>initialized</em> iff Consensus has at least one entry for it.</li>
 *   <li>The first version is seqno 1, and each committed version is its predecessor + 1: no gaps.</li>
 *   <li><em>current</em> is the largest seqno in Consensus.</li>
 *   <li><em>earliest</em> is the smallest, and {@code earliest <= current.seqnoSince()}: no version a reader
 *       holds is ever truncated.</li>
 *   <li>There is a rollup <em>at</em> earliest (not at earliest - 1). So the only safe truncation points are
 *       rollup seqnos {@code <= seqnoSince}, and truncation removes the seqnos below the point.</li>
 *   <li>The live diffs and the live states cover the same range {@code [earliest, current]}.</li>
 *   <li>Every diff carries the key of the latest rollup of the state it produces, so any single diff names a
 *       rollup to start from.</li>
 *   <li>Every rollup in {@code current.rollups} exists in Blob. A rollup missing from Blob that a state you
 *       <em>believe</em> current refers to means current has moved on: refetch. (Older live states may refer to
 *       rollups already deleted.)</li>
 *   <li>Rollups below earliest are useless ("leaked"); GC deletes them before truncating, and a leak sweep may
 *       delete any that remain.</li>
 *   <li>No blob referenced by a live state is deleted: a batch part is deletable only once every live state that
 *       refers to it has been truncated away.</li>
 * </ol>
 * GC keeps them by its order: delete blobs, then truncate Consensus, then remove the rollups from state.
 *
 * <h2>A worked example</h2>
 * With a rollup threshold of 3: the shard is initialized at v1 with the self-referential rollup {@code v1/r..}.
 * Commands commit v2..v4; v4 is assigned a rollup, which is written as the state at v4 (its {@code rollups} holds
 * v1 only) and linked by {@code add_rollup} at v5. If no reader holds anything below v4, GC may now delete the
 * blobs that the diffs v2..v4 removed from state and the rollup v1, truncate Consensus below v4 (earliest = v4,
 * which has its rollup), and finally remove v1 from state at v6. Every live state v4..v6 can be rebuilt from the
 * rollup at v4 plus the diffs.
 *
 * <p>All methods are asynchronous and report every failure, including a broken invariant, through the returned
 * future. Storage calls are retried as spec §9 prescribes: reads, blob calls, truncation
 * and the initializing CaS retry every external error; the command CaS retries only determinate ones.
 *
 * <p>One departure from persist: a missing rollup is refetched at once a few times and then with backoff, but not
 * forever. A rollup that stays missing breaks invariant 8 (the blob store does not hold what Consensus names), and
 * after {@link PersistConfig#staleRollupRefetchBudgetMs} the fetch fails with an internal error instead of
 * spinning ({@link RefetchBudget}). A fetch given its caller's future also stops once that is done. Shared work (a
 * machine's refresh, which serves a whole batch of callers) passes none and ends at the budget, which defaults
 * below the API request timeout.
 */
public final class StateVersions {

    private static final Logger LOG = Logger.getLogger(StateVersions.class);
    /** The caller of a fetch that was given none: never done, so only the budget ends its refetches. */
    private static final Future<Void> NO_CALLER = new CompletableFuture<>();

    private final PersistConfig cfg;
    private final Consensus consensus;
    private final Blob blob;
    private final Retries retries;
    private final StateCodec codec;
    private final StateVersionsMetrics metrics;
    private final LongSupplier nowMs;
    private final String hostname;
    private final Executor cpu;
    private final RefetchBudget.Warnings refetchWarnings = new RefetchBudget.Warnings();

    /** A StateVersions that runs its CPU-heavy work on the calling thread (for tests and tools). */
    public StateVersions(PersistConfig cfg, Consensus consensus, Blob blob, Retries retries,
            StateVersionsMetrics metrics, LongSupplier nowMs, String hostname) {
        this(cfg, new StateCodec(cfg), consensus, blob, retries, metrics, nowMs, hostname, Runnable::run);
    }

    /**
     * @param cpu runs the CPU-heavy work ({@link #offLoop}): encoding and decoding rollups, replaying diffs. Storage
     *            clients complete their futures on their event loops (the reactive PostgreSQL client's Vert.x
     *            loops), and a continuation runs where its future completed: without this hop, the rollup of a
     *            large shard would stall every request on that loop for as long as it takes to encode.
     */
    public StateVersions(PersistConfig cfg, StateCodec codec, Consensus consensus, Blob blob, Retries retries,
            StateVersionsMetrics metrics, LongSupplier nowMs, String hostname, Executor cpu) {
        this.cfg = Objects.requireNonNull(cfg, "cfg");
        this.consensus = Objects.requireNonNull(consensus, "consensus");
        this.blob = Objects.requireNonNull(blob, "blob");
        this.retries = Objects.requireNonNull(retries, "retries");
        this.codec = Objects.requireNonNull(codec, "codec");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.nowMs = Objects.requireNonNull(nowMs, "nowMs");
        this.hostname = Objects.requireNonNull(hostname, "hostname");
        this.cpu = Objects.requireNonNull(cpu, "cpu");
    }

    /**
     * Runs {@code work}, CPU-heavy and free of I/O, on the CPU executor rather than on the thread that called (often
     * the event loop that completed the previous I/O); its result or failure completes the returned future there.
     */
    public <T> CompletableFuture<T> offLoop(Supplier<T> work) {
        return defer(() -> CompletableFuture.supplyAsync(work, cpu));
    }

    public PersistConfig cfg() {
        return cfg;
    }

    public StateCodec codec() {
        return codec;
    }

    private static String key(ShardId shard) {
        return shard.toString();
    }

    // ----------------------------------------------------------------------------------------- initialization

    /**
     * The current state of {@code shard}, initializing it with {@code codecs} if it has no versions (spec §10.1).
     * Fails with {@link CodecMismatchException}, changing nothing, if the shard exists with other codecs.
     *
     * <p>Racing initializers each write their own initial rollup; exactly one CaS commits. A loser (which may be
     * ourselves: an indeterminate CaS that did land is retried and then loses to itself) deletes its rollup blob
     * only if the winning state does not refer to it.
     */
    public CompletableFuture<State> maybeInitShard(ShardId shard, Codecs codecs) {
        return openShard(shard, codecs).thenApply(Opened::state);
    }

    /** The outcome of {@link #openShard}: the state, and whether this call's initial version is the one that won. */
    public record Opened(State state, boolean created) {}

    /**
     * {@link #maybeInitShard}, also telling whether this call initialized the shard: its CaS committed, or it lost
     * to itself (an indeterminate CaS that landed) so that the winning state holds its initial rollup.
     */
    public CompletableFuture<Opened> openShard(ShardId shard, Codecs codecs) {
        return fetchRecentLiveDiffs(shard).thenCompose(recent -> {
            if (!recent.isEmpty()) {
                return fetchCurrentState(shard, recent).thenApply(state -> new Opened(checkCodecs(state, codecs), false));
            }
            return writeInitialRollup(shard, codecs).thenCompose(initial -> {
                VersionedData data = new VersionedData(initial.state().seqno(), codec.encodeDiff(initial.diff()));
                return retries.external("maybe_init_cas",
                                () -> consensus.compareAndSet(key(shard), Optional.empty(), data))
                        .thenCompose(result -> {
                            if (result == CasResult.COMMITTED) {
                                metrics.committed(initial.state(), data.data().length);
                                return CompletableFuture.completedFuture(new Opened(initial.state(), true));
                            }
                            return resolveLostInit(shard, codecs, initial.rollupKey());
                        });
            });
        });
    }

    private CompletableFuture<Opened> resolveLostInit(ShardId shard, Codecs codecs, PartialRollupKey ours) {
        return fetchRecentLiveDiffs(shard)
                .thenCompose(recent -> fetchCurrentState(shard, recent))
                .thenCompose(state -> {
                    boolean codecsMatch = state.codecs().equals(codecs);
                    boolean referenced = codecsMatch && state.collections().rollups().values().stream()
                            .anyMatch(r -> r.key().equals(ours));
                    CompletableFuture<Void> cleanup = referenced
                            ? CompletableFuture.completedFuture(null) : deleteRollup(shard, ours);
                    return cleanup.thenApply(ignored -> new Opened(checkCodecs(state, codecs), referenced));
                });
    }

    private static State checkCodecs(State state, Codecs requested) {
        if (!state.codecs().equals(requested)) {
            throw new CodecMismatchException(state.shardId(), requested, state.codecs());
        }
        return state;
    }

    /** The first version of a shard, its diff from the empty state, and the key of its (written) rollup. */
    public record InitialRollup(State state, StateDiff diff, PartialRollupKey rollupKey) {}

    /**
     * Computes the first version (seqno 1) of {@code shard}: the empty state plus the self-referential rollup
     * {@code v1/r<new id>} of unknown size, and writes that rollup (spec §10.2). The diff's only real content is
     * the rollup insert.
     */
    public CompletableFuture<InitialRollup> writeInitialRollup(ShardId shard, Codecs codecs) {
        return defer(() -> writeInitialRollupNow(shard, codecs));
    }

    private CompletableFuture<InitialRollup> writeInitialRollupNow(ShardId shard, Codecs codecs) {
        State empty = State.empty(shard, codecs, cfg.buildVersion(), hostname, 0);
        SeqNo rollupSeqno = empty.seqno().next();
        PartialRollupKey key = new PartialRollupKey(rollupSeqno, RollupId.random());
        HollowRollup rollup = new HollowRollup(key, OptionalLong.empty());
        Transition<Commands.AddRollupResult> t = Transition.cloneApply(empty, cfg, nowMs.getAsLong(), hostname,
                Command.INIT_STATE, Commands.addRollup(rollupSeqno, rollup));
        if (!(t instanceof Transition.Committable<Commands.AddRollupResult> c) || !c.result().applied()) {
            throw new IllegalStateException("invariant violated: the initial rollup did not apply to the empty state"
                    + " of shard " + shard + ": " + t);
        }
        return offLoop(() -> encodeRollupBlob(c.state(), key, Optional.empty()))
                .thenCompose(encoded -> writeRollupBlob(encoded))
                .thenApply(ignored -> new InitialRollup(c.state(), c.diff(), key));
    }

    // --------------------------------------------------------------------------------------------- commits

    /** The outcome of {@link #tryCompareAndSetCurrent}: the CaS result and the entry written (or not). */
    public record CasOutcome(CasResult result, VersionedData data) {}

    /**
     * Compare-and-sets {@code diff} (the diff to {@code newState}) as the version after {@code expected} (spec
     * §10.3). Retries determinate failures; an indeterminate one fails the returned future and the caller must
     * find out what happened. A mismatch after a determinate failure is checked against the entry written, in case
     * that failure was not determinate after all ({@link #mismatchAfterDeterminateFailure}). On commit the shard
     * metrics are updated from {@code newState}.
     */
    public CompletableFuture<CasOutcome> tryCompareAndSetCurrent(Command cmd, Optional<SeqNo> expected,
            State newState, StateDiff diff) {
        return defer(() -> casNow(cmd, expected, newState, diff));
    }

    private CompletableFuture<CasOutcome> casNow(Command cmd, Optional<SeqNo> expected, State newState,
            StateDiff diff) {
        if (!newState.seqno().equals(diff.seqnoTo())
                || !expected.orElse(SeqNo.MIN).equals(diff.seqnoFrom())) {
            throw new IllegalArgumentException("invariant violated: " + cmd.metricName() + " CaS of shard "
                    + newState.shardId() + " expects " + expected + " and writes " + newState.seqno()
                    + ", but its diff runs " + diff.seqnoFrom() + " -> " + diff.seqnoTo());
        }
        VersionedData data = new VersionedData(newState.seqno(), codec.encodeDiff(diff));
        String key = key(newState.shardId());
        AtomicBoolean failedDeterminately = new AtomicBoolean();
        return retries.determinate("apply_unbatched_cmd_cas",
                        () -> consensus.compareAndSet(key, expected, data).whenComplete((result, error) -> {
                            if (error != null && Failures.unwrap(error) instanceof Determinate) {
                                failedDeterminately.set(true);
                            }
                        }))
                .thenCompose(result -> result == CasResult.EXPECTATION_MISMATCH && failedDeterminately.get()
                        ? mismatchAfterDeterminateFailure(cmd, key, expected, data)
                        : CompletableFuture.completedFuture(result))
                .thenApply(result -> {
                    if (result == CasResult.COMMITTED) {
                        metrics.committed(newState, data.data().length);
                    } else {
                        LOG.debugf("%s of shard %s lost its CaS at %s", cmd.metricName(), newState.shardId(),
                                expected.map(Object::toString).orElse("init"));
                    }
                    return new CasOutcome(result, data);
                });
    }

    /**
     * A command CaS failed determinately, was resent, and then lost: to a commit of another replica, or to its own
     * first attempt, if that "determinate" failure had committed after all (a misclassified SQLSTATE, an error
     * pinned on the wrong statement). Believing the mismatch in the second case is the one mistake a CaS must not
     * make: the caller would re-run its commands on a state that holds them already and answer "not applied" for
     * what applied (spec §22.7). So look at what was committed after {@code expected}: an entry is never changed
     * once written, and ours is told apart by its bytes (a diff carries its writer's host name and wall clock; an
     * identical diff from elsewhere would leave the identical state, so counting it as ours is still true of the
     * state). Costs one indexed read, and only on this path (on CockroachDB, contention answered 40001).
     *
     * <ul>
     *   <li>The entry after {@code expected} is ours: COMMITTED.</li>
     *   <li>It is another: a genuine mismatch.</li>
     *   <li>There is none, nor any later one: nothing was committed after {@code expected}, ours neither (the head is
     *       never truncated): a genuine mismatch (the caller's refresh finds out why).</li>
     *   <li>It was truncated away (a later entry is the first): cannot tell. Indeterminate, which the caller
     *       already knows how to resolve.</li>
     * </ul>
     */
    private CompletableFuture<CasResult> mismatchAfterDeterminateFailure(Command cmd, String key,
            Optional<SeqNo> expected, VersionedData data) {
        SeqNo ours = data.seqno();
        return retries.external("apply_unbatched_cmd_cas_check", () -> consensus.scan(key, ours, 1))
                .thenApply(entries -> {
                    if (entries.isEmpty()) {
                        return CasResult.EXPECTATION_MISMATCH;
                    }
                    VersionedData first = entries.get(0);
                    if (first.seqno().equals(ours)) {
                        if (!Arrays.equals(first.data(), data.data())) {
                            return CasResult.EXPECTATION_MISMATCH;
                        }
                        LOG.warnf("%s CaS of shard %s at %s failed determinately and then lost, to its own first"
                                + " attempt: that failure was not determinate (it committed); counted as committed",
                                cmd.metricName(), key, ours);
                        return CasResult.COMMITTED;
                    }
                    throw new Indeterminate(cmd.metricName() + " CaS of shard " + key + " at " + ours + " after "
                            + expected.map(Object::toString).orElse("init") + " failed determinately and then lost;"
                            + " whether its first attempt committed cannot be told: " + ours + " is truncated away"
                            + " (the earliest entry is " + first.seqno() + ")");
                });
    }

    // ---------------------------------------------------------------------------------------------- reads

    /**
     * The current state, rebuilt from the latest rollup named by the last diff of {@code liveDiffsHint} plus the
     * diffs after it (spec §10.4). A missing rollup is not an error: the hint is stale (GC deleted the rollup, so
     * the head moved on), and the live diffs are refetched at once, without sleeping. A rollup that stays missing
     * is refetched with backoff until the budget is spent, then fails with an {@link IllegalStateException}
     * ({@link RefetchBudget}). The hint must not be empty: an uninitialized shard has no current state.
     */
    public CompletableFuture<State> fetchCurrentState(ShardId shard, List<VersionedData> liveDiffsHint) {
        return fetchCurrentState(shard, liveDiffsHint, NO_CALLER);
    }

    /**
     * {@link #fetchCurrentState(ShardId, List)} for a caller that may stop waiting: once {@code caller} is done
     * (say, its request timed out), the refetches stop and the returned future fails with a
     * {@link java.util.concurrent.CancellationException}.
     */
    public CompletableFuture<State> fetchCurrentState(ShardId shard, List<VersionedData> liveDiffsHint,
            Future<?> caller) {
        return defer(() -> fetchCurrentStateLoop(shard, liveDiffsHint, refetchBudget(shard, caller)));
    }

    /**
     * The shard's current state read from storage (its recent live diffs, then {@link #fetchCurrentState}), for a
     * caller that may stop waiting; empty iff the shard has no versions.
     */
    public CompletableFuture<Optional<State>> fetchLatestState(ShardId shard, Future<?> caller) {
        return fetchRecentLiveDiffs(shard).thenCompose(diffs -> diffs.isEmpty()
                ? CompletableFuture.completedFuture(Optional.<State>empty())
                : fetchCurrentState(shard, diffs, caller).thenApply(Optional::of));
    }

    /** {@link #fetchLatestState(ShardId, Future)} for a caller that waits as long as it takes. */
    public CompletableFuture<Optional<State>> fetchLatestState(ShardId shard) {
        return fetchLatestState(shard, NO_CALLER);
    }

    private RefetchBudget refetchBudget(ShardId shard, Future<?> caller) {
        return new RefetchBudget(shard, caller, cfg.staleRollupRefetchBudgetMs(), retries, metrics, refetchWarnings);
    }

    private CompletableFuture<State> fetchCurrentStateLoop(ShardId shard, List<VersionedData> liveDiffsHint,
            RefetchBudget budget) {
        if (liveDiffsHint.isEmpty()) {
            throw new IllegalArgumentException("invariant violated: fetchCurrentState of shard " + shard
                    + " with no live diffs (the shard is not initialized)");
        }
        VersionedData last = liveDiffsHint.get(liveDiffsHint.size() - 1);
        PartialRollupKey rollupKey = codec.decodeDiff(shard, last.data()).latestRollupKey();
        return fetchRollupBytes(shard, rollupKey).thenCompose(bytes -> {
            if (bytes.isEmpty()) {
                return budget.beforeRefetch("fetch_current_state", rollupKey, liveDiffsHint)
                        .thenCompose(ignored -> fetchRecentLiveDiffs(shard))
                        .thenCompose(recent -> fetchCurrentStateLoop(shard, recent, budget));
            }
            return offLoop(() -> applyEncodedDiffs(decodeRollupAt(shard, rollupKey, bytes.get()), liveDiffsHint))
                    .thenCompose(state -> {
                        if (state.seqno().equals(last.seqno())) {
                            return CompletableFuture.completedFuture(state);
                        }
                        // The hint does not reach back to the rollup (a caller's partial hint): read the diffs
                        // that do.
                        LOG.debugf("hint of shard %s starts after rollup %s; refetching", shard, rollupKey);
                        return fetchRecentLiveDiffs(shard)
                                .thenCompose(recent -> fetchCurrentStateLoop(shard, recent, budget));
                    });
        });
    }

    /** Runs {@code body}, reporting what it throws through the returned future, as every method here does. */
    private static <T> CompletableFuture<T> defer(Supplier<CompletableFuture<T>> body) {
        try {
            return body.get();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    /**
     * Applies the diffs that follow {@code state} consecutively; skips those at or below its seqno and stops at a
     * gap (spec §4.5: a caller that sees no progress must take the slow path).
     */
    public State applyEncodedDiffs(State state, List<VersionedData> diffs) {
        State current = state;
        for (VersionedData data : diffs) {
            if (!data.seqno().equals(current.seqno().next())) {
                if (data.seqno().isAfter(current.seqno())) {
                    break;
                }
                continue;
            }
            StateDiff diff = codec.decodeDiff(state.shardId(), data.data());
            current = diff.apply(current);
        }
        return current;
    }

    /**
     * The live diffs from the latest rollup on (spec §10.5), in bounded scans. Fast path: one scan of at most
     * {@code recentLiveDiffsLimit} entries; fewer means that is all of them. Slow path (readers hold a long log):
     * read the head, parse the seqno of its latest rollup out of the rollup key and scan from there. Empty iff
     * the shard is not initialized.
     */
    public CompletableFuture<List<VersionedData>> fetchRecentLiveDiffs(ShardId shard) {
        int limit = cfg.recentLiveDiffsLimit();
        return retries.external("fetch_state_scan", () -> consensus.scan(key(shard), SeqNo.MIN, limit))
                .thenCompose(diffs -> {
                    if (diffs.size() < limit) {
                        metrics.recentLiveDiffs(true);
                        return CompletableFuture.completedFuture(diffs);
                    }
                    metrics.recentLiveDiffs(false);
                    return retries.external("fetch_state_scan", () -> consensus.head(key(shard)))
                            .thenCompose(head -> {
                                VersionedData h = head.orElseThrow(() -> new IllegalStateException(
                                        "invariant violated: shard " + shard + " has " + diffs.size()
                                                + " live diffs but no head"));
                                SeqNo rollup = codec.decodeDiff(shard, h.data()).latestRollupKey().seqno();
                                return retries.external("fetch_state_scan",
                                        () -> consensus.scan(key(shard), rollup, Consensus.SCAN_ALL));
                            });
                });
    }

    /** Every live diff (spec §10.6); empty iff the shard is not initialized. */
    public CompletableFuture<List<VersionedData>> fetchAllLiveDiffs(ShardId shard) {
        return retries.external("fetch_state_scan", () -> consensus.scan(key(shard), SeqNo.MIN, Consensus.SCAN_ALL));
    }

    /** The seqno of the shard's head in Consensus; empty iff it has no versions. */
    public CompletableFuture<Optional<SeqNo>> fetchHead(ShardId shard) {
        return retries.external("fetch_head", () -> consensus.head(key(shard)))
                .thenApply(head -> head.map(VersionedData::seqno));
    }

    /** The first diffs read to size a {@link #scanWithin} (small: a single diff can be megabytes). */
    static final int FIRST_SCAN_CHUNK = 8;

    /**
     * What {@link #scanWithin} read: the entries (contiguous), and whether it stopped before the entry limit and the
     * end of the log, for the byte budget or a truncation between its reads (so more may follow the last).
     */
    public record BoundedScan(List<VersionedData> entries, boolean overBudget) {}

    /**
     * The live diffs from {@code from} on, at most {@code maxEntries} of them and, but for the first, no more than
     * {@code maxBytes} of diff data in all (a page of a listing or a watch, whose cost must not be {@code maxEntries}
     * times the largest diff: one diff can be megabytes). Read in chunks, once, without retries (the caller answers
     * a failure): first {@link #FIRST_SCAN_CHUNK} entries, then as many more as the budget left fits at their
     * average size, so a log of small diffs takes two reads and one of large ones never holds more than the first
     * chunk beyond its budget.
     */
    public CompletableFuture<BoundedScan> scanWithin(ShardId shard, SeqNo from, int maxEntries, long maxBytes) {
        if (maxEntries < 1 || maxBytes < 1) {
            throw new IllegalArgumentException("a bounded scan needs a positive limit and budget, got "
                    + maxEntries + " entries and " + maxBytes + " bytes");
        }
        return scanWithin(key(shard), from, maxEntries, maxBytes, new ArrayList<>(), 0,
                Math.min(FIRST_SCAN_CHUNK, maxEntries));
    }

    private CompletableFuture<BoundedScan> scanWithin(String key, SeqNo from, int maxEntries, long maxBytes,
            List<VersionedData> into, long bytes, int chunk) {
        return consensus.scan(key, from, chunk).toCompletableFuture().thenCompose(entries -> {
            long total = bytes;
            if (!into.isEmpty() && !entries.isEmpty() && !entries.get(0).seqno().equals(from)) {
                // Truncated past `from` since the chunk before: end the page where the log is still contiguous
                // (its reader's next scan from `from` then finds out).
                return CompletableFuture.completedFuture(new BoundedScan(into, true));
            }
            for (VersionedData entry : entries) {
                if (!into.isEmpty() && total + entry.data().length > maxBytes) {
                    return CompletableFuture.completedFuture(new BoundedScan(into, true));
                }
                into.add(entry);
                total += entry.data().length;
            }
            if (entries.size() < chunk || into.size() >= maxEntries) {
                return CompletableFuture.completedFuture(new BoundedScan(into, false));
            }
            long average = Math.max(1, total / into.size());
            long fits = Math.max(1, (maxBytes - total) / average);
            int next = (int) Math.min(maxEntries - into.size(), fits);
            return scanWithin(key, into.get(into.size() - 1).seqno().next(), maxEntries, maxBytes, into, total,
                    next);
        });
    }

    /** The live diffs with seqno greater than {@code seqno}; empty if there are none. */
    public CompletableFuture<List<VersionedData>> fetchAllLiveDiffsGtSeqno(ShardId shard, SeqNo seqno) {
        return retries.external("fetch_state_scan",
                () -> consensus.scan(key(shard), seqno.next(), Consensus.SCAN_ALL));
    }

    /**
     * Every live state, from earliest to current (spec §10.8); empty for an uninitialized shard. The rollup at
     * earliest being gone means GC truncated meanwhile: refetch, without sleeping. Bounded as
     * {@link #fetchCurrentState(ShardId, List)} is.
     */
    public CompletableFuture<Optional<StateVersionsIter>> fetchAllLiveStates(ShardId shard) {
        return fetchAllLiveStates(shard, NO_CALLER);
    }

    /**
     * {@link #fetchAllLiveStates(ShardId)} for a caller that may stop waiting: once {@code caller} is done, the
     * refetches stop and the returned future fails with a {@link java.util.concurrent.CancellationException}.
     */
    public CompletableFuture<Optional<StateVersionsIter>> fetchAllLiveStates(ShardId shard, Future<?> caller) {
        return fetchAllLiveStates(shard, Collections.emptyNavigableMap(), caller);
    }

    /**
     * {@link #fetchAllLiveStates(ShardId, Future)} given the rollups of a state the caller holds (say its machine's
     * current state): if one is at the earliest live diff, its key is taken from there, and no rollup is fetched and
     * decoded just to look the key up (the current state, which spec §10.9 reads for it). Otherwise, and after a
     * refetch (the caller's state may be stale), the key is looked up as spec §10.9 says.
     */
    public CompletableFuture<Optional<StateVersionsIter>> fetchAllLiveStates(ShardId shard,
            NavigableMap<SeqNo, HollowRollup> knownRollups, Future<?> caller) {
        RefetchBudget budget = refetchBudget(shard, caller);
        return fetchAllLiveDiffs(shard).thenCompose(all -> fetchAllLiveStates(shard, all, knownRollups, budget));
    }

    private CompletableFuture<Optional<StateVersionsIter>> fetchAllLiveStates(ShardId shard,
            List<VersionedData> all, NavigableMap<SeqNo, HollowRollup> knownRollups, RefetchBudget budget) {
        if (all.isEmpty()) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        SeqNo earliest = all.get(0).seqno();
        HollowRollup known = knownRollups.get(earliest);
        CompletableFuture<PartialRollupKey> key = known != null ? CompletableFuture.completedFuture(known.key())
                : rollupKeyAtSeqno(shard, all, earliest, budget);
        return key.thenCompose(k -> fetchRollupAtKey(shard, k)
                .thenCompose(rollup -> {
                    if (rollup.isEmpty()) {
                        return budget.beforeRefetch("fetch_live_states", k, all)
                                .thenCompose(ignored -> fetchAllLiveDiffs(shard))
                                .thenCompose(refetched -> fetchAllLiveStates(shard, refetched,
                                        Collections.emptyNavigableMap(), budget));
                    }
                    State initial = rollup.get();
                    if (!initial.seqno().equals(earliest)) {
                        throw new IllegalStateException("invariant violated: the rollup at earliest " + earliest
                                + " of shard " + shard + " holds the state at " + initial.seqno());
                    }
                    return CompletableFuture.completedFuture(
                            Optional.of(new StateVersionsIter(codec, initial, all, cfg.validateTransitions())));
                }));
    }

    /**
     * The live diffs from the earliest through {@code through}, oldest first, in scans sized for the range
     * {@code [expectedEarliest, through]} (one scan unless earliest is below {@code expectedEarliest}). Fewer if
     * the log ends before {@code through}; empty iff the shard is not initialized.
     */
    public CompletableFuture<List<VersionedData>> fetchLiveDiffsThrough(ShardId shard, SeqNo expectedEarliest,
            SeqNo through) {
        long range = Math.max(1, through.value() - expectedEarliest.value() + 1);
        return scanThrough(shard, SeqNo.MIN, through, range, new ArrayList<>());
    }

    private CompletableFuture<List<VersionedData>> scanThrough(ShardId shard, SeqNo from, SeqNo through, long limit,
            List<VersionedData> read) {
        return retries.external("fetch_state_scan", () -> consensus.scan(key(shard), from, limit))
                .thenCompose(page -> {
                    for (VersionedData data : page) {
                        if (data.seqno().isAfter(through)) {
                            return CompletableFuture.completedFuture(read);
                        }
                        read.add(data);
                    }
                    if (page.size() < limit || read.isEmpty()) {
                        return CompletableFuture.completedFuture(read); // the log ends here
                    }
                    SeqNo last = read.get(read.size() - 1).seqno();
                    return last.equals(through) ? CompletableFuture.completedFuture(read)
                            : scanThrough(shard, last.next(), through, through.value() - last.value(), read);
                });
    }

    /**
     * What garbage collection reads to truncate below {@code truncationPoints} (rollups, ascending, of a state the
     * caller holds, at or below its seqno_since): the live diffs from earliest through the last point, and the
     * rollup at the first point above earliest, undecoded.
     *
     * <p>Spec §11.3 builds every live state from the rollup at earliest, found through the current state (a
     * second rollup decoded only for its {@code rollups} map), and replays every diff up to the last point, each
     * application O(state). None of that is needed: the blobs to delete are the deletes of the diffs being truncated
     * (decoding a diff is O(diff)), and the state that must not reference them, at the first point, is that
     * point's rollup, whose key the caller already holds. Only further points are replayed to, from the first. The
     * caller decodes of the rollup only what its check needs: the rollups alone when no diff deletes a batch part.
     *
     * <p>A missing rollup at the first point means a GC elsewhere deleted it, which it does only after truncating
     * past it: refetch the diffs (within the refetch budget), which then start above it.
     */
    public CompletableFuture<TruncationRead> fetchForTruncation(ShardId shard,
            NavigableMap<SeqNo, HollowRollup> truncationPoints) {
        return defer(() -> fetchForTruncation(shard, truncationPoints, refetchBudget(shard, NO_CALLER)));
    }

    private CompletableFuture<TruncationRead> fetchForTruncation(ShardId shard,
            NavigableMap<SeqNo, HollowRollup> points, RefetchBudget budget) {
        return fetchLiveDiffsThrough(shard, points.firstKey(), points.lastKey()).thenCompose(diffs -> {
            Map.Entry<SeqNo, HollowRollup> first = diffs.isEmpty() ? null : points.higherEntry(diffs.get(0).seqno());
            if (first == null) {
                return CompletableFuture.completedFuture(new TruncationRead(diffs, Optional.empty()));
            }
            PartialRollupKey key = first.getValue().key();
            return fetchRollupBytes(shard, key).thenCompose(bytes -> bytes.isPresent()
                    ? CompletableFuture.completedFuture(
                            new TruncationRead(diffs, Optional.of(new FirstPoint(key, bytes.get()))))
                    : budget.beforeRefetch("gc_fetch", key, diffs)
                            .thenCompose(ignored -> fetchForTruncation(shard, points, budget)));
        });
    }

    /**
     * What {@link #fetchForTruncation} read.
     *
     * @param diffs           the live diffs from earliest through the last truncation point (fewer if the log ends
     *                        before it, which a caller must treat as a broken invariant)
     * @param firstPoint      the rollup at the first truncation point above earliest, undecoded (the caller decodes
     *                        what it needs of it: {@link #decodeRollupAt}, {@link #decodeRollupRollupsAt}); empty if
     *                        no point is above earliest (everything was truncated already)
     */
    public record TruncationRead(List<VersionedData> diffs, Optional<FirstPoint> firstPoint) {}

    /** The rollup at a truncation point: its key and its bytes as read from Blob. */
    public record FirstPoint(PartialRollupKey key, byte[] rollup) {}

    /** A version read by {@link #fetchVersion}. */
    public sealed interface VersionRead {
        /** The state at the version asked for. */
        record Found(State state) implements VersionRead {}

        /** The version is below the earliest live one: garbage-collected. */
        record Truncated(SeqNo earliest) implements VersionRead {}

        /** The shard has no versions. */
        record Uninitialized() implements VersionRead {}
    }

    /**
     * The state at {@code seqno} (at most the current seqno), rebuilt from the greatest of {@code knownRollups} (the
     * rollups of a state the caller holds, at or after {@code seqno}) at or below it plus only the diffs after that
     * rollup, decoded and replayed {@linkplain #offLoop off the loop}. If that rollup is no longer live (truncated
     * meanwhile, or its blob gone), or there is none, it falls back to replaying the live states from earliest
     * ({@link #fetchAllLiveStates(ShardId, NavigableMap, Future)}), which also finds a truncated version.
     */
    public CompletableFuture<VersionRead> fetchVersion(ShardId shard, SeqNo seqno,
            NavigableMap<SeqNo, HollowRollup> knownRollups, Future<?> caller) {
        Map.Entry<SeqNo, HollowRollup> floor = knownRollups.floorEntry(seqno);
        if (floor == null) {
            return fetchVersionFromEarliest(shard, seqno, knownRollups, caller);
        }
        SeqNo rollupSeqno = floor.getKey();
        PartialRollupKey key = floor.getValue().key();
        long count = seqno.value() - rollupSeqno.value() + 1;
        return retries.external("fetch_state_scan", () -> consensus.scan(key(shard), rollupSeqno, count))
                .thenCompose(diffs -> {
                    if (diffs.size() != count || !diffs.get(0).seqno().equals(rollupSeqno)) {
                        LOG.debugf("rollup %s of shard %s is no longer live; reading %s from earliest", key, shard,
                                seqno);
                        return fetchVersionFromEarliest(shard, seqno, knownRollups, caller);
                    }
                    return fetchRollupBytes(shard, key).thenCompose(bytes -> bytes.isEmpty()
                            ? fetchVersionFromEarliest(shard, seqno, knownRollups, caller)
                            : offLoop(() -> {
                                State state = applyEncodedDiffs(decodeRollupAt(shard, key, bytes.get()), diffs);
                                if (!state.seqno().equals(seqno)) {
                                    throw new IllegalStateException("invariant violated: the rollup " + key
                                            + " of shard " + shard + " and the live diffs "
                                            + diffs.get(0).seqno() + ".." + diffs.get(diffs.size() - 1).seqno()
                                            + " rebuilt " + state.seqno() + ", not " + seqno);
                                }
                                return new VersionRead.Found(state);
                            }));
                });
    }

    private CompletableFuture<VersionRead> fetchVersionFromEarliest(ShardId shard, SeqNo seqno,
            NavigableMap<SeqNo, HollowRollup> knownRollups, Future<?> caller) {
        return fetchAllLiveStates(shard, knownRollups, caller).thenCompose(iter -> {
            if (iter.isEmpty()) {
                return CompletableFuture.completedFuture(new VersionRead.Uninitialized());
            }
            StateVersionsIter states = iter.get();
            if (seqno.isBefore(states.state().seqno())) {
                return CompletableFuture.completedFuture(new VersionRead.Truncated(states.state().seqno()));
            }
            return offLoop(() -> {
                while (states.state().seqno().isBefore(seqno) && states.next().isPresent()) {
                    // advance to the version asked for
                }
                if (!states.state().seqno().equals(seqno)) {
                    throw new IllegalStateException("invariant violated: live states of shard " + shard
                            + " end at " + states.state().seqno() + " below " + seqno + ", which was current");
                }
                return new VersionRead.Found(states.state());
            });
        });
    }

    /**
     * The state at {@code seqno} from its rollup, as named by the current state (spec §10.9). If the current state
     * has no rollup at {@code seqno}, the rollup is looked up in the live diffs (a migration fallback: an old GC
     * removed the rollup at earliest from state before truncating). Empty if the blob is gone.
     */
    public CompletableFuture<Optional<State>> fetchRollupAtSeqno(ShardId shard, List<VersionedData> liveDiffs,
            SeqNo seqno) {
        return defer(() -> rollupKeyAtSeqno(shard, liveDiffs, seqno, refetchBudget(shard, NO_CALLER))
                .thenCompose(key -> fetchRollupAtKey(shard, key)));
    }

    /** The key of the rollup at {@code seqno}: from the current state, else from the live diffs (spec §10.9). */
    private CompletableFuture<PartialRollupKey> rollupKeyAtSeqno(ShardId shard, List<VersionedData> liveDiffs,
            SeqNo seqno, RefetchBudget budget) {
        return fetchCurrentStateLoop(shard, liveDiffs, budget).thenApply(current -> {
            HollowRollup rollup = current.collections().rollups().get(seqno);
            if (rollup != null) {
                return rollup.key();
            }
            PartialRollupKey key = migrationFallbackKey(shard, liveDiffs, seqno).orElseThrow(() ->
                    new IllegalStateException("invariant violated: shard " + shard + " has no rollup at " + seqno
                            + " in its current state " + current.seqno() + " nor in its live diffs"));
            metrics.rollupAtSeqnoMigration();
            return key;
        });
    }

    /** The last rollup at {@code seqno} that a live diff inserts, updates or deletes. */
    private Optional<PartialRollupKey> migrationFallbackKey(ShardId shard, List<VersionedData> liveDiffs,
            SeqNo seqno) {
        Optional<PartialRollupKey> fallback = Optional.empty();
        for (VersionedData data : liveDiffs) {
            for (FieldDiff<SeqNo, HollowRollup> d : codec.decodeDiff(shard, data.data()).rollups()) {
                if (d.key().equals(seqno)) {
                    HollowRollup r = d.value() instanceof DiffValue.Insert<HollowRollup> i ? i.after()
                            : d.value() instanceof DiffValue.Update<HollowRollup> u ? u.after()
                            : ((DiffValue.Delete<HollowRollup>) d.value()).before();
                    fallback = Optional.of(r.key());
                }
            }
        }
        return fallback;
    }

    /** The state held by the rollup at {@code key}, decoded {@linkplain #offLoop off the loop}; empty if the blob does not exist. */
    public CompletableFuture<Optional<State>> fetchRollupAtKey(ShardId shard, PartialRollupKey key) {
        return fetchRollupBytes(shard, key).thenCompose(bytes -> bytes.isEmpty()
                ? CompletableFuture.completedFuture(Optional.<State>empty())
                : offLoop(() -> Optional.of(decodeRollupAt(shard, key, bytes.get()))));
    }

    private CompletableFuture<Optional<byte[]>> fetchRollupBytes(ShardId shard, PartialRollupKey key) {
        return retries.external("rollup_get", () -> blob.get(key.complete(shard)));
    }

    /**
     * The seqno and rollups of the state in the rollup {@code bytes} read from {@code key}, which must be the state at
     * the key's seqno; the rest of the rollup is skipped ({@link StateCodec#decodeRollupRollups}).
     */
    public StateCodec.RollupRollups decodeRollupRollupsAt(ShardId shard, PartialRollupKey key, byte[] bytes) {
        StateCodec.RollupRollups decoded = codec.decodeRollupRollups(shard, bytes);
        if (!decoded.seqno().equals(key.seqno())) {
            throw new IllegalStateException("invariant violated: rollup " + key.complete(shard)
                    + " holds the state at " + decoded.seqno());
        }
        return decoded;
    }

    /** The state in the rollup {@code bytes} read from {@code key}, which must be the state at the key's seqno. */
    public State decodeRollupAt(ShardId shard, PartialRollupKey key, byte[] bytes) {
        State state = codec.decodeRollup(shard, bytes).state();
        if (!state.seqno().equals(key.seqno())) {
            throw new IllegalStateException("invariant violated: rollup " + key.complete(shard)
                    + " holds the state at " + state.seqno());
        }
        return state;
    }

    // ---------------------------------------------------------------------------------- truncation, rollups

    /** Deletes the live diffs below {@code seqno} (spec §10.11); {@code seqno} must be a rollup at or below seqnoSince. */
    public CompletableFuture<Void> truncateDiffs(ShardId shard, SeqNo seqno) {
        return retries.external("gc_truncate", () -> consensus.truncate(key(shard), seqno)).thenApply(count -> null);
    }

    /** Encodes the rollup of {@code state} under {@code key}, with the diffs it inlines, if any. */
    public EncodedRollup encodeRollupBlob(State state, PartialRollupKey key, Optional<StateCodec.InlinedDiffs> diffs) {
        if (!key.seqno().equals(state.seqno())) {
            throw new IllegalArgumentException("rollup key " + key + " does not name the state at " + state.seqno());
        }
        return new EncodedRollup(state.shardId(), state.seqno(), key, codec.encodeRollup(state, diffs));
    }

    public CompletableFuture<Void> writeRollupBlob(EncodedRollup rollup) {
        return retries.external("rollup_set", () -> blob.set(rollup.key().complete(rollup.shard()), rollup.bytes()))
                .thenApply(ignored -> {
                    metrics.rollupWritten(rollup.shard(), rollup.bytes().length);
                    return null;
                });
    }

    /**
     * Writes a rollup of {@code state} (at {@code S}, latest rollup at {@code R}) with the diffs {@code (R, S]}
     * inlined (spec §10.12). A no-op, returning empty, when {@code S == R} ({@code latest}) or when the diffs
     * after {@code R} are already truncated ({@code truncated}: someone else rolled up and GC moved past R).
     */
    public CompletableFuture<Optional<EncodedRollup>> writeRollupForState(State state, RollupId rollupId) {
        return defer(() -> writeRollupForStateNow(state, rollupId));
    }

    private CompletableFuture<Optional<EncodedRollup>> writeRollupForStateNow(State state, RollupId rollupId) {
        ShardId shard = state.shardId();
        SeqNo r = state.latestRollup().getKey();
        SeqNo s = state.seqno();
        if (s.equals(r)) {
            metrics.rollupWriteNoop("latest");
            return CompletableFuture.completedFuture(Optional.empty());
        }
        return fetchAllLiveDiffsGtSeqno(shard, r).thenCompose(diffs -> {
            if (diffs.isEmpty()) {
                throw new IllegalStateException("invariant violated: no live diffs after rollup " + r + " of shard "
                        + shard + ", yet the state to roll up is at " + s);
            }
            SeqNo first = diffs.get(0).seqno();
            if (!first.equals(r.next())) {
                if (!first.isAfter(r.next())) {
                    throw new IllegalStateException("invariant violated: live diffs of shard " + shard + " after "
                            + r + " start at " + first);
                }
                metrics.rollupWriteNoop("truncated");
                return CompletableFuture.completedFuture(Optional.<EncodedRollup>empty());
            }
            List<VersionedData> inlined = diffs.stream().filter(d -> !d.seqno().isAfter(s)).toList();
            if (inlined.size() != s.value() - r.value() || !inlined.get(inlined.size() - 1).seqno().equals(s)) {
                throw new IllegalStateException("invariant violated: live diffs of shard " + shard + " in (" + r + ", "
                        + s + "] are " + inlined.stream().map(VersionedData::seqno).toList());
            }
            PartialRollupKey key = new PartialRollupKey(s, rollupId);
            return offLoop(() -> encodeRollupBlob(state, key,
                            Optional.of(new StateCodec.InlinedDiffs(r.next(), s.next(), inlined))))
                    .thenCompose(rollup -> writeRollupBlob(rollup).thenApply(ignored -> Optional.of(rollup)));
        });
    }

    /**
     * Every blob under {@code shard}'s prefix ({@link BlobKey#shardPrefix}), with its size and last-modified time, in
     * no particular order. Whatever the keys look like: telling blob keys from others is the caller's job. A
     * listing that fails part way is retried from the start.
     */
    public CompletableFuture<List<BlobMetadata>> listBlobs(ShardId shard) {
        return retries.external("blob_list", () -> {
            List<BlobMetadata> listed = new ArrayList<>();
            return blob.list(BlobKey.shardPrefix(shard), listed::add).thenApply(ignored -> listed);
        });
    }

    /** Deletes a batch part blob; deleting one that is gone is fine. */
    public CompletableFuture<Void> deleteBatchPart(ShardId shard, io.stateversions.core.PartialBatchKey key) {
        return retries.external("part_delete", () -> blob.delete(key.complete(shard))).thenApply(ignored -> null);
    }

    /** Deletes a rollup blob; deleting one that is gone is fine. */
    public CompletableFuture<Void> deleteRollup(ShardId shard, PartialRollupKey key) {
        return retries.external("rollup_delete", () -> blob.delete(key.complete(shard))).thenApply(ignored -> null);
    }
}
