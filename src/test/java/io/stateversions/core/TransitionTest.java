package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class TransitionTest {

    private static final Transition.Work<String> CONTINUE = (seqno, c) -> WorkResult.proceed("done");

    private static Transition.Committable<String> next(State prev, PersistConfig cfg, long nowMs) {
        return committed(Transition.computeNext(prev, cfg, nowMs, "host-b", Command.HEARTBEAT_READER, CONTINUE));
    }

    private static <R> Transition.Committable<R> committed(Transition<R> transition) {
        assertThat(transition).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<R>) transition;
    }

    private static LeasedReaderState reader(long seqno, long heartbeatMs, long leaseMs) {
        return new LeasedReaderState(SeqNo.of(seqno), Frontier.MIN, heartbeatMs, leaseMs, DEBUG);
    }

    private static WriterState writer(long heartbeatMs, long leaseMs) {
        return new WriterState(heartbeatMs, leaseMs, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG);
    }

    // ---------------------------------------------------------------------------------------- version stamp

    @Test
    void theNextVersionIsOneSeqnoLaterOnThisHost() {
        State prev = initial();

        Transition.Committable<String> next = next(prev, config(), 5_000);

        assertThat(next.result()).isEqualTo("done");
        assertThat(next.state().seqno()).isEqualTo(SeqNo.of(2));
        assertThat(next.state().hostname()).isEqualTo("host-b");
        assertThat(next.state().shardId()).isEqualTo(prev.shardId());
        assertThat(next.state().codecs()).isEqualTo(prev.codecs());
        assertThat(next.diff().seqnoFrom()).isEqualTo(SeqNo.of(1));
        assertThat(next.diff().seqnoTo()).isEqualTo(SeqNo.of(2));
    }

    @Test
    void walltimeIsNowWhenTheClockIsAhead() {
        State prev = initial();

        assertThat(next(prev, config(), prev.walltimeMs() + 10).state().walltimeMs())
                .isEqualTo(prev.walltimeMs() + 10);
    }

    @Test
    void walltimeStrictlyIncreasesWhenTheClockIsNotAhead() {
        State prev = initial();

        assertThat(next(prev, config(), prev.walltimeMs()).state().walltimeMs()).isEqualTo(prev.walltimeMs() + 1);
        assertThat(next(prev, config(), 0).state().walltimeMs()).isEqualTo(prev.walltimeMs() + 1);
    }

    @Test
    void theApplierVersionIsTheNewerOfTheStatesAndThisBuilds() {
        State prev = initial();

        assertThat(next(prev, config().withBuildVersion(Version.parse("0.2.0")), 0).state().collections()
                .version()).isEqualTo(Version.parse("0.2.0"));
        State newer = with(prev, c -> c.version(Version.parse("0.3.0")));
        assertThat(next(newer, config(), 0).state().collections().version()).isEqualTo(Version.parse("0.3.0"));
    }

    // ---------------------------------------------------------------------------------------- leases

    @Test
    void aLeasedReaderIsRetainedIffHeartbeatPlusLeaseIsAtLeastNow() {
        LeasedReaderId id = LeasedReaderId.random();
        State prev = with(initial(), c -> c.mutableLeasedReaders().put(id, reader(1, 1_000, 100)));

        Transition.Committable<String> atExpiry = next(prev, config(), 1_100);
        Transition.Committable<String> after = next(prev, config(), 1_101);

        assertThat(atExpiry.state().collections().leasedReaders()).containsKey(id);
        assertThat(atExpiry.readersExpired()).isZero();
        assertThat(after.state().collections().leasedReaders()).doesNotContainKey(id);
        assertThat(after.readersExpired()).isEqualTo(1);
    }

    @Test
    void aWriterIsRetainedIffHeartbeatPlusLeaseIsAtLeastNow() {
        WriterId id = WriterId.random();
        WriterId fresh = WriterId.random();
        State prev = with(initial(), c -> {
            c.mutableWriters().put(id, writer(1_000, 100));
            c.mutableWriters().put(fresh, writer(1_000, 10_000));
        });

        assertThat(next(prev, config(), 1_100).state().collections().writers()).containsKeys(id, fresh);
        Transition.Committable<String> after = next(prev, config(), 1_101);
        assertThat(after.state().collections().writers()).containsOnlyKeys(fresh);
        assertThat(after.writersExpired()).isEqualTo(1);
    }

    @Test
    void criticalReadersNeverExpire() {
        CriticalReaderId id = CriticalReaderId.random();
        State prev = with(initial(), c -> c.mutableCriticalReaders().put(id,
                new CriticalReaderState(Frontier.MIN, 0, "u64", DEBUG)));

        assertThat(next(prev, config(), Long.MAX_VALUE / 2).state().collections().criticalReaders())
                .containsKey(id);
    }

    @Test
    void aLeaseThatOverflowsNeverExpires() {
        LeasedReaderId id = LeasedReaderId.random();
        State prev = with(initial(), c -> c.mutableLeasedReaders().put(id, reader(1, 10, Long.MAX_VALUE)));

        assertThat(next(prev, config(), Long.MAX_VALUE).state().collections().leasedReaders()).containsKey(id);
    }

    // ---------------------------------------------------------------------------------------- the diff is last

    /**
     * One transition expires a reader, which lets GC advance, and passes the rollup threshold: all of it is in the
     * diff, because the diff is computed after every mutation.
     */
    @Test
    void theDiffIncludesExpiryGcAndRollupAssignment() {
        LeasedReaderId expired = LeasedReaderId.random();
        State prev = with(at(initial(), 200), c -> c.mutableLeasedReaders().put(expired, reader(1, 0, 10)));
        PersistConfig cfg = config().withValidateTransitions(false);

        Transition.Committable<String> next = next(prev, cfg, 1_000);

        assertThat(next.maintenance().writeRollup()).contains(SeqNo.of(201));
        assertThat(next.maintenance().garbageCollection()).contains(new GcReq(prev.shardId(), SeqNo.of(201)));
        assertThat(next.state().collections().activeRollup()).contains(new ActiveMarker(SeqNo.of(201), 1_000));
        assertThat(next.state().collections().lastGcReq()).isEqualTo(SeqNo.of(201));
        assertThat(next.diff().leasedReaders()).singleElement()
                .satisfies(d -> assertThat(d.value()).isInstanceOf(DiffValue.Delete.class));
        assertThat(next.diff().lastGcReq()).containsExactly(new DiffValue.Update<>(SeqNo.MIN, SeqNo.of(201)));
        assertThat(next.diff().activeRollup()).hasSize(1);
        assertThat(next.diff().apply(prev)).isEqualTo(next.state());
    }

    @Test
    void aBreakWritesNothing() {
        State prev = initial();

        Transition<String> t = Transition.computeNext(prev, config(), 0, HOST, Command.EXPIRE_READER,
                (seqno, c) -> {
                    c.lastGcReq(SeqNo.of(1));
                    return WorkResult.stop("no-op");
                });

        assertThat(t).isEqualTo(new Transition.Broke<>("no-op"));
    }

    @Test
    void theWorkSeesTheNewSeqno() {
        State prev = at(initial(), 7);
        SeqNo[] seen = new SeqNo[1];

        committed(Transition.computeNext(prev, config(), 0, HOST, Command.REGISTER, (seqno, c) -> {
            seen[0] = seqno;
            return WorkResult.proceed(seqno);
        }));

        assertThat(seen[0]).isEqualTo(SeqNo.of(8));
    }

    // ---------------------------------------------------------------------------------------- tombstone guard

    @Test
    void onlyAddRollupAndBecomeTombstoneMayCommitOnATombstone() {
        State tombstone = StateTest.tombstone(5);

        assertThatThrownBy(() -> Transition.computeNext(tombstone, config(), 0, HOST, Command.REGISTER, CONTINUE))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("register")
                .hasMessageContaining(tombstone.shardId().toString());
        assertThat(Transition.computeNext(tombstone, config(), 0, HOST, Command.ADD_ROLLUP, CONTINUE))
                .isInstanceOf(Transition.Committable.class);
        assertThat(Transition.computeNext(tombstone, config(), 0, HOST, Command.BECOME_TOMBSTONE, CONTINUE))
                .isInstanceOf(Transition.Committable.class);
        assertThat(Transition.computeNext(tombstone, config(), 0, HOST, Command.REGISTER,
                (seqno, c) -> WorkResult.stop("nothing"))).isInstanceOf(Transition.Broke.class);
    }

    // ---------------------------------------------------------------------------------------- cloneApply

    @Test
    void cloneApplyDoesNoneOfTheRoutineSteps() {
        LeasedReaderId expired = LeasedReaderId.random();
        State prev = with(at(initial(), 200), c -> c.mutableLeasedReaders().put(expired, reader(1, 0, 10)));

        Transition.Committable<String> next = committed(Transition.cloneApply(prev, config(), 1_000, HOST,
                Command.HEARTBEAT_READER, CONTINUE));

        assertThat(next.state().collections().leasedReaders()).containsKey(expired);
        assertThat(next.readersExpired()).isZero();
        assertThat(next.maintenance()).isEqualTo(RoutineMaintenance.NONE);
        assertThat(next.state().collections().lastGcReq()).isEqualTo(SeqNo.MIN);
        assertThat(next.state().collections().activeRollup()).isEmpty();
        assertThat(next.diff().isEmpty()).isTrue();
        assertThat(next.diff().apply(prev)).isEqualTo(next.state());
    }

    @Test
    void cloneApplyOnATombstoneIsNotGuarded() {
        assertThat(Transition.cloneApply(StateTest.tombstone(5), config(), 0, HOST, Command.REGISTER, CONTINUE))
                .isInstanceOf(Transition.Committable.class);
    }

    // ---------------------------------------------------------------------------------------- GC assignment

    /** A state at {@code seqno} without writers whose last GC request was {@code lastGcReq}. */
    private static State gcState(long seqno, long lastGcReq) {
        return with(at(initial(), seqno), c -> c.lastGcReq(SeqNo.of(lastGcReq)));
    }

    private static final PersistConfig CLASSIC = config();
    private static final PersistConfig ACTIVE_GC = config().withGcUseActiveGc(true);

    @Test
    void gcIsAssignedOnceSeqnoSinceIsTheClassicThresholdPastTheLastRequest() {
        State state = gcState(100, 93);

        assertThat(Transition.maybeGc(state, false, 0, CLASSIC)).contains(new GcReq(state.shardId(), SeqNo.of(100)));
    }

    @Test
    void gcIsNotAssignedBelowTheClassicThreshold() {
        assertThat(Transition.maybeGc(gcState(100, 94), false, 0, CLASSIC)).isEmpty();
        assertThat(Transition.maybeGc(gcState(100, 100), true, 0, CLASSIC)).isEmpty();
    }

    @Test
    void gcRunsUpToTheLeastSeqnoHold() {
        State held = with(gcState(100, 0), c -> c.mutableLeasedReaders().put(LeasedReaderId.random(),
                reader(50, 0, Long.MAX_VALUE / 2)));

        assertThat(Transition.maybeGc(held, false, 0, CLASSIC)).map(GcReq::newSeqnoSince).contains(SeqNo.of(50));
        State moreHeld = with(gcState(100, 45), c -> c.mutableLeasedReaders().put(LeasedReaderId.random(),
                reader(50, 0, Long.MAX_VALUE / 2)));
        assertThat(Transition.maybeGc(moreHeld, false, 0, CLASSIC)).as("50 - 45 < 7").isEmpty();
    }

    @Test
    void oneRequestCoversAtMostGcMaxVersions() {
        PersistConfig cfg = CLASSIC.withGcMaxVersions(10);

        assertThat(Transition.maybeGc(gcState(100, 0), false, 0, cfg)).map(GcReq::newSeqnoSince)
                .contains(SeqNo.of(10));
        assertThat(Transition.maybeGc(gcState(100, 85), false, 0, cfg)).map(GcReq::newSeqnoSince)
                .contains(SeqNo.of(95));
    }

    @Test
    void gcIsAssignedToWritesWhenThereAreWriters() {
        State state = with(gcState(100, 0), c -> c.mutableWriters().put(WriterId.random(),
                writer(0, Long.MAX_VALUE / 2)));

        assertThat(Transition.maybeGc(state, false, 0, CLASSIC)).isEmpty();
        assertThat(Transition.maybeGc(state, true, 0, CLASSIC)).isPresent();
        assertThat(Transition.maybeGc(gcState(100, 0), false, 0, CLASSIC)).as("no writers").isPresent();
    }

    @Test
    void gcIsAlwaysAssignedOnATombstone() {
        State tombstone = with(StateTest.tombstone(100), c -> c.lastGcReq(SeqNo.of(100)));

        assertThat(Transition.maybeGc(tombstone, false, 0, CLASSIC)).map(GcReq::newSeqnoSince)
                .contains(SeqNo.of(100));
    }

    @Test
    void activeGcModeUsesGcMinVersionsAsTheThreshold() {
        assertThat(ACTIVE_GC.gcMinVersions()).isEqualTo(32);
        assertThat(Transition.maybeGc(gcState(100, 68), false, 0, ACTIVE_GC)).isPresent();
        assertThat(Transition.maybeGc(gcState(100, 69), false, 0, ACTIVE_GC)).isEmpty();
    }

    @Test
    void aFreshActiveGcSuppressesGcEvenOnATombstone() {
        ActiveMarker fresh = new ActiveMarker(SeqNo.of(60), 1_000);
        State due = with(gcState(100, 0), c -> c.activeGc(Optional.of(fresh)));
        State tombstone = with(StateTest.tombstone(100), c -> c.activeGc(Optional.of(fresh)));
        long stillFresh = 1_000 + ACTIVE_GC.gcFallbackThresholdMs();

        assertThat(Transition.maybeGc(due, false, stillFresh, ACTIVE_GC)).isEmpty();
        assertThat(Transition.maybeGc(tombstone, false, stillFresh, ACTIVE_GC)).isEmpty();
        assertThat(Transition.maybeGc(tombstone, false, stillFresh, CLASSIC)).as("classic ignores it").isPresent();
    }

    @Test
    void anExpiredActiveGcIsReassignedEvenWhenNotDue() {
        State notDue = with(gcState(100, 99), c -> c.activeGc(Optional.of(new ActiveMarker(SeqNo.of(60), 1_000))));
        long expired = 1_000 + ACTIVE_GC.gcFallbackThresholdMs() + 1;

        assertThat(Transition.maybeGc(notDue, false, expired, ACTIVE_GC)).map(GcReq::newSeqnoSince)
                .contains(SeqNo.of(100));
        assertThat(Transition.maybeGc(notDue, false, expired - 1, ACTIVE_GC)).isEmpty();
    }

    @Test
    void anAssignedGcIsRecordedInTheNextState() {
        State prev = gcState(100, 0);

        Transition.Committable<String> classic = next(prev, CLASSIC, 5_000);
        Transition.Committable<String> active = next(prev, ACTIVE_GC, 5_000);

        assertThat(classic.state().collections().lastGcReq()).isEqualTo(SeqNo.of(101));
        assertThat(classic.state().collections().activeGc()).isEmpty();
        assertThat(active.maintenance().garbageCollection()).map(GcReq::newSeqnoSince).contains(SeqNo.of(101));
        assertThat(active.state().collections().activeGc()).contains(new ActiveMarker(SeqNo.of(101), 5_000));
        assertThat(active.diff().activeGc()).containsExactly(
                new DiffValue.Insert<>(new ActiveMarker(SeqNo.of(101), 5_000)));
    }

    @Test
    void nothingIsAssignedWhenNothingIsDue() {
        Transition.Committable<String> next = next(gcState(10, 10), CLASSIC, 0);

        assertThat(next.maintenance().isEmpty()).isTrue();
        assertThat(next.diff().lastGcReq()).isEmpty();
        assertThat(next.diff().activeRollup()).isEmpty();
        assertThat(next.diff().hostname()).hasSize(1);
    }
}
