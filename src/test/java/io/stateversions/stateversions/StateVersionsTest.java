package io.stateversions.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.Codecs;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.Transition;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.VersionedData;
import io.stateversions.testing.FaultyConsensus;
import io.stateversions.testing.CountingBlob;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link StateVersions} on real storage semantics: what the scripts cannot show (true concurrency, an injected
 * indeterminate failure observed from Java, retry sleeps) plus the edge cases every backend must agree on. A
 * backend's subclass only supplies the storage; shards are fresh per test, so backends may be shared.
 */
abstract class StateVersionsTest {

    private static final Codecs CODECS = new Codecs("bytes", "bytes", "u64", "i64");
    private static final Codecs OTHER_CODECS = new Codecs("string", "string", "u64", "i64");
    private static final long NOW_MS = 1_000;
    private static final PersistConfig CFG = StateVersionsScriptDriver.defaultConfig();

    protected abstract Consensus consensus();

    protected abstract Blob blob();

    /** Every sleep a retry loop of this test asked for. */
    private final List<Duration> sleeps = Collections.synchronizedList(new ArrayList<>());
    private final List<String> retried = Collections.synchronizedList(new ArrayList<>());
    private final Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, (delay, task) -> {
        sleeps.add(delay);
        Retries.Scheduler.DEFAULT.schedule(delay, task);
    }, (op, mode, retry, error, sleep) -> retried.add(op + ": " + error.getClass().getSimpleName()));

    /** What StateVersions reported. */
    private final List<String> reported = Collections.synchronizedList(new ArrayList<>());
    private final StateVersionsMetrics metrics = new StateVersionsMetrics() {
        @Override
        public void staleRollupRefetch(String op) {
            reported.add("stale_rollup_refetch(" + op + ")");
        }

        @Override
        public void staleRollupGaveUp(String op, String reason) {
            reported.add("stale_rollup_gave_up(" + op + ", " + reason + ")");
        }

        @Override
        public void rollupWriteNoop(String reason) {
            reported.add("rollup_write_noop(" + reason + ")");
        }
    };

    private final List<ExecutorService> pools = new ArrayList<>();

    @AfterEach
    void stopPools() {
        pools.forEach(ExecutorService::shutdownNow);
    }

    private StateVersions stateVersions(Consensus consensus) {
        return stateVersions(CFG, consensus, blob());
    }

    private StateVersions stateVersions(PersistConfig cfg, Consensus consensus, Blob blob) {
        return new StateVersions(cfg, consensus, blob, retries, metrics, () -> NOW_MS,
                StateVersionsScriptDriver.HOSTNAME);
    }

    private StateVersions stateVersions() {
        return stateVersions(consensus());
    }

    // ------------------------------------------------------------------------------------ initialization

    @Test
    void concurrentInitsCommitOneVersionAndKeepOneRollup() throws Exception {
        ShardId shard = ShardId.random();
        int callers = 16;
        ExecutorService pool = Executors.newFixedThreadPool(callers);
        pools.add(pool);
        CountDownLatch ready = new CountDownLatch(callers);
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<State>> results = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
            StateVersions process = stateVersions(); // one per caller, as separate processes would have
            results.add(CompletableFuture.supplyAsync(() -> {
                ready.countDown();
                try {
                    go.await();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
                return await(process.maybeInitShard(shard, CODECS));
            }, pool));
        }
        ready.await(30, TimeUnit.SECONDS);
        go.countDown();
        List<State> states = new ArrayList<>();
        for (CompletableFuture<State> result : results) {
            states.add(result.get(120, TimeUnit.SECONDS));
        }

        assertThat(scan(shard)).extracting(VersionedData::seqno).containsExactly(SeqNo.of(1));
        List<String> blobs = blobKeys(shard);
        assertThat(blobs).hasSize(1);
        State first = states.get(0);
        assertThat(first.seqno()).isEqualTo(SeqNo.of(1));
        assertThat(first.codecs()).isEqualTo(CODECS);
        assertThat(first.collections().rollups()).hasSize(1);
        assertThat(first.latestRollup().getValue().key().complete(shard)).isEqualTo(blobs.get(0));
        assertThat(states).allSatisfy(state -> assertThat(state).isEqualTo(first));
    }

    @Test
    void initWithOtherCodecsFailsAndChangesNothing() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State initial = await(sv.maybeInitShard(shard, CODECS));
        List<VersionedData> log = scan(shard);
        List<String> blobs = blobKeys(shard);

        assertThatThrownBy(() -> await(sv.maybeInitShard(shard, OTHER_CODECS)))
                .isInstanceOfSatisfying(CodecMismatchException.class, e -> {
                    assertThat(e.shard()).isEqualTo(shard);
                    assertThat(e.requested()).isEqualTo(OTHER_CODECS);
                    assertThat(e.actual()).isEqualTo(CODECS);
                });

        assertThat(scan(shard)).isEqualTo(log);
        assertThat(blobKeys(shard)).isEqualTo(blobs);
        assertThat(await(sv.maybeInitShard(shard, CODECS))).isEqualTo(initial);
    }

    /**
     * Spec §10.1, §22.6: the init CaS commits but reports Indeterminate; the retry finds v1 and loses. The winner
     * is ourselves, so the rollup that v1 refers to must not be deleted.
     */
    @Test
    void initThatLostToItselfKeepsItsRollup() {
        ShardId shard = ShardId.random();
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        AtomicInteger fired = new AtomicInteger();
        faulty.loseReplyOfNextCas(shard.toString(), fired::incrementAndGet);

        State state = await(stateVersions(faulty).maybeInitShard(shard, CODECS));

        assertThat(fired).hasValue(1);
        assertThat(retried).containsExactly("maybe_init_cas: " + Indeterminate.class.getSimpleName());
        assertThat(state.seqno()).isEqualTo(SeqNo.of(1));
        assertThat(scan(shard)).extracting(VersionedData::seqno).containsExactly(SeqNo.of(1));
        PartialRollupKey ours = state.latestRollup().getValue().key();
        assertThat(blobKeys(shard)).containsExactly(ours.complete(shard));
        assertThat(await(stateVersions().fetchRollupAtKey(shard, ours))).contains(state);
        assertThat(await(stateVersions().maybeInitShard(shard, CODECS))).isEqualTo(state);
    }

    /** The same race, lost to another initializer: its state is returned and our rollup is deleted. */
    @Test
    void initThatLostToAnotherInitializerDeletesItsRollup() {
        ShardId shard = ShardId.random();
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        List<State> winner = new ArrayList<>();
        faulty.beforeNextCas(shard.toString(),
                () -> stateVersions().maybeInitShard(shard, CODECS).thenAccept(winner::add), () -> {});

        State state = await(stateVersions(faulty).maybeInitShard(shard, CODECS));

        assertThat(winner).containsExactly(state);
        assertThat(scan(shard)).extracting(VersionedData::seqno).containsExactly(SeqNo.of(1));
        assertThat(blobKeys(shard)).containsExactly(state.latestRollup().getValue().key().complete(shard));
    }

    /** Lost to an initializer with other codecs: a codec mismatch, and our rollup is deleted all the same. */
    @Test
    void initThatLostToOtherCodecsDeletesItsRollupAndFails() {
        ShardId shard = ShardId.random();
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        List<State> winner = new ArrayList<>();
        faulty.beforeNextCas(shard.toString(),
                () -> stateVersions().maybeInitShard(shard, OTHER_CODECS).thenAccept(winner::add), () -> {});

        assertThatThrownBy(() -> await(stateVersions(faulty).maybeInitShard(shard, CODECS)))
                .isInstanceOf(CodecMismatchException.class);

        assertThat(winner).hasSize(1);
        assertThat(blobKeys(shard)).containsExactly(winner.get(0).latestRollup().getValue().key().complete(shard));
    }

    // ----------------------------------------------------------------------------------------- commits

    /**
     * A command CaS that commits and then fails "determinately" (CockroachDB answers 57014 for a one-phase commit
     * its statement timer overtook) is resent and loses to itself: the entry after the expected one is its own, so
     * it is committed, not a mismatch the caller would take for another replica's commit.
     */
    @Test
    void aCasThatFailedDeterminatelyButHadCommittedIsCommitted() {
        ShardId shard = ShardId.random();
        State prev = await(stateVersions().maybeInitShard(shard, CODECS));
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        faulty.failAfterNextCas(shard.toString(), () -> CompletableFuture.completedFuture(null),
                new Determinate("injected: query execution canceled due to statement timeout (57014)"));
        Transition.Committable<?> next = appendTransition(prev, 0, 1);

        StateVersions.CasOutcome outcome = await(stateVersions(faulty).tryCompareAndSetCurrent(
                Command.COMPARE_AND_APPEND, Optional.of(prev.seqno()), next.state(), next.diff()));

        assertThat(outcome.result()).isEqualTo(CasResult.COMMITTED);
        assertThat(retried).containsExactly("apply_unbatched_cmd_cas: " + Determinate.class.getSimpleName());
        assertThat(scan(shard)).extracting(VersionedData::seqno).containsExactly(SeqNo.of(1), SeqNo.of(2));
        assertThat(scan(shard).get(1).data()).isEqualTo(outcome.data().data());
    }

    /** The ordinary case the check must leave alone: a determinate failure, then another writer's commit. */
    @Test
    void aCasThatFailedDeterminatelyAndThenLostToAnotherWriterIsAMismatch() {
        ShardId shard = ShardId.random();
        State prev = await(stateVersions().maybeInitShard(shard, CODECS));
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        // Off the storage client's threads, which the blocking helpers must not hold.
        faulty.failNextCas(shard.toString(), () -> CompletableFuture.runAsync(
                () -> append(stateVersions(), prev, 0, 2)),
                new Determinate("injected: serialization failure (40001)"));
        Transition.Committable<?> next = appendTransition(prev, 0, 1);

        StateVersions.CasOutcome outcome = await(stateVersions(faulty).tryCompareAndSetCurrent(
                Command.COMPARE_AND_APPEND, Optional.of(prev.seqno()), next.state(), next.diff()));

        assertThat(outcome.result()).isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(retried).containsExactly("apply_unbatched_cmd_cas: " + Determinate.class.getSimpleName());
        assertThat(scan(shard)).extracting(VersionedData::seqno).containsExactly(SeqNo.of(1), SeqNo.of(2));
        assertThat(scan(shard).get(1).data()).isNotEqualTo(outcome.data().data());
    }

    /**
     * When the entry that would tell is truncated away before it is looked at, nothing tells whether the first
     * attempt landed: the CaS is indeterminate, not a mismatch.
     */
    @Test
    void aCasThatFailedDeterminatelyAndLostIsIndeterminateOnceItsEntryIsTruncated() {
        ShardId shard = ShardId.random();
        State prev = await(stateVersions().maybeInitShard(shard, CODECS));
        Transition.Committable<?> next = appendTransition(prev, 0, 1);
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        // Another commit on top of ours and a truncation up to it, off the storage client's threads.
        faulty.failAfterNextCas(shard.toString(), () -> CompletableFuture.runAsync(() -> {
            append(stateVersions(), next.state(), 1, 2);
            await(consensus().truncate(shard.toString(), SeqNo.of(3)));
        }), new Determinate("injected: query execution canceled due to statement timeout (57014)"));

        assertThatThrownBy(() -> await(stateVersions(faulty).tryCompareAndSetCurrent(Command.COMPARE_AND_APPEND,
                Optional.of(prev.seqno()), next.state(), next.diff())))
                .isInstanceOf(Indeterminate.class)
                .hasMessageContaining("cannot be told")
                .hasMessageContaining("v2 is truncated away (the earliest entry is v3)");
    }

    private Transition.Committable<?> appendTransition(State prev, long lower, long upper) {
        HollowBatch batch = HollowBatch.empty(new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN));
        Transition<?> t = Transition.computeNext(prev, CFG, NOW_MS, "h", Command.COMPARE_AND_APPEND,
                Commands.compareAndAppend(batch, WRITER, IdempotencyToken.random(), new HandleDebug("h", "test"),
                        NOW_MS, CFG.writerLeaseDurationMs(), CFG.inlineWritesTotalMaxBytes()));
        assertThat(t).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<?>) t;
    }

    // ------------------------------------------------------------------------------------------- reads

    /** Spec §10.4, §22.4: a hint whose rollup GC deleted is stale; it is refetched at once, without a sleep. */
    @Test
    void fetchCurrentStateWithAStaleHintReturnsTheCurrentStateWithoutSleeping() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State state = await(sv.maybeInitShard(shard, CODECS));
        for (int i = 0; i < 3; i++) {
            state = append(sv, state, 10L * i, 10L * (i + 1));
        }
        List<VersionedData> hint = await(sv.fetchRecentLiveDiffs(shard));
        PartialRollupKey initialRollup = state.latestRollup().getValue().key();
        state = rollUp(sv, state);
        // GC's order: delete the blobs, truncate, remove the rollups from state.
        await(sv.deleteRollup(shard, initialRollup));
        await(sv.truncateDiffs(shard, SeqNo.of(4)));
        State current = commit(sv, state, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(List.of(Map.entry(initialRollup.seqno(), initialRollup))));
        sleeps.clear();

        State fetched = await(sv.fetchCurrentState(shard, hint));

        assertThat(fetched).isEqualTo(current);
        assertThat(fetched.seqno()).isEqualTo(SeqNo.of(6));
        assertThat(reported).containsExactly("stale_rollup_refetch(fetch_current_state)");
        assertThat(sleeps).isEmpty();
        assertThat(retried).isEmpty();
    }

    /**
     * Spec §10.8, §9: GC deletes the rollup at earliest and truncates between our scan of the live diffs and our
     * read of that rollup. The rollup is missing, which means we are behind: refetch at once, without a sleep,
     * and iterate from the new earliest.
     */
    @Test
    void fetchAllLiveStatesRefetchesAfterAGcRaceWithoutSleeping() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State state = await(sv.maybeInitShard(shard, CODECS));
        for (int i = 0; i < 3; i++) {
            state = append(sv, state, 10L * i, 10L * (i + 1));
        }
        PartialRollupKey initialRollup = state.latestRollup().getValue().key();
        State current = rollUp(sv, state);
        FaultyConsensus faulty = new FaultyConsensus(consensus());
        faulty.afterNextScan(shard.toString(), () -> sv.deleteRollup(shard, initialRollup)
                .thenCompose(ignored -> sv.truncateDiffs(shard, SeqNo.of(4))));
        sleeps.clear();

        StateVersionsIter states = await(stateVersions(faulty).fetchAllLiveStates(shard)).orElseThrow();

        assertThat(states.state().seqno()).isEqualTo(SeqNo.of(4));
        assertThat(states.len()).isEqualTo(2);
        List<SeqNo> seen = new ArrayList<>();
        while (states.next().isPresent()) {
            seen.add(states.state().seqno());
        }
        assertThat(seen).containsExactly(SeqNo.of(4), SeqNo.of(5));
        assertThat(states.state()).isEqualTo(current);
        assertThat(reported).containsExactly("stale_rollup_refetch(fetch_live_states)");
        assertThat(sleeps).isEmpty();
    }

    /**
     * A rollup deleted by hand (or a replica reading another blob store) stays missing however often the diffs
     * are refetched. The fetch refetches at once a few times, then backs off by persist's policy, and once its
     * budget is spent fails with an error that names the shard, the rollup and the likely cause, and stops.
     */
    @Test
    void fetchCurrentStateOfARollupDeletedByHandGivesUpWithinItsBudget() {
        ShardId shard = ShardId.random();
        CountingBlob counted = new CountingBlob(blob());
        StateVersions sv = stateVersions(CFG.withStaleRollupRefetchBudgetMs(REFETCH_BUDGET_MS), consensus(), counted);
        State state = await(sv.maybeInitShard(shard, CODECS));
        state = append(sv, state, 0, 10);
        PartialRollupKey latest = state.latestRollup().getValue().key();
        await(blob().delete(latest.complete(shard)));
        List<VersionedData> hint = await(sv.fetchRecentLiveDiffs(shard));

        assertGivesUpWithinTheBudget(() -> sv.fetchCurrentState(shard, hint), "fetch_current_state",
                latest.complete(shard), "v1..v2", counted);
    }

    /** The same for the rollup at earliest, which {@code fetchAllLiveStates} starts from. */
    @Test
    void fetchAllLiveStatesOfARollupAtEarliestDeletedByHandGivesUpWithinItsBudget() {
        ShardId shard = ShardId.random();
        CountingBlob counted = new CountingBlob(blob());
        StateVersions sv = stateVersions(CFG.withStaleRollupRefetchBudgetMs(REFETCH_BUDGET_MS), consensus(), counted);
        State state = await(sv.maybeInitShard(shard, CODECS));
        for (int i = 0; i < 3; i++) {
            state = append(sv, state, 10L * i, 10L * (i + 1));
        }
        PartialRollupKey atEarliest = state.latestRollup().getValue().key();
        rollUp(sv, state);
        await(blob().delete(atEarliest.complete(shard)));

        assertGivesUpWithinTheBudget(() -> sv.fetchAllLiveStates(shard), "fetch_live_states",
                atEarliest.complete(shard), "v1..v5", counted);
    }

    /** A caller that stops waiting (its request timed out) stops the refetches long before the budget is spent. */
    @Test
    void fetchCurrentStateStopsRefetchingOnceItsCallerIsDone() {
        ShardId shard = ShardId.random();
        CountingBlob counted = new CountingBlob(blob());
        StateVersions sv = stateVersions(CFG.withStaleRollupRefetchBudgetMs(600_000), consensus(), counted);
        State state = await(sv.maybeInitShard(shard, CODECS));
        await(blob().delete(state.latestRollup().getValue().key().complete(shard)));
        List<VersionedData> hint = await(sv.fetchRecentLiveDiffs(shard));
        CompletableFuture<Void> caller = new CompletableFuture<>();

        CompletableFuture<State> fetched = sv.fetchCurrentState(shard, hint, caller);
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
                .until(() -> reported.contains("stale_rollup_refetch(fetch_current_state)"));
        caller.completeExceptionally(new java.util.concurrent.TimeoutException());

        assertThatThrownBy(() -> await(fetched)).isInstanceOf(java.util.concurrent.CancellationException.class)
                .hasMessageContaining(shard.toString());
        counted.assertGetsStopped();
        assertThat(reported).contains("stale_rollup_gave_up(fetch_current_state, caller_done)")
                .doesNotContain("stale_rollup_gave_up(fetch_current_state, budget)");
    }

    /** Regression (spec §10.8): an uninitialized shard has no live states; older versions panicked. */
    @Test
    void fetchAllLiveStatesOfAnUninitializedShardIsEmpty() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        assertThat(await(sv.fetchAllLiveStates(shard))).isEmpty();
        assertThat(await(sv.fetchAllLiveDiffs(shard))).isEmpty();
        assertThat(await(sv.fetchRecentLiveDiffs(shard))).isEmpty();
        assertThat(scan(shard)).isEmpty();
    }

    /** Writes {@code sizes.length} raw entries v1, v2, … of those sizes under {@code shard} (scans do not decode). */
    private void rawEntries(ShardId shard, int... sizes) {
        for (int i = 0; i < sizes.length; i++) {
            Optional<SeqNo> expected = i == 0 ? Optional.empty() : Optional.of(SeqNo.of(i));
            assertThat(await(consensus().compareAndSet(shard.toString(), expected,
                    new VersionedData(SeqNo.of(i + 1), new byte[sizes[i]])))).isEqualTo(CasResult.COMMITTED);
        }
    }

    @Test
    void aBoundedScanOfSmallDiffsStopsAtItsLimitOrTheEnd() {
        ShardId shard = ShardId.random();
        int[] sizes = new int[40];
        java.util.Arrays.fill(sizes, 100);
        rawEntries(shard, sizes);

        StateVersions.BoundedScan limited = await(stateVersions().scanWithin(shard, SeqNo.of(3), 30, 1 << 20));
        StateVersions.BoundedScan all = await(stateVersions().scanWithin(shard, SeqNo.MIN, 1000, 1 << 20));

        assertThat(limited.entries()).extracting(e -> e.seqno().value())
                .containsExactlyElementsOf(java.util.stream.LongStream.rangeClosed(3, 32).boxed().toList());
        assertThat(limited.overBudget()).isFalse();
        assertThat(all.entries()).hasSize(40);
        assertThat(all.overBudget()).isFalse();
    }

    @Test
    void aBoundedScanOfLargeDiffsStopsAtItsByteBudgetButReturnsAtLeastOne() {
        ShardId shard = ShardId.random();
        rawEntries(shard, 400, 400, 400, 400, 400, 5_000, 400, 400, 400, 400, 400, 400);

        StateVersions.BoundedScan budgeted = await(stateVersions().scanWithin(shard, SeqNo.MIN, 1000, 1_000));
        StateVersions.BoundedScan oversized = await(stateVersions().scanWithin(shard, SeqNo.of(6), 1000, 1_000));
        StateVersions.BoundedScan afterIt = await(stateVersions().scanWithin(shard, SeqNo.of(7), 1000, 1_000));

        assertThat(budgeted.entries()).extracting(e -> e.seqno().value()).containsExactly(1L, 2L);
        assertThat(budgeted.overBudget()).isTrue();
        assertThat(oversized.entries()).extracting(e -> e.seqno().value()).containsExactly(6L);
        assertThat(oversized.overBudget()).isTrue();
        assertThat(afterIt.entries()).extracting(e -> e.seqno().value()).containsExactly(7L, 8L);
    }

    // ----------------------------------------------------------------------------------------- rollups

    @Test
    void writeRollupForStateIsANoopAtTheLatestRollup() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State initial = await(sv.maybeInitShard(shard, CODECS));
        List<String> blobs = blobKeys(shard);

        assertThat(await(sv.writeRollupForState(initial, RollupId.random()))).isEmpty();

        assertThat(reported).containsExactly("rollup_write_noop(latest)");
        assertThat(blobKeys(shard)).isEqualTo(blobs);
    }

    @Test
    void writeRollupForStateInlinesTheDiffsSinceTheLatestRollup() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State state = await(sv.maybeInitShard(shard, CODECS));
        for (int i = 0; i < 3; i++) {
            state = append(sv, state, 10L * i, 10L * (i + 1));
        }
        RollupId id = RollupId.random();

        EncodedRollup rollup = await(sv.writeRollupForState(state, id)).orElseThrow();

        assertThat(rollup.key()).isEqualTo(new PartialRollupKey(SeqNo.of(4), id));
        StateCodec.DecodedRollup decoded = sv.codec().decodeRollup(shard, await(blob().get(rollup.key().complete(shard)))
                .orElseThrow());
        assertThat(decoded.state()).isEqualTo(state);
        StateCodec.InlinedDiffs inlined = decoded.diffs().orElseThrow();
        assertThat(inlined.lower()).isEqualTo(SeqNo.of(2));
        assertThat(inlined.upper()).isEqualTo(SeqNo.of(5));
        assertThat(inlined.diffs()).isEqualTo(scan(shard).subList(1, 4));
    }

    /**
     * A maintenance task far behind: its state (at v4, latest rollup v1) is older than the earliest live diff
     * after another process rolled up and GC truncated. Nothing is written.
     */
    @Test
    void writeRollupForStateIsANoopOnceTheDiffsAreTruncated() {
        ShardId shard = ShardId.random();
        StateVersions sv = stateVersions();
        State state = await(sv.maybeInitShard(shard, CODECS));
        for (int i = 0; i < 3; i++) {
            state = append(sv, state, 10L * i, 10L * (i + 1));
        }
        State behind = state;
        state = append(sv, state, 30, 40);
        rollUp(sv, state);
        await(sv.deleteRollup(shard, behind.latestRollup().getValue().key()));
        await(sv.truncateDiffs(shard, SeqNo.of(5)));
        List<String> blobs = blobKeys(shard);

        assertThat(await(sv.writeRollupForState(behind, RollupId.random()))).isEmpty();

        assertThat(reported).containsExactly("rollup_write_noop(truncated)");
        assertThat(blobKeys(shard)).isEqualTo(blobs);
    }

    // ----------------------------------------------------------------------------------------- helpers

    /** The refetch budget of the tests whose rollup stays missing: short, so that they are quick. */
    private static final long REFETCH_BUDGET_MS = 200;

    /**
     * {@code fetch} of a rollup ({@code missingKey}, named by the live versions {@code liveRange}) that stays missing:
     * it fails once the budget is spent, not before and not much later, with an error naming the shard (in the key),
     * the rollup, the range and the likely cause, and reads Blob no more. Its refetches: the first ones at once, then
     * after sleeps of persist's backoff (4 ms doubling, jittered by at most 10%), the last sleep cut to end at the
     * budget; then one give-up.
     */
    private void assertGivesUpWithinTheBudget(Supplier<CompletableFuture<?>> fetch, String op, String missingKey,
            String liveRange, CountingBlob counted) {
        sleeps.clear();
        long start = System.nanoTime();
        assertThatThrownBy(() -> await(fetch.get()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining(missingKey)
                .hasMessageContaining("live versions " + liveRange)
                .hasMessageContaining("is this replica configured with the same blob store as the others");
        long elapsedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

        assertThat(elapsedMs).isBetween(REFETCH_BUDGET_MS, REFETCH_BUDGET_MS + 5_000);
        counted.assertGetsStopped();
        long refetches = reported.stream().filter(r -> r.equals("stale_rollup_refetch(" + op + ")")).count();
        assertThat(refetches).isEqualTo(RefetchBudget.IMMEDIATE_REFETCHES + sleeps.size());
        assertThat(sleeps).isNotEmpty();
        for (int i = 0; i < sleeps.size() - 1; i++) {
            double backoffMs = 4 << i;
            assertThat(sleeps.get(i).toNanos() / 1e6).as("sleep %d of %s", i, sleeps)
                    .isBetween(backoffMs * RetryPolicy.MIN_JITTER, backoffMs * RetryPolicy.MAX_JITTER);
        }
        assertThat(reported).containsOnlyOnce("stale_rollup_gave_up(" + op + ", budget)")
                .doesNotContain("stale_rollup_gave_up(" + op + ", caller_done)");
        assertThat(retried).isEmpty();
    }

    private State append(StateVersions sv, State state, long lower, long upper) {
        HollowBatch batch = HollowBatch.empty(new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN));
        return commit(sv, state, Command.COMPARE_AND_APPEND, Commands.compareAndAppend(batch, WRITER,
                IdempotencyToken.random(), new HandleDebug("h", "test"), NOW_MS, CFG.writerLeaseDurationMs(),
                CFG.inlineWritesTotalMaxBytes()));
    }

    private static final WriterId WRITER = WriterId.random();

    /** Writes a rollup of {@code state} and links it; returns the state after add_rollup. */
    private State rollUp(StateVersions sv, State state) {
        EncodedRollup rollup = await(sv.writeRollupForState(state, RollupId.random())).orElseThrow();
        return commit(sv, state, Command.ADD_ROLLUP, Commands.addRollup(rollup.seqno(), rollup.toHollow()));
    }

    private State commit(StateVersions sv, State prev, Command cmd, Transition.Work<?> work) {
        Transition<?> t = Transition.computeNext(prev, CFG, NOW_MS, "h", cmd, work);
        assertThat(t).as("%s on %s", cmd, prev.seqno()).isInstanceOf(Transition.Committable.class);
        Transition.Committable<?> c = (Transition.Committable<?>) t;
        assertThat(await(sv.tryCompareAndSetCurrent(cmd, Optional.of(prev.seqno()), c.state(), c.diff())).result())
                .isEqualTo(CasResult.COMMITTED);
        return c.state();
    }

    private List<VersionedData> scan(ShardId shard) {
        return await(consensus().scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
    }

    private List<String> blobKeys(ShardId shard) {
        TreeSet<String> keys = new TreeSet<>();
        await(blob().list(shard + "/", m -> {
            synchronized (keys) {
                keys.add(m.key());
            }
        }));
        return List.copyOf(keys);
    }

    private static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw new CompletionException(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
