package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.at;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The structural promises of the handle maps: a command that touches k of a shard's n handles records and diffs those
 * k keys, its diff applied on another replica edits those k entries, lease expiry and the least seqno hold come from
 * indexes instead of a walk of every handle, and a built state shares its maps with the states before it. What is
 * counted is {@link Visits}: the entries visited one by one, which a whole-map copy, diff or scan would drive to
 * O(n). (No timing: the benchmark measures time.)
 */
class HandleStructureTest {

    private static final int BIG = 100_000;
    private static final long LEASE_MS = 60_000;
    private static final long NOW_MS = 1_000;
    /** Visits a command on a big shard may make besides the keys it touches: the first entry of each lease index. */
    private static final long FEW = 8;

    private static WriterState writer(long heartbeatMs) {
        return new WriterState(heartbeatMs, LEASE_MS, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG);
    }

    private static LeasedReaderState reader(long seqno, long heartbeatMs) {
        return new LeasedReaderState(SeqNo.of(seqno), Frontier.MIN, heartbeatMs, LEASE_MS, DEBUG);
    }

    /** {@link #BIG} writers, {@code writers.get(i)} heartbeated at {@code NOW_MS + i}: none lapsed at {@code NOW_MS}. */
    private static State bigWriters(List<WriterId> writers) {
        for (int i = 0; i < BIG; i++) {
            writers.add(WriterId.random());
        }
        return with(initial(), c -> {
            for (int i = 0; i < BIG; i++) {
                c.mutableWriters().put(writers.get(i), writer(NOW_MS + i));
            }
        });
    }

    @SuppressWarnings("unchecked")
    private static <R> Transition.Committable<R> commit(State prev, long nowMs, Command cmd, Transition.Work<R> work) {
        // Validation off: it applies the diff and compares whole states, which is the point of other tests.
        Transition<R> next = Transition.computeNext(prev, config().withValidateTransitions(false), nowMs, HOST, cmd,
                work);
        assertThat(next).isInstanceOf(Transition.Committable.class);
        return (Transition.Committable<R>) next;
    }

    @Test
    void anAppendByOneOf100000WritersRecordsDiffsAndAppliesExactlyItsWriter() {
        List<WriterId> writers = new ArrayList<>();
        State prev = bigWriters(writers);
        WriterId appender = writers.get(BIG / 2);
        WriterState before = prev.collections().writers().get(appender);
        Transition.Work<AppendResult> append = Commands.compareAndAppend(batch(0, 1, 1), appender,
                IdempotencyToken.random(), DEBUG, NOW_MS + BIG, LEASE_MS, Long.MAX_VALUE);

        StateCollections.Builder b = prev.collections().toBuilder();
        long visitsBefore = Visits.count();
        append.apply(prev.seqno().next(), b);
        assertThat(Visits.count() - visitsBefore).as("visits of the work function").isZero();
        assertThat(b.mapEdits().writers()).containsExactly(appender);
        assertThat(b.mapEdits().size()).isEqualTo(1);

        visitsBefore = Visits.count();
        Transition.Committable<AppendResult> next = commit(prev, NOW_MS, Command.COMPARE_AND_APPEND, append);
        long visits = Visits.count() - visitsBefore;

        assertThat(visits).as("entries visited by the whole transition, diff included").isLessThanOrEqualTo(FEW);
        WriterState after = next.state().collections().writers().get(appender);
        assertThat(next.diff().writers()).containsExactly(new FieldDiff<>(appender,
                new DiffValue.Update<>(before, after)));
        assertThat(prev.collections().writers()).as("the old version is unchanged").hasSize(BIG)
                .containsEntry(appender, before);
        assertThat(next.state().collections().writers()).hasSize(BIG);

        // The counter can fail: the diff without the record walks both maps.
        visitsBefore = Visits.count();
        StateDiff full = StateDiff.compute(prev, next.state());
        assertThat(Visits.count() - visitsBefore).isGreaterThanOrEqualTo(2L * BIG);
        assertThat(next.diff()).isEqualTo(full);

        visitsBefore = Visits.count();
        State applied = next.diff().apply(prev);
        assertThat(Visits.count() - visitsBefore).as("entries visited applying the diff").isZero();
        assertThat(applied).isEqualTo(next.state());
        assertThat(applied.collections().writers().get(appender)).isSameAs(after);
    }

    @Test
    void expiryAtATimeWhen3Of100000HandlesLapsedRemovesExactlyThoseVisitingFewEntries() {
        List<WriterId> writers = new ArrayList<>();
        State live = bigWriters(writers);
        List<LeasedReaderId> readers = new ArrayList<>();
        for (int i = 0; i < BIG; i++) {
            readers.add(LeasedReaderId.random());
        }
        // Two writers and one reader heartbeated long ago; every other handle is alive at NOW_MS + LEASE_MS.
        WriterId lapsedWriter1 = writers.get(17);
        WriterId lapsedWriter2 = writers.get(BIG - 1);
        LeasedReaderId lapsedReader = readers.get(BIG / 3);
        State prev = with(live, c -> {
            for (int i = 0; i < BIG; i++) {
                c.mutableLeasedReaders().put(readers.get(i), reader(1, NOW_MS + 2 + i));
            }
            c.mutableWriters().put(lapsedWriter1, writer(0));
            c.mutableWriters().put(lapsedWriter2, writer(1));
            c.mutableLeasedReaders().put(lapsedReader, reader(1, 0));
        });
        long nowMs = NOW_MS + LEASE_MS; // writers.get(0)'s lease (heartbeat NOW_MS) ends now: it is still alive

        assertThat(prev.collections().lapsedWriters(nowMs)).containsExactly(lapsedWriter1, lapsedWriter2);
        assertThat(prev.collections().lapsedLeasedReaders(nowMs)).containsExactly(lapsedReader);
        assertThat(prev.collections().hasLapsedHandles(nowMs)).isTrue();
        assertThat(prev.collections().hasLapsedHandles(1)).isFalse();

        long visitsBefore = Visits.count();
        Transition.Committable<Integer> next = commit(prev, nowMs, Command.EXPIRE_LEASES,
                Commands.expireLapsedHandles(nowMs));
        long visits = Visits.count() - visitsBefore;

        assertThat(next.result()).isEqualTo(3);
        assertThat(next.writersExpired()).isEqualTo(2);
        assertThat(next.readersExpired()).isEqualTo(1);
        assertThat(next.state().collections().writers()).hasSize(BIG - 2)
                .doesNotContainKeys(lapsedWriter1, lapsedWriter2);
        assertThat(next.state().collections().leasedReaders()).hasSize(BIG - 1).doesNotContainKey(lapsedReader);
        assertThat(next.diff().writers()).extracting(FieldDiff::key).containsExactly(
                lapsedWriter1.compareTo(lapsedWriter2) < 0 ? lapsedWriter1 : lapsedWriter2,
                lapsedWriter1.compareTo(lapsedWriter2) < 0 ? lapsedWriter2 : lapsedWriter1);
        assertThat(next.diff().leasedReaders()).containsExactly(new FieldDiff<>(lapsedReader,
                new DiffValue.Delete<>(reader(1, 0))));
        // The work function and the expiry each visit the 3 lapsed entries and the first live one of both indexes;
        // the diff compares the 3 keys. A scan of the handles would visit 200,000.
        assertThat(visits).as("entries visited").isLessThanOrEqualTo(2 * (3 + 2) + 3);
        assertThat(next.diff()).isEqualTo(StateDiff.compute(prev, next.state()));
        assertThat(next.state().collections().hasLapsedHandles(nowMs)).isFalse();
    }

    @Test
    void seqnoSinceIsTheLeastHoldOf100000ReadersAndFollowsDowngrades() {
        List<LeasedReaderId> readers = new ArrayList<>();
        for (int i = 0; i < BIG; i++) {
            readers.add(LeasedReaderId.random());
        }
        State prev = with(at(initial(), 500), c -> {
            for (int i = 0; i < BIG; i++) {
                c.mutableLeasedReaders().put(readers.get(i), reader(100 + i % 300, NOW_MS));
            }
        });
        LeasedReaderId holder = readers.stream().filter(id -> prev.collections().leasedReaders().get(id).seqno()
                .value() == 100).findFirst().orElseThrow();
        assertThat(prev.seqnoSince()).isEqualTo(SeqNo.of(100));

        // Every reader at 100 moves on: the least hold becomes 101.
        State state = prev;
        for (int i = 0; i < BIG; i += 300) {
            Transition.Committable<Frontier> next = commit(state, NOW_MS, Command.DOWNGRADE_SINCE,
                    Commands.downgradeSince(readers.get(i), Optional.empty(), Frontier.of(1), NOW_MS));
            state = next.state();
        }
        assertThat(state.collections().leasedReaders().get(holder).seqno()).isNotEqualTo(SeqNo.of(100));
        assertThat(state.seqnoSince()).isEqualTo(SeqNo.of(101));
        assertThat(state.seqnoSince()).isEqualTo(bruteForceSeqnoSince(state));

        long visitsBefore = Visits.count();
        SeqNo since = state.seqnoSince();
        assertThat(Visits.count() - visitsBefore).isZero();
        assertThat(since).isEqualTo(SeqNo.of(101));
    }

    private static SeqNo bruteForceSeqnoSince(State state) {
        SeqNo since = state.seqno();
        for (LeasedReaderState r : state.collections().leasedReaders().values()) {
            since = r.seqno().isBefore(since) ? r.seqno() : since;
        }
        return since;
    }

    // ----------------------------------------------------------------------------------- the builder's views

    @Test
    void everyWayOfChangingAMapThroughTheBuilderIsRecorded() {
        List<WriterId> ids = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            ids.add(WriterId.random());
        }
        ids.sort(null);
        State prev = with(initial(), c -> ids.forEach(id -> c.mutableWriters().put(id, writer(NOW_MS))));

        StateCollections.Builder b = prev.collections().toBuilder();
        NavigableMap<WriterId, WriterState> writers = b.mutableWriters();
        writers.pollFirstEntry();                                    // ids[0]
        writers.pollLastEntry();                                     // ids[7]
        for (Iterator<WriterState> it = writers.values().iterator(); it.hasNext(); ) {
            it.next();
            it.remove();                                             // ids[1], then stop
            break;
        }
        writers.keySet().removeIf(id -> id.equals(ids.get(2)));      // ids[2]
        writers.entrySet().removeIf(e -> e.getKey().equals(ids.get(3))); // ids[3]
        writers.put(ids.get(4), writer(NOW_MS + 1));                 // ids[4] updated
        writers.put(ids.get(5), writer(NOW_MS));                     // ids[5] put back as it was: no diff
        writers.remove(WriterId.random());                           // absent: not recorded
        WriterId added = WriterId.random();
        writers.putIfAbsent(added, writer(NOW_MS));                  // inserted

        assertThat(b.mapEdits().writers()).containsExactlyInAnyOrder(ids.get(0), ids.get(7), ids.get(1), ids.get(2),
                ids.get(3), ids.get(4), ids.get(5), added);
        assertThat(b.writers()).containsOnlyKeys(ids.get(4), ids.get(5), ids.get(6), added);
        State next = new State(prev.shardId(), prev.seqno().next(), prev.walltimeMs() + 1, HOST, prev.codecs(),
                b.build());
        StateDiff recorded = StateDiff.compute(prev, next, null, b.mapEdits());
        assertThat(recorded).isEqualTo(StateDiff.compute(prev, next));
        assertThat(recorded.writers()).hasSize(7);
        assertThat(recorded.apply(prev)).isEqualTo(next);
    }

    @Test
    void aBuiltStateDoesNotChangeWhenTheBuilderGoesOn() {
        WriterId id = WriterId.random();
        StateCollections.Builder b = initial().collections().toBuilder();
        NavigableMap<WriterId, WriterState> writers = b.mutableWriters();
        writers.put(id, writer(NOW_MS));
        StateCollections built = b.build();

        writers.put(id, writer(NOW_MS + 1));
        writers.put(WriterId.random(), writer(NOW_MS));

        assertThat(built.writers()).containsExactly(Map.entry(id, writer(NOW_MS)));
        assertThat(built.lapsedWriters(NOW_MS + LEASE_MS + 1)).containsExactly(id);
        assertThat(b.build().writers()).hasSize(2);
    }

    @Test
    void theViewsAreReadOnlyWhereTheyCannotRecord() {
        WriterId id = WriterId.random();
        StateCollections.Builder b = with(initial(), c -> c.mutableWriters().put(id, writer(NOW_MS)))
                .collections().toBuilder();

        assertThatThrownBy(() -> b.writers().put(id, writer(0))).isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> b.mutableWriters().headMap(id, true).clear())
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> b.mutableWriters().firstEntry().setValue(writer(0)))
                .isInstanceOf(UnsupportedOperationException.class);
        assertThatThrownBy(() -> b.build().writers().remove(id)).isInstanceOf(UnsupportedOperationException.class);
        assertThat(b.mapEdits().size()).isZero();
    }

    @Test
    void aStateMapKeepsTheNavigableMapContractOnAnEmptyMap() {
        StateCollections empty = StateCollections.empty(io.stateversions.testing.TestStates.VERSION);

        assertThat(empty.rollups().lastEntry()).isNull();
        assertThat(empty.rollups().firstEntry()).isNull();
        assertThat(empty.writers().headMap(WriterId.random(), true).lastEntry()).isNull();
        assertThat(empty.toBuilder().rollups().lastEntry()).isNull();
        assertThat(empty.rollups().comparator()).as("natural order").isNull();
    }

    @Test
    void mapsBuiltByDifferentPathsAreEqual() {
        TreeMap<WriterId, WriterState> plain = new TreeMap<>();
        for (int i = 0; i < 50; i++) {
            plain.put(WriterId.random(), writer(i));
        }
        State built = with(initial(), c -> c.mutableWriters().putAll(plain));
        StateCollections c = built.collections();
        StateCollections decoded = StateCollections.of(c.version(), c.lastGcReq(), new TreeMap<>(c.rollups()),
                c.activeRollup(), c.activeGc(), Map.of(), Map.of(), new java.util.HashMap<>(plain), Map.of(),
                Map.of(), c.trace());

        assertThat(decoded).isEqualTo(c);
        assertThat(decoded.hashCode()).isEqualTo(c.hashCode());
        assertThat(c.writers()).isEqualTo(plain);
        assertThat(plain).isEqualTo(c.writers());
        assertThat(List.copyOf(c.writers().keySet())).isEqualTo(List.copyOf(plain.keySet()));
        assertThat(decoded.lapsedWriters(LEASE_MS + 10)).isEqualTo(c.lapsedWriters(LEASE_MS + 10)).hasSize(10);
        assertThat(c.writers().toString()).isEqualTo(plain.toString());
    }
}
