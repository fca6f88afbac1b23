package io.stateversions.testing;

import io.stateversions.core.ActiveMarker;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Codecs;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.Description;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.RollupId;
import io.stateversions.core.RunId;
import io.stateversions.core.RunMeta;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.Trace;
import io.stateversions.core.Version;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.core.WriterState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.LongStream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.RandomDistribution;
import net.jqwik.api.Tuple;

/**
 * jqwik generators of valid shard state (spec §3): {@link #states()} for one state, {@link #successors} for a
 * state one seqno later reached by random edits, {@link #steps()} for both.
 *
 * <p>"Valid" is what the model types and the state invariants demand: a non-empty rollup map whose keys name
 * their own seqno, all at or below the state's seqno; seqno holds and markers at or below it; a trace of batches
 * contiguous from {@code {0}}, each with {@code lower < upper}, whose run splits and run metadata fit its parts.
 * Timestamps, sizes and debug strings are otherwise arbitrary (empty frontiers, {@code 2^63-1}, non-ASCII and
 * supplementary characters included), so that diff and codec round trips see the corners. One state in ten is a
 * tombstone (since and upper {@code {}}, no readers or writers), which random maps alone would almost never give.
 */
public final class StateGen {

    /** Timestamps of the generated traces stay far enough below {@code 2^63-1} for appends to add to them. */
    private static final long MAX_GAP = 1_000_000;

    private StateGen() {}

    /** A state and one of its successors (its seqno plus one, same shard and codecs). */
    public record Step(State from, State to) {
        @Override
        public String toString() {
            return "Step{\nfrom: " + from + "\nto:   " + to + "\n}";
        }
    }

    // ------------------------------------------------------------------------------------------ whole states

    /** States of random shards. */
    public static Arbitrary<State> states() {
        return Combinators.combine(shardIds(), codecs()).flatAs(StateGen::states);
    }

    /** States of {@code shard} with {@code codecs}, at seqnos from 1 to {@code 2^63-2} (so a successor exists). */
    public static Arbitrary<State> states(ShardId shard, Codecs codecs) {
        return seqnos().flatMap(seqno -> states(shard, codecs, seqno));
    }

    /** States at {@code seqno}. */
    public static Arbitrary<State> states(ShardId shard, Codecs codecs, long seqno) {
        return Combinators.combine(walltimes(), text(), collections(seqno))
                .as((walltime, hostname, collections) ->
                        new State(shard, SeqNo.of(seqno), walltime, hostname, codecs, collections));
    }

    /** A state and a successor of it. */
    public static Arbitrary<Step> steps() {
        return states().flatMap(from -> successors(from).map(to -> new Step(from, to)));
    }

    /**
     * States at {@code from}'s seqno plus one, of the same shard and codecs, reached by random edits: map entries
     * inserted, updated and deleted; the since changed; batches appended, replaced (as a compaction that may keep
     * some parts) or cut off the end; hostname, walltime, version, {@code lastGcReq} and the markers changed. Each
     * field is left alone more often than not, and the result always keeps at least one rollup.
     */
    public static Arbitrary<State> successors(State from) {
        long next = from.seqno().value() + 1;
        StateCollections c = from.collections();
        Arbitrary<Handles> handles = Combinators.combine(
                editMap(c.leasedReaders(), leasedReaderIds(), id -> leasedReaders(next)),
                editMap(c.criticalReaders(), criticalReaderIds(), id -> criticalReaders()),
                editMap(c.writers(), writerIds(), id -> writers()),
                editMap(c.schemas(), schemaIds(), id -> schemas()),
                editMap(c.releasedParts(), partKeys(), key -> seqnosUpTo(next)))
                .as(Handles::new);
        Arbitrary<StateCollections> collections = Combinators.combine(
                mostly(c.version(), versions()),
                mostly(c.lastGcReq(), seqnosUpTo(next)),
                editRollups(c.rollups(), next),
                editOptional(c.activeRollup(), activeMarkers(next)),
                editOptional(c.activeGc(), activeMarkers(next)),
                handles,
                editTrace(c.trace()))
                .as((version, lastGcReq, rollups, activeRollup, activeGc, h, trace) -> StateCollections.of(version,
                        lastGcReq, rollups, activeRollup, activeGc, h.leased, h.critical, h.writers, h.schemas, h.released,
                trace));
        Arbitrary<Long> walltime = Arbitraries.frequencyOf(List.of(
                Tuple.of(3, Arbitraries.just(from.walltimeMs() + 1)),
                Tuple.of(1, walltimes())));
        return Combinators.combine(walltime, mostly(from.hostname(), text()), collections)
                .as((w, hostname, cs) -> new State(from.shardId(), SeqNo.of(next), w, hostname, from.codecs(), cs));
    }

    /** Every collection of a state at {@code seqno}; one in ten is a tombstone's. */
    public static Arbitrary<StateCollections> collections(long seqno) {
        Arbitrary<Handles> handles = Combinators.combine(
                Arbitraries.maps(leasedReaderIds(), leasedReaders(seqno)).ofMaxSize(4),
                Arbitraries.maps(criticalReaderIds(), criticalReaders()).ofMaxSize(4),
                Arbitraries.maps(writerIds(), writers()).ofMaxSize(4),
                Arbitraries.maps(schemaIds(), schemas()).ofMaxSize(4),
                Arbitraries.maps(partKeys(), seqnosUpTo(seqno)).ofMaxSize(4))
                .as(Handles::new);
        Arbitrary<Handles> none = Arbitraries.maps(schemaIds(), schemas()).ofMaxSize(4)
                .map(schemas -> new Handles(Map.of(), Map.of(), Map.of(), schemas, Map.of()));
        Arbitrary<Trace> closed = contiguousBatches(0, 1, 3, List.of(), true)
                .map(batches -> new Trace(Frontier.EMPTY, batches));
        return Arbitraries.frequencyOf(List.of(
                Tuple.of(9, collections(seqno, handles, traces())),
                Tuple.of(1, collections(seqno, none, closed))));
    }

    private static Arbitrary<StateCollections> collections(long seqno, Arbitrary<Handles> handles,
            Arbitrary<Trace> traces) {
        return Combinators.combine(versions(), seqnosUpTo(seqno), rollups(seqno), activeMarkers(seqno).optional(0.3),
                activeMarkers(seqno).optional(0.3), handles, traces)
                .as((version, lastGcReq, rollups, activeRollup, activeGc, h, trace) -> StateCollections.of(version,
                        lastGcReq, rollups, activeRollup, activeGc, h.leased, h.critical, h.writers, h.schemas, h.released,
                trace));
    }

    private record Handles(Map<LeasedReaderId, LeasedReaderState> leased,
            Map<CriticalReaderId, CriticalReaderState> critical, Map<WriterId, WriterState> writers,
            Map<SchemaId, EncodedSchemas> schemas, Map<PartialBatchKey, SeqNo> released) {}

    // ---------------------------------------------------------------------------------------------- scalars

    public static Arbitrary<UUID> uuids() {
        return Arbitraries.longs().tuple2().map(t -> new UUID(t.get1(), t.get2()));
    }

    public static Arbitrary<ShardId> shardIds() {
        return uuids().map(ShardId::new);
    }

    public static Arbitrary<LeasedReaderId> leasedReaderIds() {
        return uuids().map(LeasedReaderId::new);
    }

    public static Arbitrary<CriticalReaderId> criticalReaderIds() {
        return uuids().map(CriticalReaderId::new);
    }

    public static Arbitrary<WriterId> writerIds() {
        return uuids().map(WriterId::new);
    }

    public static Arbitrary<SchemaId> schemaIds() {
        return Arbitraries.longs().between(0, 20).map(SchemaId::new);
    }

    /** Seqnos of states that have a successor: {@code [1, 2^63-2]}, mostly small. */
    public static Arbitrary<Long> seqnos() {
        return withExtremes(Arbitraries.longs().between(1, Long.MAX_VALUE - 1)
                .withDistribution(RandomDistribution.biased()), 1L, 2L, Long.MAX_VALUE - 1);
    }

    /** {@code [0, max]}, mostly close to either end. */
    public static Arbitrary<SeqNo> seqnosUpTo(long max) {
        return Arbitraries.oneOf(
                Arbitraries.longs().between(0, max),
                Arbitraries.longs().between(0, Math.min(max, 10)).map(d -> max - d))
                .map(SeqNo::of);
    }

    public static Arbitrary<Long> walltimes() {
        return withExtremes(Arbitraries.longs().between(0, Long.MAX_VALUE / 2)
                .withDistribution(RandomDistribution.biased()), 0L, Long.MAX_VALUE / 2);
    }

    /** Timestamps of frontiers: {@code [0, 2^63-1]}, mostly small. */
    public static Arbitrary<Long> timestamps() {
        return withExtremes(Arbitraries.longs().between(0, Long.MAX_VALUE)
                .withDistribution(RandomDistribution.biased()), 0L, 1L, Long.MAX_VALUE);
    }

    /**
     * {@code values}, or one of {@code extremes} one time in ten: the properties run without jqwik's combined edge
     * cases (a whole state has far more of them than tries), so the extremes are mixed in here.
     */
    private static Arbitrary<Long> withExtremes(Arbitrary<Long> values, long... extremes) {
        Arbitrary<Long> extreme = Arbitraries.of(LongStream.of(extremes).boxed().toList());
        return Arbitraries.frequencyOf(List.of(Tuple.of(9, values), Tuple.of(1, extreme)));
    }

    /** Frontiers, the empty one ({@code {}}) among them. */
    public static Arbitrary<Frontier> frontiers() {
        return Arbitraries.frequencyOf(List.of(
                Tuple.of(1, Arbitraries.just(Frontier.EMPTY)),
                Tuple.of(4, timestamps().map(Frontier::of))));
    }

    /** Versions that also fit a writer key (2+3+2 digits). */
    public static Arbitrary<Version> versions() {
        return Combinators.combine(Arbitraries.integers().between(0, 99), Arbitraries.integers().between(0, 999),
                Arbitraries.integers().between(0, 99)).as(Version::new);
    }

    public static Arbitrary<Codecs> codecs() {
        return Combinators.combine(text(), text(), text(), text()).as(Codecs::new);
    }

    /**
     * Strings of Unicode scalar values: mostly ASCII (control characters included), some from the rest of the
     * Basic Multilingual Plane, some supplementary (two UTF-16 units). Never a lone surrogate: such a string is
     * not Unicode text, and protobuf writes it as {@code ?}.
     */
    public static Arbitrary<String> text() {
        Arbitrary<Integer> codePoints = Arbitraries.frequencyOf(List.of(
                Tuple.of(6, Arbitraries.integers().between(0, 0x7f)),
                Tuple.of(2, Arbitraries.integers().between(0x80, 0xd7ff)),
                Tuple.of(1, Arbitraries.integers().between(0xe000, 0xffff)),
                Tuple.of(1, Arbitraries.integers().between(0x10000, 0x10ffff))));
        return codePoints.list().ofMaxSize(12)
                .map(cps -> new String(cps.stream().mapToInt(Integer::intValue).toArray(), 0, cps.size()));
    }

    public static Arbitrary<Bytes> bytes(int maxSize) {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(maxSize).map(Bytes::copyOf);
    }

    public static Arbitrary<HandleDebug> debugs() {
        return Combinators.combine(text(), text()).as(HandleDebug::new);
    }

    private static Arbitrary<OptionalLong> optionalLongs(Arbitrary<Long> values) {
        return values.optional(0.5).map(o -> o.map(OptionalLong::of).orElse(OptionalLong.empty()));
    }

    private static Arbitrary<Long> sizes() {
        return withExtremes(Arbitraries.longs().between(0, Long.MAX_VALUE)
                .withDistribution(RandomDistribution.biased()), 0L, Long.MAX_VALUE);
    }

    /** Any {@code long}, the extremes included. */
    private static Arbitrary<Long> anyLong() {
        return withExtremes(Arbitraries.longs(), 0L, -1L, Long.MIN_VALUE, Long.MAX_VALUE);
    }

    // -------------------------------------------------------------------------------------- rollups, markers

    /** A rollup of the state at {@code seqno}: its key names that seqno. */
    public static Arbitrary<HollowRollup> rollupsAt(SeqNo seqno) {
        return Combinators.combine(uuids(), optionalLongs(sizes()))
                .as((id, size) -> new HollowRollup(new PartialRollupKey(seqno, new RollupId(id)), size));
    }

    /** 1 to 4 rollups at seqnos up to {@code seqno}. */
    public static Arbitrary<Map<SeqNo, HollowRollup>> rollups(long seqno) {
        return seqnosUpTo(seqno).flatMap(s -> rollupsAt(s).map(r -> Map.entry(s, r)))
                .list().ofMinSize(1).ofMaxSize(4)
                .map(entries -> {
                    Map<SeqNo, HollowRollup> rollups = new TreeMap<>();
                    entries.forEach(e -> rollups.putIfAbsent(e.getKey(), e.getValue()));
                    return rollups;
                });
    }

    public static Arbitrary<ActiveMarker> activeMarkers(long seqno) {
        return Combinators.combine(seqnosUpTo(seqno), walltimes()).as(ActiveMarker::new);
    }

    // ---------------------------------------------------------------------------------------------- handles

    /** Leased readers of a state at {@code seqno}: their seqno holds are at or below it. */
    public static Arbitrary<LeasedReaderState> leasedReaders(long seqno) {
        return Combinators.combine(seqnosUpTo(seqno), frontiers(), walltimes(), leaseDurations(), debugs())
                .as(LeasedReaderState::new);
    }

    public static Arbitrary<CriticalReaderState> criticalReaders() {
        return Combinators.combine(frontiers(), anyLong(), text(), debugs()).as(CriticalReaderState::new);
    }

    public static Arbitrary<WriterState> writers() {
        Arbitrary<IdempotencyToken> tokens = Arbitraries.frequencyOf(List.of(
                Tuple.of(1, Arbitraries.just(IdempotencyToken.SENTINEL)),
                Tuple.of(3, uuids().map(IdempotencyToken::new))));
        return Combinators.combine(walltimes(), leaseDurations(), tokens, frontiers(), debugs())
                .as(WriterState::new);
    }

    private static Arbitrary<Long> leaseDurations() {
        return Arbitraries.longs().between(1, Long.MAX_VALUE / 2).withDistribution(RandomDistribution.biased());
    }

    public static Arbitrary<EncodedSchemas> schemas() {
        return Combinators.combine(bytes(8), bytes(8), bytes(8), bytes(8)).as(EncodedSchemas::new);
    }

    // ---------------------------------------------------------------------------------------------- batches

    /** Traces of 0 to 5 batches from {@code {0}}, the last one possibly closed ({@code upper = {}}). */
    public static Arbitrary<Trace> traces() {
        return Combinators.combine(frontiers(), contiguousBatches(0, 0, 5, List.of(), false)).as(Trace::new);
    }

    /**
     * {@code min..max} contiguous batches from {@code lower}, the last one closed ({@code upper = {}}) sometimes or,
     * with {@code mustClose}, always; their parts may reuse some of {@code reusable}.
     */
    static Arbitrary<List<HollowBatch>> contiguousBatches(long lower, int min, int max, List<BatchPart> reusable,
            boolean mustClose) {
        Arbitrary<List<Long>> gaps = Arbitraries.longs().between(1, MAX_GAP)
                .withDistribution(RandomDistribution.biased()).list().ofMinSize(min).ofMaxSize(max);
        Arbitrary<Boolean> closed = mustClose ? Arbitraries.just(true) : Arbitraries.frequencyOf(List.of(
                Tuple.of(4, Arbitraries.just(false)), Tuple.of(1, Arbitraries.just(true))));
        return Combinators.combine(gaps, closed).flatAs((g, close) -> {
            List<Arbitrary<HollowBatch>> batches = new ArrayList<>();
            long at = lower;
            for (int i = 0; i < g.size(); i++) {
                long upper = at + g.get(i);
                Frontier upperFrontier = close && i == g.size() - 1 ? Frontier.EMPTY : Frontier.of(upper);
                batches.add(batches(Frontier.of(at), upperFrontier, reusable));
                at = upper;
            }
            return sequence(batches);
        });
    }

    /**
     * Batches over {@code [lower, upper)}: 0 to 4 parts (some of {@code reusable}, the rest new), valid run splits
     * and at most one run metadata entry per run.
     */
    public static Arbitrary<HollowBatch> batches(Frontier lower, Frontier upper, List<BatchPart> reusable) {
        Arbitrary<List<BatchPart>> reused = reusable.isEmpty() ? Arbitraries.just(List.of())
                : Arbitraries.subsetOf(reusable).map(List::copyOf);
        Arbitrary<List<BatchPart>> parts = Combinators.combine(reused, parts().list().ofMaxSize(4))
                .as((r, fresh) -> {
                    List<BatchPart> all = new ArrayList<>(r);
                    all.addAll(fresh);
                    return all.size() > 6 ? all.subList(0, 6) : all;
                });
        return Combinators.combine(frontiers(), parts).flatAs((since, ps) -> {
            Description desc = new Description(lower, upper, since);
            if (ps.isEmpty()) {
                return Arbitraries.just(HollowBatch.empty(desc));
            }
            List<Integer> candidates = new ArrayList<>();
            for (int i = 1; i < ps.size(); i++) {
                candidates.add(i);
            }
            Arbitrary<List<Integer>> splits = candidates.isEmpty() ? Arbitraries.just(List.of())
                    : Arbitraries.subsetOf(candidates).map(s -> s.stream().sorted().toList());
            return Combinators.combine(Arbitraries.longs().between(0, 1_000_000), splits).flatAs((len, sp) ->
                    runMetas().list().ofMaxSize(sp.size() + 1)
                            .map(meta -> new HollowBatch(desc, len, ps, sp, meta)));
        });
    }

    /** Blob part keys, of writers and of the service's own writer keys (by version, and of finished writers). */
    public static Arbitrary<PartialBatchKey> partKeys() {
        Arbitrary<WriterKey> writerKeys = Arbitraries.oneOf(
                writerIds().map(WriterKey::of),
                versions().map(WriterKey::ofVersion),
                versions().map(v -> WriterKey.parse("f" + WriterKey.ofVersion(v).printed().substring(1))));
        return Combinators.combine(writerKeys, uuids().map(PartId::new)).as(PartialBatchKey::new);
    }

    /** Hollow parts (mostly) and inline parts, with every optional field sometimes present. */
    public static Arbitrary<BatchPart> parts() {
        Arbitrary<PartialBatchKey> keys = partKeys();
        Arbitrary<Optional<Frontier>> tsRewrite = frontiers().optional(0.3);
        Arbitrary<OptionalLong> schemaId = optionalLongs(Arbitraries.longs().between(0, 10));
        Arbitrary<BatchPart> hollow = Combinators.combine(keys, sizes(), bytes(8), tsRewrite,
                optionalLongs(anyLong()), schemaId, bytes(8))
                .as(BatchPart.Hollow::new);
        Arbitrary<BatchPart> inline = Combinators.combine(bytes(16), tsRewrite, schemaId).as(BatchPart.Inline::new);
        return Arbitraries.frequencyOf(List.of(Tuple.of(4, hollow), Tuple.of(1, inline)));
    }

    public static Arbitrary<RunMeta> runMetas() {
        Arbitrary<Map<String, Bytes>> meta = Arbitraries.maps(text(), bytes(4)).ofMaxSize(2);
        return Combinators.combine(Arbitraries.of(RunMeta.Order.class), optionalLongs(Arbitraries.longs().between(0, 10)),
                uuids().map(RunId::new).optional(0.5), optionalLongs(Arbitraries.longs().between(0, 1_000_000)), meta)
                .as((order, schemaId, runId, len, m) -> new RunMeta(order, schemaId, runId, len, new TreeMap<>(m)));
    }

    // ---------------------------------------------------------------------------------------------- edits

    /** {@code unchanged} three times out of four. */
    private static <T> Arbitrary<T> mostly(T unchanged, Arbitrary<T> changed) {
        return Arbitraries.frequencyOf(List.of(Tuple.of(3, Arbitraries.just(unchanged)), Tuple.of(1, changed)));
    }

    private static <T> Arbitrary<List<T>> sequence(List<Arbitrary<T>> arbitraries) {
        return arbitraries.isEmpty() ? Arbitraries.just(List.of())
                : Combinators.combine(arbitraries).as(List::copyOf);
    }

    /** Absent, present or replaced: each possible edit of an optional field, or none. */
    private static <T> Arbitrary<Optional<T>> editOptional(Optional<T> old, Arbitrary<T> values) {
        return mostly(old, values.optional(0.6));
    }

    /**
     * Each existing entry kept (mostly), updated or deleted, and up to 2 entries inserted; the value of a key comes
     * from {@code values}.
     */
    private static <K extends Comparable<K>, V> Arbitrary<NavigableMap<K, V>> editMap(NavigableMap<K, V> old,
            Arbitrary<K> keys, Function<K, Arbitrary<V>> values) {
        List<Arbitrary<Optional<V>>> fates = new ArrayList<>();
        for (Map.Entry<K, V> e : old.entrySet()) {
            fates.add(Arbitraries.frequencyOf(List.of(
                    Tuple.of(4, Arbitraries.just(Optional.of(e.getValue()))),
                    Tuple.of(1, values.apply(e.getKey()).map(Optional::of)),
                    Tuple.of(1, Arbitraries.just(Optional.<V>empty())))));
        }
        List<K> oldKeys = List.copyOf(old.keySet());
        Arbitrary<List<Map.Entry<K, V>>> inserts = keys.flatMap(k -> values.apply(k).map(v -> Map.entry(k, v)))
                .list().ofMaxSize(2);
        return Combinators.combine(sequence(fates), inserts).as((kept, inserted) -> {
            NavigableMap<K, V> map = new TreeMap<>();
            for (int i = 0; i < oldKeys.size(); i++) {
                K key = oldKeys.get(i);
                kept.get(i).ifPresent(v -> map.put(key, v));
            }
            inserted.forEach(e -> map.putIfAbsent(e.getKey(), e.getValue()));
            return map;
        });
    }

    /** Rollups edited like any map, at seqnos up to {@code seqno}; if every one was deleted the latest stays. */
    private static Arbitrary<NavigableMap<SeqNo, HollowRollup>> editRollups(NavigableMap<SeqNo, HollowRollup> old,
            long seqno) {
        Map.Entry<SeqNo, HollowRollup> latest = old.lastEntry();
        return editMap(old, seqnosUpTo(seqno), StateGen::rollupsAt).map(m -> {
            if (m.isEmpty()) {
                m.put(latest.getKey(), latest.getValue());
            }
            return m;
        });
    }

    /**
     * The since changed or not, and the batches: unchanged, appended to (unless closed), a range replaced by one
     * batch over the same times (a compaction, possibly keeping some parts), the tail cut off, or all new.
     */
    private static Arbitrary<Trace> editTrace(Trace old) {
        List<HollowBatch> batches = old.batches();
        List<Tuple.Tuple2<Integer, Arbitrary<List<HollowBatch>>>> edits = new ArrayList<>();
        edits.add(Tuple.of(4, Arbitraries.just(batches)));
        edits.add(Tuple.of(1, contiguousBatches(0, 0, 5, List.of(), false)));
        if (!old.upper().isEmpty()) {
            edits.add(Tuple.of(3, contiguousBatches(old.upper().element(), 1, 3, List.of(), false).map(appended -> {
                List<HollowBatch> all = new ArrayList<>(batches);
                all.addAll(appended);
                return all;
            })));
        }
        if (!batches.isEmpty()) {
            int n = batches.size();
            edits.add(Tuple.of(3, Arbitraries.integers().between(0, n - 1).tuple2().flatMap(t -> {
                int first = Math.min(t.get1(), t.get2());
                int last = Math.max(t.get1(), t.get2());
                List<BatchPart> reusable = new ArrayList<>();
                batches.subList(first, last + 1).forEach(b -> reusable.addAll(b.parts()));
                return batches(batches.get(first).desc().lower(), batches.get(last).desc().upper(), reusable)
                        .map(merged -> {
                            List<HollowBatch> all = new ArrayList<>(batches.subList(0, first));
                            all.add(merged);
                            all.addAll(batches.subList(last + 1, n));
                            return all;
                        });
            })));
            edits.add(Tuple.of(1, Arbitraries.integers().between(0, n - 1).map(keep -> batches.subList(0, keep))));
        }
        return Combinators.combine(mostly(old.since(), frontiers()), Arbitraries.frequencyOf(edits)).as(Trace::new);
    }
}
