package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.EdgeCasesMode;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

/**
 * The handle maps' indexes under random sequences of commands (register, heartbeat, downgrade, expire, lapse,
 * finalize), each committed by {@link Transition#computeNext} with its diff checked by applying it: after every
 * commit the least seqno hold, the meet of the readers' sinces and the lapsed handles at any time equal a brute-force
 * walk of the handles, in the committed state, in the state its diff gives on another replica and in the state
 * decoded from its maps; and the diff built from the recorded keys equals the full comparison.
 */
class HandleIndexPropertyTest {

    /** Ids of a few of each handle, so that commands meet the same handle again. */
    private static final int IDS = 6;
    private static final List<LeasedReaderId> READERS = ids(LeasedReaderId::random);
    private static final List<CriticalReaderId> CRITICAL = ids(CriticalReaderId::random);
    private static final List<WriterId> WRITERS = ids(WriterId::random);

    private static <T> List<T> ids(java.util.function.Supplier<T> random) {
        List<T> ids = new ArrayList<>();
        for (int i = 0; i < IDS; i++) {
            ids.add(random.get());
        }
        return List.copyOf(ids);
    }

    enum Kind {
        REGISTER_READER, HEARTBEAT_READER, DOWNGRADE, DOWNGRADE_HOLDING, EXPIRE_READER, REGISTER_CRITICAL,
        DOWNGRADE_CRITICAL, EXPIRE_CRITICAL, REGISTER_WRITER, HEARTBEAT_WRITER, EXPIRE_WRITER, EXPIRE_LAPSED,
        FINALIZE
    }

    /**
     * One command at {@code advanceMs} after the previous one, on handle {@code id}, with a lease of {@code leaseMs}
     * ({@code 0}: one beyond the end of time, whose expiry overflows) and {@code amount} for a since or a hold.
     */
    record Op(Kind kind, int id, long advanceMs, long leaseMs, long amount) {}

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Kind> kind = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(4, Arbitraries.just(Kind.REGISTER_READER)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.HEARTBEAT_READER)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.DOWNGRADE)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.DOWNGRADE_HOLDING)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.EXPIRE_READER)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.REGISTER_CRITICAL)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.DOWNGRADE_CRITICAL)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.EXPIRE_CRITICAL)),
                net.jqwik.api.Tuple.of(3, Arbitraries.just(Kind.REGISTER_WRITER)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.HEARTBEAT_WRITER)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.EXPIRE_WRITER)),
                net.jqwik.api.Tuple.of(2, Arbitraries.just(Kind.EXPIRE_LAPSED)),
                net.jqwik.api.Tuple.of(1, Arbitraries.just(Kind.FINALIZE)));
        return Combinators.combine(kind, Arbitraries.integers().between(0, IDS - 1),
                Arbitraries.longs().between(0, 40), Arbitraries.longs().between(0, 100),
                Arbitraries.longs().between(0, 5))
                .as(Op::new).list().ofMinSize(1).ofMaxSize(50);
    }

    @Property(tries = 300, edgeCases = EdgeCasesMode.NONE)
    void theIndexesAnswerAsAWalkOfTheHandlesAfterEveryCommit(@ForAll("ops") List<Op> ops,
            @ForAll("probes") List<Long> probesMs) {
        State state = initial();
        long nowMs = state.walltimeMs();
        for (Op op : ops) {
            nowMs += op.advanceMs();
            Transition<?> t = Transition.computeNext(state, config(), nowMs, HOST, command(op), work(state, op, nowMs));
            if (!(t instanceof Transition.Committable<?> commit)) {
                continue;
            }
            State prev = state;
            state = commit.state();
            check(state, nowMs, probesMs);
            assertThat(commit.diff()).isEqualTo(StateDiff.compute(prev, state));
            State applied = commit.diff().apply(prev);
            check(applied, nowMs, probesMs);
            check(decoded(state), nowMs, probesMs);
            assertThat(state.collections().lapsedLeasedReaders(nowMs)).as("expired by the commit").isEmpty();
            assertThat(state.collections().lapsedWriters(nowMs)).as("expired by the commit").isEmpty();
        }
    }

    @Provide
    Arbitrary<List<Long>> probes() {
        return Arbitraries.longs().between(-10, 3_000).list().ofMinSize(1).ofMaxSize(4);
    }

    /** The lease rule's index key agrees with the rule for any heartbeat, duration and time, overflow included. */
    @Property(tries = 2_000)
    void theExpiryKeyAgreesWithTheLeaseRule(@ForAll long lastHeartbeatMs, @ForAll long leaseDurationMs,
            @ForAll long nowMs) {
        long expiresAtMs = lastHeartbeatMs + leaseDurationMs;
        boolean expired = expiresAtMs >= lastHeartbeatMs && expiresAtMs < nowMs; // the rule as first written

        assertThat(Leases.isExpired(lastHeartbeatMs, leaseDurationMs, nowMs)).isEqualTo(expired);
        assertThat(Leases.expiresAtMs(lastHeartbeatMs, leaseDurationMs) < nowMs).isEqualTo(expired);
    }

    private static Command command(Op op) {
        return switch (op.kind()) {
            case REGISTER_READER, REGISTER_CRITICAL, REGISTER_WRITER -> Command.REGISTER;
            case HEARTBEAT_READER -> Command.HEARTBEAT_READER;
            case DOWNGRADE, DOWNGRADE_HOLDING -> Command.DOWNGRADE_SINCE;
            case EXPIRE_READER -> Command.EXPIRE_READER;
            case DOWNGRADE_CRITICAL -> Command.COMPARE_AND_DOWNGRADE_SINCE;
            case EXPIRE_CRITICAL -> Command.EXPIRE_CRITICAL_READER;
            case HEARTBEAT_WRITER -> Command.HEARTBEAT_WRITER;
            case EXPIRE_WRITER -> Command.EXPIRE_WRITER;
            case EXPIRE_LAPSED -> Command.EXPIRE_LEASES;
            case FINALIZE -> Command.BECOME_TOMBSTONE;
        };
    }

    private static Transition.Work<?> work(State state, Op op, long nowMs) {
        long leaseMs = op.leaseMs() == 0 ? Long.MAX_VALUE - 7 : op.leaseMs();
        LeasedReaderId reader = READERS.get(op.id());
        return switch (op.kind()) {
            case REGISTER_READER -> Commands.registerLeasedReader(reader, DEBUG, leaseMs, nowMs);
            case HEARTBEAT_READER -> Commands.heartbeatLeasedReader(reader, nowMs);
            case DOWNGRADE -> Commands.downgradeSince(reader, Optional.empty(), since(state, op), nowMs);
            case DOWNGRADE_HOLDING -> {
                // Keeps a hold at or after the present one (a hold never moves back).
                LeasedReaderState r = state.collections().leasedReaders().get(reader);
                Optional<SeqNo> outstanding = r == null ? Optional.empty()
                        : Optional.of(SeqNo.of(r.seqno().value() + op.amount()));
                yield Commands.downgradeSince(reader, outstanding, since(state, op), nowMs);
            }
            case EXPIRE_READER -> Commands.expireLeasedReader(reader);
            case REGISTER_CRITICAL -> Commands.registerCriticalReader(CRITICAL.get(op.id()), DEBUG, "u64", 0);
            case DOWNGRADE_CRITICAL -> {
                CriticalReaderState r = state.collections().criticalReaders().get(CRITICAL.get(op.id()));
                long opaque = r == null ? 0 : r.opaque();
                yield Commands.compareAndDowngradeSince(CRITICAL.get(op.id()), opaque, opaque + 1, since(state, op));
            }
            case EXPIRE_CRITICAL -> Commands.expireCriticalReader(CRITICAL.get(op.id()));
            case REGISTER_WRITER -> Commands.registerWriter(WRITERS.get(op.id()), DEBUG, leaseMs, nowMs);
            case HEARTBEAT_WRITER -> Commands.heartbeatWriter(WRITERS.get(op.id()), nowMs);
            case EXPIRE_WRITER -> Commands.expireWriter(WRITERS.get(op.id()));
            case EXPIRE_LAPSED -> Commands.expireLapsedHandles(nowMs);
            case FINALIZE -> (Transition.Work<BecomeTombstoneResult>) (seqno, c) -> {
                if (op.amount() != 0) {
                    // Rarely: after it, every command breaks.
                    return WorkResult.stop(new BecomeTombstoneResult.NotFinalizable(c.trace().since(),
                            c.trace().upper()));
                }
                // Closes the shard first, so that finalizing removes every handle.
                c.trace(new Trace(Frontier.EMPTY, List.of(HollowBatch.empty(
                        new Description(Frontier.MIN, Frontier.EMPTY, Frontier.MIN)))));
                return Commands.becomeTombstone().apply(seqno, c);
            };
        };
    }

    /** A since {@code amount} beyond the shard's, or {@code {}} for amount 5. */
    private static Frontier since(State state, Op op) {
        Frontier shard = state.since();
        if (op.amount() == 5 || shard.isEmpty()) {
            return Frontier.EMPTY;
        }
        return Frontier.of(shard.element() + op.amount());
    }

    /** The state as decoding its rollup gives it: the same maps, copied, and the indexes built anew. */
    private static State decoded(State state) {
        StateCollections c = state.collections();
        return new State(state.shardId(), state.seqno(), state.walltimeMs(), state.hostname(), state.codecs(),
                StateCollections.of(c.version(), c.lastGcReq(), new TreeMap<>(c.rollups()), c.activeRollup(),
                        c.activeGc(), new java.util.HashMap<>(c.leasedReaders()),
                        new java.util.HashMap<>(c.criticalReaders()), new java.util.HashMap<>(c.writers()),
                        new TreeMap<>(c.schemas()), new TreeMap<>(c.releasedParts()), c.trace()));
    }

    private static void check(State state, long nowMs, List<Long> probesMs) {
        StateCollections c = state.collections();
        SeqNo seqnoSince = state.seqno();
        Frontier meet = Frontier.EMPTY;
        for (LeasedReaderState r : c.leasedReaders().values()) {
            seqnoSince = r.seqno().isBefore(seqnoSince) ? r.seqno() : seqnoSince;
            meet = meet.meet(r.since());
        }
        for (CriticalReaderState r : c.criticalReaders().values()) {
            meet = meet.meet(r.since());
        }
        assertThat(state.seqnoSince()).as("seqnoSince of %s", c.leasedReaders()).isEqualTo(seqnoSince);
        assertThat(c.leastSeqnoHold()).isEqualTo(c.leasedReaders().values().stream().map(LeasedReaderState::seqno)
                .min(Comparator.naturalOrder()));
        assertThat(c.readerSinceMeet()).isEqualTo(meet);
        List<Long> times = new ArrayList<>(probesMs.stream().map(p -> nowMs + p).toList());
        times.add(Long.MAX_VALUE);
        times.add(Long.MIN_VALUE);
        for (long t : times) {
            assertThat(c.lapsedLeasedReaders(t)).as("readers lapsed at %s", t)
                    .isEqualTo(lapsed(c.leasedReaders(), r -> r.isExpiredAt(t),
                            r -> Leases.expiresAtMs(r.lastHeartbeatTimestampMs(), r.leaseDurationMs())));
            assertThat(c.lapsedWriters(t)).as("writers lapsed at %s", t)
                    .isEqualTo(lapsed(c.writers(), w -> w.isExpiredAt(t),
                            w -> Leases.expiresAtMs(w.lastHeartbeatTimestampMs(), w.leaseDurationMs())));
            assertThat(c.hasLapsedHandles(t)).isEqualTo(!c.lapsedLeasedReaders(t).isEmpty()
                    || !c.lapsedWriters(t).isEmpty());
        }
    }

    /** The keys whose handle is expired, soonest expiry first, then by key: a walk of every handle. */
    private static <K extends Comparable<K>, V> List<K> lapsed(Map<K, V> handles,
            java.util.function.Predicate<V> expired, java.util.function.ToLongFunction<V> expiresAtMs) {
        return handles.entrySet().stream().filter(e -> expired.test(e.getValue()))
                .sorted(Comparator.<Map.Entry<K, V>>comparingLong(e -> expiresAtMs.applyAsLong(e.getValue()))
                        .thenComparing(Map.Entry::getKey))
                .map(Map.Entry::getKey).toList();
    }
}
