package io.stateversions.core;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The structural promises of the handle maps: every way of changing one through a builder is recorded, so that the
 * diff is built from the keys touched; a built state does not change as its builder goes on; the maps keep the
 * {@link NavigableMap} contract and equal maps built by other paths.
 */
class HandleStructureTest {

    private static final long LEASE_MS = 60_000;
    private static final long NOW_MS = 1_000;

    private static WriterState writer(long heartbeatMs) {
        return new WriterState(heartbeatMs, LEASE_MS, IdempotencyToken.SENTINEL, Frontier.MIN, DEBUG);
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
                c.trace());

        assertThat(decoded).isEqualTo(c);
        assertThat(decoded.hashCode()).isEqualTo(c.hashCode());
        assertThat(c.writers()).isEqualTo(plain);
        assertThat(plain).isEqualTo(c.writers());
        assertThat(List.copyOf(c.writers().keySet())).isEqualTo(List.copyOf(plain.keySet()));
        assertThat(c.writers().toString()).isEqualTo(plain.toString());
    }
}
