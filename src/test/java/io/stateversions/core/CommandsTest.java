package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.desc;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.inlinePart;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.rollup;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.testing.TestStates;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class CommandsTest {

    private static final long LEASE_MS = 60_000;
    private static final long INLINE_MAX = 100;

    private static <R> Transition<R> run(State prev, Command cmd, Transition.Work<R> work, long nowMs) {
        return Transition.computeNext(prev, config(), nowMs, HOST, cmd, work);
    }

    private static <R> Transition.Committable<R> committed(Transition<R> transition) {
        assertThat(transition).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<R>) transition;
    }

    private static <R> R broke(Transition<R> transition) {
        assertThat(transition).isInstanceOf(Transition.Broke.class);
        return transition.result();
    }

    private static LeasedReaderState reader(long seqno, Frontier since) {
        return new LeasedReaderState(SeqNo.of(seqno), since, 1_000, LEASE_MS, DEBUG);
    }

    // ---------------------------------------------------------------------------------------- add_rollup

    @Test
    void addRollupInsertsAndClearsTheActiveRollup() {
        State prev = with(at(initial(), 5), c -> c.activeRollup(Optional.of(new ActiveMarker(SeqNo.of(5), 0))));
        HollowRollup r5 = rollup(5);

        Transition.Committable<Commands.AddRollupResult> next =
                committed(run(prev, Command.ADD_ROLLUP, Commands.addRollup(SeqNo.of(5), r5), 0));

        assertThat(next.result().applied()).isTrue();
        assertThat(next.state().collections().rollups()).containsEntry(SeqNo.of(5), r5);
        assertThat(next.state().latestRollup().getValue()).isEqualTo(r5);
        assertThat(next.state().collections().activeRollup()).isEmpty();
        assertThat(next.diff().latestRollupKey()).isEqualTo(r5.key());
    }

    @Test
    void addRollupOfTheSameKeyIsAppliedAndStillCommits() {
        HollowRollup r5 = rollup(5);
        ActiveMarker marker = new ActiveMarker(SeqNo.of(6), 0);
        State prev = with(at(initial(), 6), c -> {
            c.mutableRollups().put(SeqNo.of(5), r5);
            c.activeRollup(Optional.of(marker));
        });

        Transition.Committable<Commands.AddRollupResult> next =
                committed(run(prev, Command.ADD_ROLLUP, Commands.addRollup(SeqNo.of(5), r5), 0));

        assertThat(next.result().applied()).isTrue();
        assertThat(next.state().collections().rollups()).isEqualTo(prev.collections().rollups());
        assertThat(next.diff().rollups()).isEmpty();
    }

    @Test
    void addRollupOfAnotherKeyAtTheSameSeqnoIsNotAppliedButCommits() {
        HollowRollup r5 = rollup(5);
        State prev = with(at(initial(), 6), c -> c.mutableRollups().put(SeqNo.of(5), r5));

        Transition.Committable<Commands.AddRollupResult> next =
                committed(run(prev, Command.ADD_ROLLUP, Commands.addRollup(SeqNo.of(5), rollup(5)), 0));

        assertThat(next.result().applied()).isFalse();
        assertThat(next.state().collections().rollups()).containsEntry(SeqNo.of(5), r5);
    }

    @Test
    void addRollupBelowTheOldestRollupInStateIsNotAppliedButCommits() {
        // GC removed v5 (and deleted its blob once it truncated past the removal): v8 is the oldest rollup left.
        HollowRollup r8 = rollup(8);
        State prev = with(at(initial(), 12), c -> {
            c.mutableRollups().clear();
            c.mutableRollups().put(SeqNo.of(8), r8);
        });

        Transition.Committable<Commands.AddRollupResult> next =
                committed(run(prev, Command.ADD_ROLLUP, Commands.addRollup(SeqNo.of(5), rollup(5)), 0));

        assertThat(next.result().applied()).isFalse();
        assertThat(next.state().collections().rollups()).containsOnlyKeys(SeqNo.of(8));
        assertThat(next.diff().rollups()).isEmpty();
    }

    @Test
    void addRollupRejectsAKeyForAnotherSeqno() {
        assertThatThrownBy(() -> run(at(initial(), 6), Command.ADD_ROLLUP,
                Commands.addRollup(SeqNo.of(5), rollup(4)), 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void addRollupCommitsOnATombstone() {
        State tombstone = StateTest.tombstone(5);
        HollowRollup r5 = rollup(5);

        Transition.Committable<Commands.AddRollupResult> next =
                committed(run(tombstone, Command.ADD_ROLLUP, Commands.addRollup(SeqNo.of(5), r5), 0));

        assertThat(next.state().latestRollup().getValue()).isEqualTo(r5);
        assertThat(next.maintenance().garbageCollection()).isPresent();
    }

    // ---------------------------------------------------------------------------------------- remove_rollups

    @Test
    void removeRollupsOfNothingBreaks() {
        assertThat(broke(run(initial(), Command.REMOVE_ROLLUPS, Commands.removeRollups(List.of()), 0))).isEmpty();
    }

    @Test
    void removeRollupsRemovesMatchingKeysAndClearsTheActiveGc() {
        State initial = at(initial(), 10);
        HollowRollup r1 = initial.latestRollup().getValue();
        HollowRollup r5 = rollup(5);
        HollowRollup r9 = rollup(9);
        State prev = with(initial, c -> {
            c.mutableRollups().put(SeqNo.of(5), r5);
            c.mutableRollups().put(SeqNo.of(9), r9);
            c.activeGc(Optional.of(new ActiveMarker(SeqNo.of(8), 0)));
        });

        Transition.Committable<List<SeqNo>> next = committed(run(prev, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(List.of(Map.entry(SeqNo.of(1), r1.key()),
                        Map.entry(SeqNo.of(5), rollup(5).key()), Map.entry(SeqNo.of(7), rollup(7).key()))), 0));

        assertThat(next.result()).containsExactly(SeqNo.of(1));
        assertThat(next.state().collections().rollups()).containsOnlyKeys(SeqNo.of(5), SeqNo.of(9));
        assertThat(next.state().collections().activeGc()).isEmpty();
        assertThat(next.diff().rollupDeletes()).containsExactly(r1);
    }

    /** A second GC finishing work already done (another replica's, or a resumed one) commits no version. */
    @Test
    void removeRollupsOfRollupsAlreadyGoneBreaksUnlessAnActiveGcIsLeftToClear() {
        State initial = at(initial(), 10);
        HollowRollup r9 = rollup(9);
        State prev = with(initial, c -> c.mutableRollups().put(SeqNo.of(9), r9));
        List<Map.Entry<SeqNo, PartialRollupKey>> gone = List.of(Map.entry(SeqNo.of(5), rollup(5).key()));

        assertThat(broke(run(prev, Command.REMOVE_ROLLUPS, Commands.removeRollups(gone), 0))).isEmpty();

        State marked = with(prev, c -> c.activeGc(Optional.of(new ActiveMarker(SeqNo.of(8), 0))));
        Transition.Committable<List<SeqNo>> cleared = committed(run(marked, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(gone), 0));
        assertThat(cleared.result()).isEmpty();
        assertThat(cleared.state().collections().activeGc()).isEmpty();
    }

    @Test
    void removeRollupsNeverRemovesTheLastOne() {
        State prev = initial();
        HollowRollup r1 = prev.latestRollup().getValue();

        assertThatThrownBy(() -> run(prev, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(List.of(Map.entry(SeqNo.of(1), r1.key()))), 0))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("no rollup");
    }

    /**
     * GC is always assigned on a tombstone, and removing rollups is its last step; on a tombstone that step writes
     * nothing (persist breaks too), since nothing but maintenance may commit there.
     */
    @Test
    void removeRollupsOnATombstoneBreaks() {
        HollowRollup r1 = initial().latestRollup().getValue();
        State tombstone = with(StateTest.tombstone(10), c -> {
            c.mutableRollups().put(SeqNo.of(1), r1);
            c.mutableRollups().put(SeqNo.of(9), rollup(9));
        });

        assertThat(broke(run(tombstone, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(List.of(Map.entry(SeqNo.of(1), r1.key()))), 0))).isEmpty();
    }

    // ---------------------------------------------------------------------------------------- readers

    @Test
    void aRegisteredReaderHoldsTheNewSeqnoAndTheShardSince() {
        State prev = with(at(initial(), 5), c -> {
            c.trace(c.trace().withSince(Frontier.of(3)));
            c.mutableLeasedReaders().put(LeasedReaderId.random(), reader(2, Frontier.of(3)));
        });
        LeasedReaderId id = LeasedReaderId.random();

        Transition.Committable<Commands.RegisteredReader> next = committed(run(prev, Command.REGISTER,
                Commands.registerLeasedReader(id, DEBUG, LEASE_MS, 4_000), 4_000));

        LeasedReaderState expected = new LeasedReaderState(SeqNo.of(6), Frontier.of(3), 4_000, LEASE_MS, DEBUG);
        assertThat(next.result()).isEqualTo(new Commands.RegisteredReader(expected, SeqNo.of(2)));
        assertThat(next.state().collections().leasedReaders()).containsEntry(id, expected);
    }

    @Test
    void registeringAReaderAgainKeepsItsHoldAndSinceAndOnlyHeartbeatsIt() {
        LeasedReaderId id = LeasedReaderId.random();
        State prev = with(at(initial(), 5), c -> {
            c.trace(c.trace().withSince(Frontier.of(3)));
            c.mutableLeasedReaders().put(id, reader(2, Frontier.of(4)));
        });
        HandleDebug debug = new HandleDebug("host", "again");

        Transition.Committable<Commands.RegisteredReader> next = committed(run(prev, Command.REGISTER,
                Commands.registerLeasedReader(id, debug, 2 * LEASE_MS, 4_000), 4_000));

        LeasedReaderState expected = new LeasedReaderState(SeqNo.of(2), Frontier.of(4), 4_000, 2 * LEASE_MS, debug);
        assertThat(next.result()).isEqualTo(new Commands.RegisteredReader(expected, SeqNo.of(2)));
        assertThat(next.state().collections().leasedReaders()).containsOnly(Map.entry(id, expected));
        assertThat(next.state().collections().trace().since()).isEqualTo(Frontier.of(3));
        // A heartbeat older than the reader's last one does not move it back.
        Transition.Committable<Commands.RegisteredReader> stale = committed(run(next.state(), Command.REGISTER,
                Commands.registerLeasedReader(id, debug, 2 * LEASE_MS, 3_000), 3_000));
        assertThat(stale.result().reader().lastHeartbeatTimestampMs()).isEqualTo(4_000);
    }

    // ---------------------------------------------------------------------------------------- handle limit

    /** A shard with a leased reader (heartbeat 1,000), a critical reader and a writer (heartbeat 2,000). */
    private static State threeHandles() {
        return with(at(initial(), 5), c -> {
            c.mutableLeasedReaders().put(READER, reader(2, Frontier.MIN));
            c.mutableCriticalReaders().put(CRITICAL, new CriticalReaderState(Frontier.MIN, 0, "u64", DEBUG));
            c.mutableWriters().put(WRITER, new WriterState(2_000, LEASE_MS, IdempotencyToken.SENTINEL, Frontier.MIN,
                    DEBUG));
        });
    }

    @Test
    void aNewHandleBeyondTheLimitIsRefusedWithTheCountsAndChangesNothing() {
        State prev = threeHandles();
        long now = 3_000;

        assertThatThrownBy(() -> run(prev, Command.REGISTER, Commands.withHandleLimit(3, now,
                Commands.registerLeasedReader(OTHER, DEBUG, LEASE_MS, now)), now))
                .isInstanceOfSatisfying(HandleLimitException.class, e -> {
                    assertThat(e.handles()).isEqualTo(3);
                    assertThat(e.maxHandles()).isEqualTo(3);
                    assertThat(e.getMessage()).contains("3 live handles").contains("at most 3");
                });
        assertThatThrownBy(() -> run(prev, Command.REGISTER, Commands.withHandleLimit(3, now,
                Commands.registerWriter(WriterId.random(), DEBUG, LEASE_MS, now)), now))
                .isInstanceOf(HandleLimitException.class);
        // Within the limit, the wrapper is the command itself.
        assertThat(committed(run(prev, Command.REGISTER, Commands.withHandleLimit(4, now,
                Commands.registerLeasedReader(OTHER, DEBUG, LEASE_MS, now)), now)).state().collections()
                .leasedReaders()).containsKeys(READER, OTHER);
    }

    @Test
    void aHandleThatIsAlreadyThereNeverCountsAgainstTheLimit() {
        State prev = threeHandles();
        long now = 3_000;

        committed(run(prev, Command.REGISTER, Commands.withHandleLimit(1, now,
                Commands.registerLeasedReader(READER, DEBUG, LEASE_MS, now)), now));
        committed(run(prev, Command.REGISTER, Commands.withHandleLimit(1, now,
                Commands.registerWriter(WRITER, DEBUG, LEASE_MS, now)), now));
        committed(run(prev, Command.HEARTBEAT_READER, Commands.withHandleLimit(1, now,
                Commands.heartbeatLeasedReader(READER, now)), now));
    }

    @Test
    void handlesWhoseLeaseLapsedMakeRoomBecauseThisCommitRemovesThem() {
        State prev = threeHandles();
        long readerLapsed = 1_000 + LEASE_MS + 1; // the leased reader's lease ran out, the writer's did not

        Transition.Committable<Commands.RegisteredReader> next = committed(run(prev, Command.REGISTER,
                Commands.withHandleLimit(3, readerLapsed, Commands.registerLeasedReader(OTHER, DEBUG, LEASE_MS,
                        readerLapsed)), readerLapsed));

        assertThat(next.state().collections().leasedReaders()).containsOnlyKeys(OTHER);
        assertThat(next.readersExpired()).isEqualTo(1);
        assertThatThrownBy(() -> run(next.state(), Command.REGISTER, Commands.withHandleLimit(3, readerLapsed,
                Commands.registerWriter(WriterId.random(), DEBUG, LEASE_MS, readerLapsed)), readerLapsed))
                .isInstanceOf(HandleLimitException.class);
    }

    @Test
    void registeringOnATombstoneBreaksWithAClosedSince() {
        Commands.RegisteredReader result = broke(run(StateTest.tombstone(5), Command.REGISTER,
                Commands.registerLeasedReader(LeasedReaderId.random(), DEBUG, LEASE_MS, 0), 0));

        assertThat(result.reader().since()).isEqualTo(Frontier.EMPTY);
    }

    private static final LeasedReaderId READER = LeasedReaderId.random();
    private static final LeasedReaderId OTHER = LeasedReaderId.random();

    /** Two readers at {5} and {6}; the shard since is their meet {5}. */
    private static State twoReaders() {
        return with(at(initial(), 5), c -> {
            c.trace(c.trace().withSince(Frontier.of(5)));
            c.mutableLeasedReaders().put(READER, reader(2, Frontier.of(5)));
            c.mutableLeasedReaders().put(OTHER, reader(3, Frontier.of(6)));
        });
    }

    private static Transition<Frontier> downgrade(State prev, Frontier since, long heartbeatMs) {
        return run(prev, Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(READER, Optional.empty(), since, heartbeatMs), heartbeatMs);
    }

    @Test
    void downgradeSinceAdvancesTheReaderAndTheShardToTheMeet() {
        Transition.Committable<Frontier> next = committed(downgrade(twoReaders(), Frontier.of(9), 2_000));

        assertThat(next.result()).isEqualTo(Frontier.of(9));
        LeasedReaderState reader = next.state().collections().leasedReaders().get(READER);
        assertThat(reader.since()).isEqualTo(Frontier.of(9));
        assertThat(reader.seqno()).isEqualTo(SeqNo.of(6));
        assertThat(reader.lastHeartbeatTimestampMs()).isEqualTo(2_000);
        assertThat(next.state().since()).isEqualTo(Frontier.of(6));
    }

    @Test
    void downgradeSinceToAnEqualSinceChangesNothingButStillCommits() {
        Transition.Committable<Frontier> next = committed(downgrade(twoReaders(), Frontier.of(5), 2_000));

        assertThat(next.result()).isEqualTo(Frontier.of(5));
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
        assertThat(next.state().collections().leasedReaders().get(READER).since()).isEqualTo(Frontier.of(5));
        assertThat(next.diff().since()).isEmpty();
    }

    @Test
    void downgradeSinceNeverRegresses() {
        Transition.Committable<Frontier> next = committed(downgrade(twoReaders(), Frontier.of(1), 2_000));

        assertThat(next.result()).isEqualTo(Frontier.of(5));
        assertThat(next.state().collections().leasedReaders().get(READER).since()).isEqualTo(Frontier.of(5));
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    @Test
    void theShardSinceNeverRegressesBelowItself() {
        State prev = with(twoReaders(), c -> c.mutableCriticalReaders().put(CriticalReaderId.random(),
                new CriticalReaderState(Frontier.of(4), 0, "u64", DEBUG)));

        Transition.Committable<Frontier> next = committed(downgrade(prev, Frontier.of(9), 2_000));

        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    @Test
    void downgradeSinceKeepsTheLaterHeartbeat() {
        Transition.Committable<Frontier> next = committed(downgrade(twoReaders(), Frontier.of(9), 500));

        assertThat(next.state().collections().leasedReaders().get(READER).lastHeartbeatTimestampMs())
                .isEqualTo(1_000);
    }

    @Test
    void downgradeSinceHoldsTheOutstandingSeqno() {
        Transition.Committable<Frontier> next = committed(run(twoReaders(), Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(READER, Optional.of(SeqNo.of(4)), Frontier.of(9), 2_000), 2_000));

        assertThat(next.state().collections().leasedReaders().get(READER).seqno()).isEqualTo(SeqNo.of(4));
        assertThatThrownBy(() -> run(twoReaders(), Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(READER, Optional.of(SeqNo.of(1)), Frontier.of(9), 2_000), 2_000))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void downgradeSinceOfAMissingReaderBreaksWithAClosedSince() {
        Transition<Frontier> t = run(twoReaders(), Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(LeasedReaderId.random(), Optional.empty(), Frontier.of(9), 0), 0);

        assertThat(broke(t)).isEqualTo(Frontier.EMPTY);
    }

    @Test
    void expiringTheReaderWithTheLeastSinceDoesNotAdvanceTheShardSince() {
        Transition.Committable<Boolean> next = committed(run(twoReaders(), Command.EXPIRE_READER,
                Commands.expireLeasedReader(READER), 2_000));

        assertThat(next.result()).isTrue();
        assertThat(next.state().collections().leasedReaders()).containsOnlyKeys(OTHER);
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    @Test
    void aLeaseExpiryDoesNotAdvanceTheShardSince() {
        State prev = with(twoReaders(), c -> c.mutableLeasedReaders().put(READER,
                new LeasedReaderState(SeqNo.of(2), Frontier.of(5), 0, 10, DEBUG)));

        Transition.Committable<String> next = committed(run(prev, Command.HEARTBEAT_READER,
                (seqno, c) -> WorkResult.proceed("ok"), 2_000));

        assertThat(next.state().collections().leasedReaders()).containsOnlyKeys(OTHER);
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    @Test
    void expiringAMissingHandleStillCommits() {
        assertThat(committed(run(twoReaders(), Command.EXPIRE_READER,
                Commands.expireLeasedReader(LeasedReaderId.random()), 0)).result()).isFalse();
        assertThat(committed(run(twoReaders(), Command.EXPIRE_WRITER,
                Commands.expireWriter(WriterId.random()), 0)).result()).isFalse();
    }

    @Test
    void expiringOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.EXPIRE_READER,
                Commands.expireLeasedReader(READER), 0))).isFalse();
        assertThat(broke(run(StateTest.tombstone(5), Command.EXPIRE_WRITER,
                Commands.expireWriter(WriterId.random()), 0))).isFalse();
    }

    @Test
    void aHeartbeatKeepsTheLaterHeartbeatAndCommits() {
        Transition.Committable<Boolean> later = committed(run(twoReaders(), Command.HEARTBEAT_READER,
                Commands.heartbeatLeasedReader(READER, 2_000), 2_000));
        Transition.Committable<Boolean> earlier = committed(run(twoReaders(), Command.HEARTBEAT_READER,
                Commands.heartbeatLeasedReader(READER, 500), 2_000));

        assertThat(later.result()).isTrue();
        assertThat(later.state().collections().leasedReaders().get(READER))
                .isEqualTo(new LeasedReaderState(SeqNo.of(2), Frontier.of(5), 2_000, LEASE_MS, DEBUG));
        assertThat(earlier.result()).isTrue();
        assertThat(earlier.state().seqno()).isEqualTo(SeqNo.of(6));
        assertThat(earlier.state().collections().leasedReaders().get(READER).lastHeartbeatTimestampMs())
                .isEqualTo(1_000);
        assertThat(earlier.diff().leasedReaders()).isEmpty();
    }

    @Test
    void aHeartbeatOfAMissingLeasedReaderBreaks() {
        assertThat(broke(run(twoReaders(), Command.HEARTBEAT_READER,
                Commands.heartbeatLeasedReader(LeasedReaderId.random(), 2_000), 2_000))).isFalse();
    }

    @Test
    void aHeartbeatOfALeasedReaderOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.HEARTBEAT_READER,
                Commands.heartbeatLeasedReader(READER, 2_000), 2_000))).isFalse();
    }

    // ---------------------------------------------------------------------------------------- critical readers

    private static final CriticalReaderId CRITICAL = CriticalReaderId.random();
    private static final CriticalReaderId CRITICAL_OTHER = CriticalReaderId.random();
    private static final HandleDebug OTHER_DEBUG = new HandleDebug("host-b", "other");

    private static CriticalReaderState critical(Frontier since, long opaque) {
        return new CriticalReaderState(since, opaque, "u64", DEBUG);
    }

    /** CRITICAL at {5} with token 1, the leased OTHER at {8}; the shard since is their meet {5}. */
    private static State criticalAndLeased() {
        return with(at(initial(), 5), c -> {
            c.trace(c.trace().withSince(Frontier.of(5)));
            c.mutableCriticalReaders().put(CRITICAL, critical(Frontier.of(5), 1));
            c.mutableLeasedReaders().put(OTHER, reader(3, Frontier.of(8)));
        });
    }

    private static Transition<CompareAndDowngradeResult> compareAndDowngrade(State prev, long expected,
            long newOpaque, Frontier since) {
        return run(prev, Command.COMPARE_AND_DOWNGRADE_SINCE,
                Commands.compareAndDowngradeSince(CRITICAL, expected, newOpaque, since), 2_000);
    }

    @Test
    void aNewCriticalReaderStartsAtTheShardSinceWithTheInitialToken() {
        State prev = with(at(initial(), 5), c -> c.trace(c.trace().withSince(Frontier.of(3))));

        Transition.Committable<RegisterCriticalResult> next = committed(run(prev, Command.REGISTER,
                Commands.registerCriticalReader(CRITICAL, DEBUG, "u64", 7), 2_000));

        CriticalReaderState expected = new CriticalReaderState(Frontier.of(3), 7, "u64", DEBUG);
        assertThat(next.result()).isEqualTo(new RegisterCriticalResult.Registered(expected));
        assertThat(next.state().collections().criticalReaders()).containsExactly(Map.entry(CRITICAL, expected));
        assertThat(next.state().since()).isEqualTo(Frontier.of(3));
        assertThat(next.state().seqnoSince()).as("a critical reader holds no seqno").isEqualTo(SeqNo.of(6));
    }

    @Test
    void registeringACriticalReaderAgainOnlyUpdatesItsDebug() {
        State prev = with(criticalAndLeased(), c -> c.trace(c.trace().withSince(Frontier.of(3))));

        Transition.Committable<RegisterCriticalResult> next = committed(run(prev, Command.REGISTER,
                Commands.registerCriticalReader(CRITICAL, OTHER_DEBUG, "u64", 0), 2_000));

        CriticalReaderState expected = new CriticalReaderState(Frontier.of(5), 1, "u64", OTHER_DEBUG);
        assertThat(next.result()).isEqualTo(new RegisterCriticalResult.Registered(expected));
        assertThat(next.state().collections().criticalReaders().get(CRITICAL)).isEqualTo(expected);
        assertThat(next.state().since()).isEqualTo(Frontier.of(3));
    }

    @Test
    void registeringAnUnchangedCriticalReaderAgainStillCommits() {
        Transition.Committable<RegisterCriticalResult> next = committed(run(criticalAndLeased(), Command.REGISTER,
                Commands.registerCriticalReader(CRITICAL, DEBUG, "u64", 0), 2_000));

        assertThat(next.result()).isEqualTo(new RegisterCriticalResult.Registered(critical(Frontier.of(5), 1)));
        assertThat(next.state().seqno()).isEqualTo(SeqNo.of(6));
        assertThat(next.diff().criticalReaders()).isEmpty();
    }

    @Test
    void registeringACriticalReaderWithAnotherCodecBreaks() {
        assertThat(broke(run(criticalAndLeased(), Command.REGISTER,
                Commands.registerCriticalReader(CRITICAL, OTHER_DEBUG, "i64", 0), 2_000)))
                .isEqualTo(new RegisterCriticalResult.OpaqueCodecMismatch("u64"));
    }

    @Test
    void registeringACriticalReaderOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.REGISTER,
                Commands.registerCriticalReader(CRITICAL, DEBUG, "u64", 0), 2_000)))
                .isEqualTo(new RegisterCriticalResult.Tombstoned());
    }

    @Test
    void compareAndDowngradeSinceSwapsTheTokenAndMovesTheShardSinceToTheMeet() {
        Transition.Committable<CompareAndDowngradeResult> next =
                committed(compareAndDowngrade(criticalAndLeased(), 1, 2, Frontier.of(9)));

        assertThat(next.result()).isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.of(9), 2));
        assertThat(next.state().collections().criticalReaders().get(CRITICAL))
                .isEqualTo(critical(Frontier.of(9), 2));
        assertThat(next.state().since()).as("meet of {9} and the leased {8}").isEqualTo(Frontier.of(8));
    }

    @Test
    void theShardSinceIsTheMeetOfEveryCriticalReader() {
        State prev = with(criticalAndLeased(), c -> {
            c.mutableLeasedReaders().clear();
            c.mutableCriticalReaders().put(CRITICAL_OTHER, critical(Frontier.of(6), 0));
        });

        Transition.Committable<CompareAndDowngradeResult> next =
                committed(compareAndDowngrade(prev, 1, 2, Frontier.of(9)));

        assertThat(next.state().since()).isEqualTo(Frontier.of(6));
    }

    @Test
    void theLastReaderDowngradingToTheEmptyFrontierClosesTheShardToReads() {
        State prev = with(criticalAndLeased(), c -> c.mutableLeasedReaders().clear());

        Transition.Committable<CompareAndDowngradeResult> next =
                committed(compareAndDowngrade(prev, 1, 2, Frontier.EMPTY));

        assertThat(next.result()).isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.EMPTY, 2));
        assertThat(next.state().since()).isEqualTo(Frontier.EMPTY);
    }

    @Test
    void aWrongTokenChangesNothingButStillCommits() {
        State prev = criticalAndLeased();

        Transition.Committable<CompareAndDowngradeResult> next =
                committed(compareAndDowngrade(prev, 7, 2, Frontier.of(9)));

        assertThat(next.result()).isEqualTo(new CompareAndDowngradeResult.OpaqueMismatch(1, Frontier.of(5)));
        assertThat(next.state().seqno()).isEqualTo(SeqNo.of(6));
        assertThat(next.state().collections().criticalReaders()).isEqualTo(prev.collections().criticalReaders());
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
        assertThat(next.diff().criticalReaders()).isEmpty();
        assertThat(next.diff().since()).isEmpty();
    }

    @Test
    void compareAndDowngradeSinceNeverRegressesButStillSwapsTheToken() {
        Transition.Committable<CompareAndDowngradeResult> next =
                committed(compareAndDowngrade(criticalAndLeased(), 1, 2, Frontier.of(2)));

        assertThat(next.result()).isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.of(5), 2));
        assertThat(next.state().collections().criticalReaders().get(CRITICAL))
                .isEqualTo(critical(Frontier.of(5), 2));
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    /**
     * After an expiry the shard since lags the readers' meet (spec §14). A critical reader downgrading to its own
     * since (less or equal) recomputes it; a leased reader doing the same (strictly less) does not.
     */
    @Test
    void criticalDowngradesOnLessOrEqualAndLeasedOnlyOnStrictlyLess() {
        State lagging = with(criticalAndLeased(), c -> c.trace(c.trace().withSince(Frontier.of(3))));

        Transition.Committable<CompareAndDowngradeResult> critical =
                committed(compareAndDowngrade(lagging, 1, 1, Frontier.of(5)));
        Transition.Committable<Frontier> leased = committed(run(lagging, Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(OTHER, Optional.empty(), Frontier.of(8), 2_000), 2_000));

        assertThat(critical.result()).isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.of(5), 1));
        assertThat(critical.state().since()).isEqualTo(Frontier.of(5));
        assertThat(leased.result()).isEqualTo(Frontier.of(8));
        assertThat(leased.state().since()).isEqualTo(Frontier.of(3));
    }

    @Test
    void compareAndDowngradeSinceOfAMissingReaderBreaks() {
        assertThat(broke(run(criticalAndLeased(), Command.COMPARE_AND_DOWNGRADE_SINCE,
                Commands.compareAndDowngradeSince(CriticalReaderId.random(), 1, 2, Frontier.of(9)), 2_000)))
                .isEqualTo(new CompareAndDowngradeResult.ReaderMissing());
    }

    @Test
    void compareAndDowngradeSinceOnATombstoneBreaksWithAClosedSinceWhateverTheToken() {
        assertThat(broke(compareAndDowngrade(StateTest.tombstone(5), 1, 2, Frontier.of(9))))
                .isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.EMPTY, 1));
        assertThat(broke(compareAndDowngrade(StateTest.tombstone(5), 42, 2, Frontier.of(9))))
                .isEqualTo(new CompareAndDowngradeResult.Downgraded(Frontier.EMPTY, 42));
    }

    @Test
    void expiringTheCriticalReaderWithTheLeastSinceDoesNotAdvanceTheShardSince() {
        Transition.Committable<Boolean> next = committed(run(criticalAndLeased(), Command.EXPIRE_CRITICAL_READER,
                Commands.expireCriticalReader(CRITICAL), 2_000));

        assertThat(next.result()).isTrue();
        assertThat(next.state().collections().criticalReaders()).isEmpty();
        assertThat(next.state().since()).isEqualTo(Frontier.of(5));
    }

    @Test
    void expiringAMissingCriticalReaderStillCommits() {
        Transition.Committable<Boolean> next = committed(run(criticalAndLeased(), Command.EXPIRE_CRITICAL_READER,
                Commands.expireCriticalReader(CriticalReaderId.random()), 2_000));

        assertThat(next.result()).isFalse();
        assertThat(next.state().collections().criticalReaders()).containsOnlyKeys(CRITICAL);
    }

    @Test
    void expiringACriticalReaderOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.EXPIRE_CRITICAL_READER,
                Commands.expireCriticalReader(CRITICAL), 0))).isFalse();
    }

    // ---------------------------------------------------------------------------------------- writers

    private static final WriterId WRITER = WriterId.random();

    private static Transition<AppendResult> append(State prev, HollowBatch batch, IdempotencyToken token,
            long nowMs) {
        return run(prev, Command.COMPARE_AND_APPEND,
                Commands.compareAndAppend(batch, WRITER, token, DEBUG, nowMs, LEASE_MS, INLINE_MAX), nowMs);
    }

    /** The state after WRITER appended [0, 10) with {@code token}. */
    /** The batch {@link #appended} appends, as a retry would send it again. */
    private static final HollowBatch APPENDED = batch(0, 10, 1);

    private static State appended(IdempotencyToken token) {
        return committed(append(initial(), APPENDED, token, 1_000)).state();
    }


    @Test
    void aNewWriterHasNoWriteYet() {
        Transition.Committable<RegisterWriterResult> next = committed(run(initial(), Command.REGISTER,
                Commands.registerWriter(WRITER, DEBUG, LEASE_MS, 1_000), 1_000));

        WriterState expected = new WriterState(1_000, LEASE_MS, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG);
        assertThat(next.result()).isEqualTo(new RegisterWriterResult.Registered(expected));
        assertThat(next.state().collections().writers()).containsExactly(Map.entry(WRITER, expected));
    }

    @Test
    void registeringAWriterAgainKeepsItsTokenAndUpper() {
        IdempotencyToken token = IdempotencyToken.random();

        Transition.Committable<RegisterWriterResult> next = committed(run(appended(token), Command.REGISTER,
                Commands.registerWriter(WRITER, OTHER_DEBUG, 5_000, 500), 2_000));

        WriterState expected = new WriterState(1_000, 5_000, token, Frontier.of(10), OTHER_DEBUG);
        assertThat(next.result()).isEqualTo(new RegisterWriterResult.Registered(expected));
        assertThat(next.state().collections().writers().get(WRITER)).isEqualTo(expected);
        assertThat(broke(append(next.state(), APPENDED, token, 3_000)))
                .as("a retried append is still recognized").isEqualTo(new AppendResult.AlreadyCommitted());
    }

    @Test
    void registeringAWriterOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.REGISTER,
                Commands.registerWriter(WRITER, DEBUG, LEASE_MS, 1_000), 1_000)))
                .isEqualTo(new RegisterWriterResult.Tombstoned());
    }

    private static WriterState withHeartbeat(WriterState w, long heartbeatMs) {
        return new WriterState(heartbeatMs, w.leaseDurationMs(), w.mostRecentWriteToken(), w.mostRecentWriteUpper(),
                w.debug());
    }

    @Test
    void aWriterHeartbeatKeepsTheLaterHeartbeatAndCommits() {
        State prev = appended(IdempotencyToken.random());

        Transition.Committable<Boolean> later = committed(run(prev, Command.HEARTBEAT_WRITER,
                Commands.heartbeatWriter(WRITER, 3_000), 3_000));
        Transition.Committable<Boolean> earlier = committed(run(prev, Command.HEARTBEAT_WRITER,
                Commands.heartbeatWriter(WRITER, 500), 3_000));

        assertThat(later.result()).isTrue();
        assertThat(later.state().collections().writers().get(WRITER)).isEqualTo(
                withHeartbeat(prev.collections().writers().get(WRITER), 3_000));
        assertThat(earlier.result()).isTrue();
        assertThat(earlier.state().collections().writers()).isEqualTo(prev.collections().writers());
        assertThat(earlier.diff().writers()).isEmpty();
    }

    @Test
    void aHeartbeatOfAMissingWriterBreaks() {
        assertThat(broke(run(appended(IdempotencyToken.random()), Command.HEARTBEAT_WRITER,
                Commands.heartbeatWriter(WriterId.random(), 3_000), 3_000))).isFalse();
    }

    @Test
    void aWriterHeartbeatOnATombstoneBreaks() {
        assertThat(broke(run(StateTest.tombstone(5), Command.HEARTBEAT_WRITER,
                Commands.heartbeatWriter(WRITER, 3_000), 3_000))).isFalse();
    }

    // ---------------------------------------------------------------------------------------- compare_and_append

    @Test
    void anAppendPushesTheBatchAndRegistersTheWriter() {
        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch batch = batch(0, 10, 1);

        Transition.Committable<AppendResult> next = committed(append(initial(), batch, token, 1_000));

        assertThat(next.result()).isEqualTo(new AppendResult.Appended(List.of()));
        assertThat(next.state().collections().trace().batches()).containsExactly(batch);
        assertThat(next.state().upper()).isEqualTo(Frontier.of(10));
        assertThat(next.state().collections().writers()).containsEntry(WRITER,
                new WriterState(1_000, LEASE_MS, token, Frontier.of(10), DEBUG));
    }

    @Test
    void anAppendRecordsTheTokenUpperAndLaterHeartbeat() {
        IdempotencyToken second = IdempotencyToken.random();

        Transition.Committable<AppendResult> next =
                committed(append(appended(IdempotencyToken.random()), batch(10, 20, 1), second, 500));

        WriterState writer = next.state().collections().writers().get(WRITER);
        assertThat(writer.mostRecentWriteToken()).isEqualTo(second);
        assertThat(writer.mostRecentWriteUpper()).isEqualTo(Frontier.of(20));
        assertThat(writer.lastHeartbeatTimestampMs()).isEqualTo(1_000);
    }

    /** The append that completes a chunk of {@link Trace#MAX_MERGE_INPUTS} equal batches answers its request. */
    @Test
    void anAppendReturnsTheMergeRequestItFormed() {
        State prev = appended(IdempotencyToken.random());
        for (int i = 1; i < Trace.MAX_MERGE_INPUTS - 1; i++) {
            prev = committed(append(prev, batch(10L * i, 10L * (i + 1), 1), IdempotencyToken.random(), 2_000))
                    .state();
        }
        long lower = 10L * (Trace.MAX_MERGE_INPUTS - 1);
        assertThat(prev.collections().trace().mergeRequests()).isEmpty();

        Transition.Committable<AppendResult> next =
                committed(append(prev, batch(lower, lower + 10, 1), IdempotencyToken.random(), 2_000));

        assertThat(next.result()).isInstanceOfSatisfying(AppendResult.Appended.class,
                a -> assertThat(a.mergeRequests()).singleElement()
                        .satisfies(req -> assertThat(req.inputs()).isEqualTo(
                                next.state().collections().trace().batches())));
        AppendResult after = committed(append(next.state(), batch(lower + 10, lower + 20, 1),
                IdempotencyToken.random(), 2_000)).result();
        assertThat(((AppendResult.Appended) after).mergeRequests()).as("the next append forms nothing").isEmpty();
    }

    @Test
    void anAppendToATombstoneIsAnUpperMismatchOfClosedUppers() {
        AppendResult result = broke(append(StateTest.tombstone(5), batch(0, 10, 1), IdempotencyToken.random(), 0));

        assertThat(result).isEqualTo(new AppendResult.UpperMismatch(Frontier.EMPTY, Frontier.EMPTY));
    }

    @Test
    void anUpperBelowTheLowerIsInvalidBoundsBeforeTheTokenCheck() {
        IdempotencyToken token = IdempotencyToken.random();
        HollowBatch inverted = HollowBatch.of(new Description(Frontier.of(10), Frontier.of(5), Frontier.MIN), 1,
                List.of(part()));

        assertThat(broke(append(appended(token), inverted, token, 2_000)))
                .isEqualTo(new AppendResult.InvalidBounds(Frontier.of(10), Frontier.of(5)));
    }

    @Test
    void partsInAnEmptyTimeIntervalAreInvalid() {
        BatchPart.Hollow part = part();
        HollowBatch batch = HollowBatch.of(desc(10, 10), 1, List.of(part));

        assertThat(broke(append(appended(IdempotencyToken.random()), batch, IdempotencyToken.random(), 2_000)))
                .isEqualTo(new AppendResult.InvalidEmptyTimeInterval(Frontier.of(10), Frontier.of(10),
                        List.of(part.toString())));
    }

    @Test
    void anEmptyBatchOverAnEmptyTimeIntervalOnlyRegistersTheWriter() {
        IdempotencyToken token = IdempotencyToken.random();

        Transition.Committable<AppendResult> next =
                committed(append(initial(), HollowBatch.empty(desc(0, 0)), token, 1_000));

        assertThat(next.state().collections().trace()).isEqualTo(Trace.EMPTY);
        assertThat(next.state().collections().writers().get(WRITER).mostRecentWriteToken()).isEqualTo(token);
        assertThat(next.diff().batches()).isEmpty();
    }

    @Test
    void aRecordedTokenIsAlreadyCommittedBeforeTheUpperCheck() {
        IdempotencyToken token = IdempotencyToken.random();
        State later = committed(Transition.computeNext(appended(token), config(), 2_000, HOST,
                Command.COMPARE_AND_APPEND, Commands.compareAndAppend(batch(10, 20, 1), WriterId.random(),
                        IdempotencyToken.random(), DEBUG, 2_000, LEASE_MS, INLINE_MAX))).state();

        assertThat(broke(append(appended(token), APPENDED, token, 2_000)))
                .isEqualTo(new AppendResult.AlreadyCommitted());
        assertThat(broke(append(later, APPENDED, token, 3_000)))
                .isEqualTo(new AppendResult.AlreadyCommitted());
    }

    @Test
    void aRecordedTokenUsedForAnotherAppendIsTokenReusedAndChangesNothing() {
        IdempotencyToken token = IdempotencyToken.random();
        State prev = appended(token);

        assertThat(broke(append(prev, batch(10, 30, 1), token, 2_000)))
                .as("another upper").isEqualTo(new AppendResult.TokenReused());
        assertThat(broke(append(prev, batch(0, 10, 1), token, 2_000)))
                .as("the same range with other parts").isEqualTo(new AppendResult.TokenReused());
        assertThat(broke(append(prev, HollowBatch.of(desc(0, 10), 2, APPENDED.parts()), token, 2_000)))
                .as("the same parts with another len").isEqualTo(new AppendResult.TokenReused());
    }

    @Test
    void aRecordedTokenWhoseBatchWasMergedAwayIsStillAlreadyCommittedForItsUpper() {
        IdempotencyToken token = IdempotencyToken.random();
        State prev = appended(token);
        HollowBatch second = batch(10, 20, 1);
        State two = committed(Transition.computeNext(prev, config(), 2_000, HOST, Command.COMPARE_AND_APPEND,
                Commands.compareAndAppend(second, WriterId.random(), IdempotencyToken.random(), DEBUG, 2_000,
                        LEASE_MS, INLINE_MAX))).state();
        State compacted = committed(run(two, Command.MERGE_RES, Commands.applyMergeRes(
                new FueledMergeRes(batch(0, 20, 2), List.of(APPENDED, second))), 3_000)).state();

        assertThat(broke(append(compacted, APPENDED, token, 4_000))).isEqualTo(new AppendResult.AlreadyCommitted());
    }

    @Test
    void aLowerOtherThanTheShardUpperIsAnUpperMismatch() {
        State prev = appended(IdempotencyToken.random());

        assertThat(broke(append(prev, batch(5, 15, 1), IdempotencyToken.random(), 2_000)))
                .isEqualTo(new AppendResult.UpperMismatch(Frontier.of(10), Frontier.of(10)));
        Transition<AppendResult> stranger = Transition.computeNext(prev, config(), 2_000, HOST,
                Command.COMPARE_AND_APPEND, Commands.compareAndAppend(batch(0, 10, 1), WriterId.random(),
                        IdempotencyToken.random(), DEBUG, 2_000, LEASE_MS, INLINE_MAX));
        assertThat(broke(stranger)).isEqualTo(new AppendResult.UpperMismatch(Frontier.of(10), Frontier.MIN));
    }

    @Test
    void inlineBytesReachingTheCapArePushedBack() {
        State prev = committed(append(initial(), HollowBatch.of(desc(0, 10), 1, List.of(inlinePart(60))),
                IdempotencyToken.random(), 1_000)).state();

        assertThat(broke(append(prev, HollowBatch.of(desc(10, 20), 1, List.of(inlinePart(40))),
                IdempotencyToken.random(), 2_000))).isEqualTo(new AppendResult.InlineBackpressure());
        assertThat(committed(append(prev, HollowBatch.of(desc(10, 20), 1, List.of(inlinePart(39))),
                IdempotencyToken.random(), 2_000)).result()).isInstanceOf(AppendResult.Appended.class);
        assertThat(committed(append(prev, batch(10, 20, 1), IdempotencyToken.random(), 2_000)).result())
                .as("no inline parts").isInstanceOf(AppendResult.Appended.class);
    }

    @Test
    void anUpperMismatchIsReportedBeforeInlineBackpressure() {
        HollowBatch tooMuch = HollowBatch.of(desc(5, 20), 1, List.of(inlinePart(200)));

        assertThat(broke(append(appended(IdempotencyToken.random()), tooMuch, IdempotencyToken.random(), 2_000)))
                .isInstanceOf(AppendResult.UpperMismatch.class);
    }

    // ---------------------------------------------------------------------------------------- merge_res

    @Test
    void anAppliedMergeResultReplacesTheInputs() {
        State prev = with(initial(), c -> c.trace(TestStates.trace(1, 1)));
        HollowBatch out = HollowBatch.of(desc(0, 20), 2, List.of(part()));

        Transition.Committable<ApplyMergeResult> next = committed(run(prev, Command.MERGE_RES,
                Commands.applyMergeRes(new FueledMergeRes(out, prev.collections().trace().batches())), 0));

        assertThat(next.result()).isEqualTo(ApplyMergeResult.APPLIED_EXACT);
        assertThat(next.state().collections().trace().batches()).containsExactly(out);
        assertThat(next.diff().partDeletes()).hasSize(2);
    }

    /**
     * The parts a merge removes from the batches are released at its seqno, and the diff says so; a part the output
     * keeps is not released.
     */
    @Test
    void anAppliedMergeReleasesTheInputsPartsItDoesNotKeep() {
        State prev = with(at(initial(), 6), c -> c.trace(TestStates.trace(1, 1)));
        List<HollowBatch> inputs = prev.collections().trace().batches();
        BatchPart kept = inputs.get(0).parts().get(0);
        PartialBatchKey dropped = ((BatchPart.Hollow) inputs.get(1).parts().get(0)).key();
        HollowBatch out = HollowBatch.of(desc(0, 20), 2, List.of(kept, part()));

        Transition.Committable<ApplyMergeResult> next = committed(run(prev, Command.MERGE_RES,
                Commands.applyMergeRes(new FueledMergeRes(out, inputs)), 0));

        assertThat(next.state().collections().releasedParts()).containsExactly(Map.entry(dropped, SeqNo.of(7)));
        assertThat(next.diff().releasedParts()).containsExactly(new FieldDiff<>(dropped,
                new DiffValue.Insert<>(SeqNo.of(7))));
        assertThat(next.diff().apply(prev)).isEqualTo(next.state());
    }

    /**
     * An append naming a released part is refused (nothing changes), after the checks that tell a retry or an upper
     * mismatch: an append that committed before the release answers that it did.
     */
    @Test
    void anAppendNamingAReleasedPartIsRefusedAfterTheTokenAndUpperChecks() {
        BatchPart.Hollow released = part();
        State prev = with(at(initial(), 6), c -> c.mutableReleasedParts().put(released.key(), SeqNo.of(4)));
        HollowBatch again = HollowBatch.of(desc(0, 10), 1, List.of(released));

        assertThatThrownBy(() -> append(prev, again, IdempotencyToken.random(), 2_000))
                .isInstanceOf(InvalidUsageException.class)
                .hasMessageContaining("names blob part " + released.key())
                .hasMessageContaining("at seqno 4");
        assertThat(broke(append(prev, HollowBatch.of(desc(5, 10), 1, List.of(released)), IdempotencyToken.random(),
                2_000))).as("the upper is told first").isInstanceOf(AppendResult.UpperMismatch.class);
    }

    /**
     * Removing rollups drops the released parts at or below the oldest rollup left (GC deleted them before it
     * truncated there), and keeps those released later.
     */
    @Test
    void removeRollupsDropsThePartsReleasedAtOrBelowTheOldestRollupLeft() {
        State initial = at(initial(), 12);
        HollowRollup r1 = initial.latestRollup().getValue();
        PartialBatchKey atFive = part().key();
        PartialBatchKey atNine = part().key();
        PartialBatchKey atTen = part().key();
        State prev = with(initial, c -> {
            c.mutableRollups().put(SeqNo.of(9), rollup(9));
            c.mutableReleasedParts().put(atFive, SeqNo.of(5));
            c.mutableReleasedParts().put(atNine, SeqNo.of(9));
            c.mutableReleasedParts().put(atTen, SeqNo.of(10));
        });

        Transition.Committable<List<SeqNo>> next = committed(run(prev, Command.REMOVE_ROLLUPS,
                Commands.removeRollups(List.of(Map.entry(SeqNo.of(1), r1.key()))), 0));

        assertThat(next.state().collections().releasedParts()).containsOnlyKeys(atTen);
        assertThat(next.diff().releasedParts()).extracting(FieldDiff::key).containsExactlyInAnyOrder(atFive, atNine);
        assertThat(next.diff().apply(prev)).isEqualTo(next.state());
    }

    @Test
    void aMergeResultThatDoesNotApplyBreaks() {
        State prev = with(initial(), c -> c.trace(TestStates.trace(1, 1)));
        HollowBatch out = HollowBatch.of(desc(0, 20), 3, List.of(part()));

        assertThat(broke(run(prev, Command.MERGE_RES,
                Commands.applyMergeRes(new FueledMergeRes(out, prev.collections().trace().batches())), 0)))
                .isEqualTo(ApplyMergeResult.NOT_APPLIED_TOO_MANY_UPDATES);
        assertThat(broke(run(StateTest.tombstone(5), Command.MERGE_RES,
                Commands.applyMergeRes(new FueledMergeRes(out, List.of())), 0)))
                .isEqualTo(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
    }

    // ---------------------------------------------------------------------------------------- register_schema

    private static EncodedSchemas schemas(String key, String val) {
        return new EncodedSchemas(Bytes.copyOf(key.getBytes(StandardCharsets.UTF_8)), Bytes.copyOf(new byte[] {1}),
                Bytes.copyOf(val.getBytes(StandardCharsets.UTF_8)), Bytes.copyOf(new byte[] {2}));
    }

    private static Transition<RegisterSchemaResult> registerSchema(State prev, EncodedSchemas schemas) {
        return run(prev, Command.REGISTER_SCHEMA, Commands.registerSchema(schemas), 2_000);
    }

    @Test
    void schemaIdsAreDenseFromZero() {
        EncodedSchemas a = schemas("a", "v");
        EncodedSchemas b = schemas("b", "v");
        EncodedSchemas c = schemas("a", "w");

        Transition.Committable<RegisterSchemaResult> first = committed(registerSchema(initial(), a));
        Transition.Committable<RegisterSchemaResult> second = committed(registerSchema(first.state(), b));
        Transition.Committable<RegisterSchemaResult> third = committed(registerSchema(second.state(), c));

        assertThat(first.result()).isEqualTo(new RegisterSchemaResult.Registered(new SchemaId(0)));
        assertThat(second.result()).isEqualTo(new RegisterSchemaResult.Registered(new SchemaId(1)));
        assertThat(third.result()).isEqualTo(new RegisterSchemaResult.Registered(new SchemaId(2)));
        assertThat(third.state().collections().schemas()).containsExactly(Map.entry(new SchemaId(0), a),
                Map.entry(new SchemaId(1), b), Map.entry(new SchemaId(2), c));
    }

    @Test
    void registeringAnIdenticalSchemaPairAgainBreaksWithItsId() {
        State prev = committed(registerSchema(committed(registerSchema(initial(), schemas("a", "v"))).state(),
                schemas("b", "v"))).state();

        assertThat(broke(registerSchema(prev, schemas("a", "v"))))
                .isEqualTo(new RegisterSchemaResult.Registered(new SchemaId(0)));
        assertThat(broke(registerSchema(prev, schemas("b", "v"))))
                .isEqualTo(new RegisterSchemaResult.Registered(new SchemaId(1)));
    }

    @Test
    void sparseSchemaIdsAreABug() {
        State sparse = with(initial(), c -> c.mutableSchemas().put(new SchemaId(1), schemas("a", "v")));

        assertThatThrownBy(() -> registerSchema(sparse, schemas("b", "v")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("dense");
    }

    @Test
    void registeringASchemaOnATombstoneBreaks() {
        assertThat(broke(registerSchema(StateTest.tombstone(5), schemas("a", "v"))))
                .isEqualTo(new RegisterSchemaResult.Tombstoned());
    }

    // ---------------------------------------------------------------------------------------- become_tombstone

    private static final HollowBatch CLOSED_EMPTY_BATCH =
            HollowBatch.empty(new Description(Frontier.MIN, Frontier.EMPTY, Frontier.EMPTY));

    private static Transition<BecomeTombstoneResult> becomeTombstone(State prev) {
        return run(prev, Command.BECOME_TOMBSTONE, Commands.becomeTombstone(), 2_000);
    }

    /** Since and upper {}, three non-empty batches, and a reader, a critical reader and a writer of each kind. */
    private static State closedWithHandles() {
        HollowBatch last = HollowBatch.of(new Description(Frontier.of(20), Frontier.EMPTY, Frontier.MIN), 1,
                List.of(part()));
        return with(at(initial(), 5), c -> {
            c.trace(new Trace(Frontier.EMPTY, List.of(batch(0, 10, 1), batch(10, 20, 2), last)));
            c.mutableLeasedReaders().put(READER, reader(2, Frontier.EMPTY));
            c.mutableCriticalReaders().put(CRITICAL, critical(Frontier.EMPTY, 1));
            c.mutableWriters().put(WRITER, new WriterState(1_000, LEASE_MS, IdempotencyToken.random(),
                    Frontier.EMPTY, DEBUG));
        });
    }

    @Test
    void onlyASinceAndUpperOfTheEmptyFrontierAreFinalizable() {
        State closedToWrites = with(closedWithHandles(), c -> c.trace(c.trace().withSince(Frontier.of(5))));
        State closedToReads = with(at(initial(), 5), c -> c.trace(new Trace(Frontier.EMPTY,
                List.of(batch(0, 10, 1)))));

        assertThat(broke(becomeTombstone(initial())))
                .isEqualTo(new BecomeTombstoneResult.NotFinalizable(Frontier.MIN, Frontier.MIN));
        assertThat(broke(becomeTombstone(closedToWrites)))
                .isEqualTo(new BecomeTombstoneResult.NotFinalizable(Frontier.of(5), Frontier.EMPTY));
        assertThat(broke(becomeTombstone(closedToReads)))
                .isEqualTo(new BecomeTombstoneResult.NotFinalizable(Frontier.EMPTY, Frontier.of(10)));
    }

    @Test
    void finalizingRemovesEveryHandleAndCollapsesTheBatchesInOneTransition() {
        State prev = closedWithHandles();

        Transition.Committable<BecomeTombstoneResult> next = committed(becomeTombstone(prev));

        assertThat(next.result()).isEqualTo(new BecomeTombstoneResult.Finalized());
        assertThat(next.state().seqno()).isEqualTo(SeqNo.of(6));
        assertThat(next.state().isTombstone()).isTrue();
        assertThat(next.state().isFinalized()).isTrue();
        assertThat(next.state().collections().trace()).isEqualTo(new Trace(Frontier.EMPTY,
                List.of(CLOSED_EMPTY_BATCH)));
        assertThat(next.state().collections().leasedReaders()).isEmpty();
        assertThat(next.state().collections().criticalReaders()).isEmpty();
        assertThat(next.state().collections().writers()).isEmpty();
        assertThat(next.diff().partDeletes()).as("the removed batches' parts are garbage").hasSize(3);
        assertThat(next.maintenance().garbageCollection()).as("always on a tombstone").isPresent();
    }

    @Test
    void finalizingAFinalizedTombstoneAgainBreaks() {
        State finalized = committed(becomeTombstone(closedWithHandles())).state();

        assertThat(broke(becomeTombstone(finalized))).isEqualTo(new BecomeTombstoneResult.AlreadyTombstone());
        assertThat(broke(becomeTombstone(StateTest.tombstone(5))))
                .isEqualTo(new BecomeTombstoneResult.AlreadyTombstone());
    }

    @Test
    void aTombstoneWithSeveralEmptyBatchesIsCollapsed() {
        State prev = with(at(initial(), 5), c -> c.trace(new Trace(Frontier.EMPTY, List.of(
                HollowBatch.empty(new Description(Frontier.MIN, Frontier.of(10), Frontier.EMPTY)),
                HollowBatch.empty(new Description(Frontier.of(10), Frontier.EMPTY, Frontier.EMPTY))))));
        assertThat(prev.isTombstone()).isTrue();
        assertThat(prev.isFinalized()).isFalse();

        Transition.Committable<BecomeTombstoneResult> next = committed(becomeTombstone(prev));

        assertThat(next.result()).isEqualTo(new BecomeTombstoneResult.Finalized());
        assertThat(next.state().collections().trace().batches()).containsExactly(CLOSED_EMPTY_BATCH);
        assertThat(next.state().isFinalized()).isTrue();
        assertThat(next.diff().partDeletes()).isEmpty();
    }

    @Test
    void aTombstoneWithANonEmptyBatchIsShrunk() {
        State prev = with(at(initial(), 5), c -> c.trace(new Trace(Frontier.EMPTY, List.of(HollowBatch.of(
                new Description(Frontier.MIN, Frontier.EMPTY, Frontier.MIN), 4, List.of(part(), part()))))));
        assertThat(prev.isTombstone()).isTrue();

        Transition.Committable<BecomeTombstoneResult> next = committed(becomeTombstone(prev));

        assertThat(next.state().collections().trace().batches()).containsExactly(CLOSED_EMPTY_BATCH);
        assertThat(next.diff().partDeletes()).hasSize(2);
    }

    @Test
    void finalizingASingleEmptyBatchOnlyRemovesTheHandles() {
        HollowBatch single = HollowBatch.empty(new Description(Frontier.MIN, Frontier.EMPTY, Frontier.MIN));
        State prev = with(at(initial(), 5), c -> {
            c.trace(new Trace(Frontier.EMPTY, List.of(single)));
            c.mutableCriticalReaders().put(CRITICAL, critical(Frontier.EMPTY, 1));
        });

        Transition.Committable<BecomeTombstoneResult> next = committed(becomeTombstone(prev));

        assertThat(next.result()).isEqualTo(new BecomeTombstoneResult.Finalized());
        assertThat(next.state().isFinalized()).isTrue();
        assertThat(next.state().collections().trace().batches()).containsExactly(single);
        assertThat(next.diff().batches()).isEmpty();
    }

    /** Spec §15's cross-check: on a finalized shard every command but maintenance breaks, writing nothing. */
    @Test
    void onAFinalizedShardEveryCommandBreaks() {
        State t = committed(becomeTombstone(closedWithHandles())).state();

        assertThat(run(t, Command.REGISTER, Commands.registerLeasedReader(READER, DEBUG, LEASE_MS, 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.HEARTBEAT_READER, Commands.heartbeatLeasedReader(READER, 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(READER, Optional.empty(), Frontier.of(9), 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.EXPIRE_READER, Commands.expireLeasedReader(READER), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.REGISTER, Commands.registerCriticalReader(CRITICAL, DEBUG, "u64", 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.COMPARE_AND_DOWNGRADE_SINCE,
                Commands.compareAndDowngradeSince(CRITICAL, 1, 2, Frontier.of(9)), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.EXPIRE_CRITICAL_READER, Commands.expireCriticalReader(CRITICAL), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.REGISTER, Commands.registerWriter(WRITER, DEBUG, LEASE_MS, 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.HEARTBEAT_WRITER, Commands.heartbeatWriter(WRITER, 0), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.EXPIRE_WRITER, Commands.expireWriter(WRITER), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(append(t, batch(0, 10, 1), IdempotencyToken.random(), 0)).isInstanceOf(Transition.Broke.class);
        assertThat(run(t, Command.MERGE_RES, Commands.applyMergeRes(new FueledMergeRes(
                HollowBatch.of(desc(0, 10), 1, List.of(part())), List.of(batch(0, 10, 1)))), 0))
                .isInstanceOf(Transition.Broke.class);
        assertThat(registerSchema(t, schemas("a", "v"))).isInstanceOf(Transition.Broke.class);
        assertThat(becomeTombstone(t)).isInstanceOf(Transition.Broke.class);
    }
}
