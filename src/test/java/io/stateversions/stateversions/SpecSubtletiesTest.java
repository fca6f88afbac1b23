package io.stateversions.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.codec.VersionFenceException;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Codecs;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Transition;
import io.stateversions.core.Version;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.CasResult;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Spec §22, point by point: each test fails if its subtlety is dropped. Points covered elsewhere:
 * <ul>
 *   <li>5 (GC order; the migration fallback of {@code fetchRollupAtSeqno}): the state-versions scripts
 *       ({@code src/test/resources/scripts/state-versions}); the GC itself is maintenance's;</li>
 *   <li>6 (an init CaS that loses to itself): {@code StateVersionsTest};</li>
 *   <li>7, 8 (monotone "applied", compare_and_append idempotency across retries): the machine's retry loop, with
 *       the token and writer-upper checks of {@code Commands.compareAndAppend} tested in {@code CommandsTest};</li>
 *   <li>9, 10, 11, 12 (since downgrades, expiry and since, walltime, tombstones): {@code CommandsTest} and
 *       {@code TransitionTest};</li>
 *   <li>14, 16 (truncate errors, the classic Consensus API): {@code ConsensusContractTest}.</li>
 * </ul>
 */
class SpecSubtletiesTest {

    private static final Codecs CODECS = new Codecs("k", "v", "u64", "i64");
    private static final Version BUILD = Version.parse("0.1.0");

    private final MemoryConsensus consensus = new MemoryConsensus();
    private final MemoryBlob blob = new MemoryBlob(false);
    private final AtomicLong clock = new AtomicLong(1_000);
    private final PersistConfig cfg = PersistConfig.defaults(BUILD).withValidateTransitions(true);
    private final StateVersions versions = stateVersions(cfg);
    private final ShardId shard = ShardId.random();

    private StateVersions stateVersions(PersistConfig config) {
        return new StateVersions(config, consensus, blob,
                new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
                StateVersionsMetrics.NONE, clock::get, "host");
    }

    private <R> Transition.Committable<R> next(State prev, Command cmd, Transition.Work<R> work) {
        return next(cfg, prev, cmd, work);
    }

    private <R> Transition.Committable<R> next(PersistConfig config, State prev, Command cmd,
            Transition.Work<R> work) {
        Transition<R> t = Transition.computeNext(prev, config, clock.get(), "host", cmd, work);
        assertThat(t).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<R>) t;
    }

    private State commit(State prev, Command cmd, Transition.Work<?> work) {
        Transition.Committable<?> t = next(prev, cmd, work);
        assertThat(versions.tryCompareAndSetCurrent(cmd, Optional.of(prev.seqno()), t.state(), t.diff()).join()
                .result()).isEqualTo(CasResult.COMMITTED);
        return t.state();
    }

    private static Transition.Work<?> append(State state, long upper) {
        HollowBatch batch = HollowBatch.of(new Description(state.upper(), Frontier.of(upper), Frontier.MIN), 1,
                List.of(BatchPart.Hollow.of(new PartialBatchKey(WriterKey.ofVersion(BUILD), PartId.random()), 10)));
        return Commands.compareAndAppend(batch, WRITER, IdempotencyToken.random(), new HandleDebug("host", "test"),
                1_000, 60_000, 1 << 20);
    }

    private static final WriterId WRITER = WriterId.random();

    @Test
    void p1_theDiffIsComputedLastSoExpiryAndMaintenanceAssignmentArePersisted() {
        State s = versions.maybeInitShard(shard, CODECS).join();
        s = commit(s, Command.REGISTER, Commands.registerLeasedReader(LeasedReaderId.random(),
                new HandleDebug("host", "test"), 10, clock.get()));
        clock.addAndGet(1_000); // the reader's 10 ms lease has lapsed
        Transition.Committable<?> t = next(cfg.withRollupThreshold(1), s, Command.COMPARE_AND_APPEND, append(s, 5));

        assertThat(t.readersExpired()).isEqualTo(1);
        assertThat(t.maintenance().writeRollup()).contains(t.state().seqno()); // d = 2 > threshold 1
        assertThat(t.state().collections().leasedReaders()).isEmpty();
        assertThat(t.state().collections().activeRollup()).isPresent();
        // What is stored is the diff: decoded and applied to the previous state it must give the whole next state.
        StateDiff stored = versions.codec().decodeDiff(shard, versions.codec().encodeDiff(t.diff()));
        assertThat(stored.apply(s)).isEqualTo(t.state());
        assertThat(stored.leasedReaders()).hasSize(1);
        assertThat(stored.activeRollup()).hasSize(1);
    }

    @Test
    void p2_aLostCasWritesNothingAndTheLoserRecomputesFromTheWinnersState() {
        State base = versions.maybeInitShard(shard, CODECS).join();
        State winner = commit(base, Command.COMPARE_AND_APPEND, append(base, 5));

        Transition.Committable<?> stale = next(base, Command.COMPARE_AND_APPEND, append(base, 7));
        assertThat(versions.tryCompareAndSetCurrent(Command.COMPARE_AND_APPEND, Optional.of(base.seqno()),
                stale.state(), stale.diff()).join().result()).isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(consensus.head(shard.toString()).toCompletableFuture().join().orElseThrow().seqno())
                .isEqualTo(winner.seqno());

        // Refresh, then run the work function again on the fresh state: never reuse the old diff.
        State refreshed = versions.applyEncodedDiffs(base,
                versions.fetchAllLiveDiffsGtSeqno(shard, base.seqno()).join());
        assertThat(refreshed).isEqualTo(winner);
        State recomputed = commit(refreshed, Command.COMPARE_AND_APPEND, append(refreshed, 7));
        assertThat(recomputed.collections().trace().batches()).hasSize(2);
        assertThat(recomputed.upper()).isEqualTo(Frontier.of(7));
    }

    @Test
    void p3_theFirstStepOfLiveStatesAppliesNothing() {
        State s = versions.maybeInitShard(shard, CODECS).join();
        s = commit(s, Command.COMPARE_AND_APPEND, append(s, 5));
        StateVersionsIter iter = versions.fetchAllLiveStates(shard).join().orElseThrow();
        State initial = iter.state();
        List<InspectDiff> steps = new ArrayList<>();

        assertThat(iter.next(steps::add)).contains(initial);
        assertThat(steps.get(0)).isEqualTo(new InspectDiff.FromInitial(initial));
        assertThat(iter.next(steps::add)).contains(s);
        assertThat(steps.get(1)).isInstanceOf(InspectDiff.Diff.class);
        assertThat(iter.next()).isEmpty();
    }

    @Test
    void p4_aMissingRollupMeansTheHintIsStaleAndIsRefetched() {
        State s = versions.maybeInitShard(shard, CODECS).join();
        for (long upper = 1; upper <= 3; upper++) {
            s = commit(s, Command.COMPARE_AND_APPEND, append(s, upper));
        }
        List<VersionedData> staleHint = versions.fetchRecentLiveDiffs(shard).join();
        // A rollup at the head, linked, then what GC does: delete the old rollup, truncate.
        EncodedRollup rollup = versions.writeRollupForState(s, RollupId.random()).join().orElseThrow();
        s = commit(s, Command.ADD_ROLLUP, Commands.addRollup(rollup.seqno(), rollup.toHollow()));
        SeqNo first = s.collections().rollups().firstKey();
        versions.deleteRollup(shard, s.collections().rollups().get(first).key()).join();
        versions.truncateDiffs(shard, rollup.seqno()).join();

        assertThat(versions.fetchCurrentState(shard, staleHint).join()).isEqualTo(s);
    }

    @Test
    void p13_applyingEncodedDiffsSkipsAllButTheConsecutiveOnes() {
        State v1 = versions.maybeInitShard(shard, CODECS).join();
        State v2 = commit(v1, Command.COMPARE_AND_APPEND, append(v1, 1));
        State v3 = commit(v2, Command.COMPARE_AND_APPEND, append(v2, 2));
        List<VersionedData> all = versions.fetchAllLiveDiffs(shard).join();

        assertThat(versions.applyEncodedDiffs(v1, all.subList(2, 3))).isEqualTo(v1); // a gap: no progress
        assertThat(versions.applyEncodedDiffs(v1, all)).isEqualTo(v3); // v1 itself is skipped
        assertThat(versions.applyEncodedDiffs(v3, all)).isEqualTo(v3);
    }

    @Test
    void p15_stateWrittenByTooNewACodeVersionIsRefused() {
        StateVersions newer = stateVersions(cfg.withBuildVersion(Version.parse("0.3.0")));
        newer.maybeInitShard(shard, CODECS).join();
        StateVersions oneMinorBehind = stateVersions(cfg.withBuildVersion(Version.parse("0.2.7")));

        assertThat(oneMinorBehind.maybeInitShard(shard, CODECS).join().collections().version())
                .isEqualTo(Version.parse("0.3.0"));
        assertThatThrownBy(() -> versions.maybeInitShard(shard, CODECS).join())
                .hasCauseInstanceOf(VersionFenceException.class)
                .hasMessageContaining("0.3.0").hasMessageContaining(shard.toString());
        assertThat(consensus.scan(shard.toString(), SeqNo.MIN, 10).toCompletableFuture().join()).hasSize(1);
    }
}
