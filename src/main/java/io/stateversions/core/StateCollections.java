package io.stateversions.core;

import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything in a shard's state but its identity and version stamp (spec §3.2). Immutable; a command changes a
 * {@link Builder} made by {@link #toBuilder}.
 *
 * <h2>Cost</h2>
 * The maps are persistent ({@link IndexedMap}: pcollections' balanced trees), so that a new version shares every
 * entry it did not change with the version before: a command that touches k of a shard's n handles costs O(k log n),
 * whether it commits here or its diff is applied on another replica. The builder records the keys it touches
 * ({@link MapEdits}), so that {@link StateDiff#compute} compares those keys alone, and skips every map that is still
 * the same instance. Questions that every commit asks about all handles are answered from persistent indexes the maps
 * keep as they change: the handles whose lease lapsed ({@link #lapsedLeasedReaders}, {@link #lapsedWriters}), the
 * least seqno hold ({@link #leastSeqnoHold}) and the meet of the readers' sinces ({@link #readerSinceMeet}), each
 * O(log n) plus what it returns. The indexes are derived: never encoded, built when a state is decoded
 * ({@link #of}), and no part of {@link #equals}.
 */
public final class StateCollections {

    /** When a leased reader's lease lapses: it is expired at every time after ({@link Leases#expiresAtMs}). */
    static final IndexedMap.Index<LeasedReaderState, Long> LEASED_READER_EXPIRY = new IndexedMap.Index<>(
            "leasedReaderExpiresAtMs", r -> Leases.expiresAtMs(r.lastHeartbeatTimestampMs(), r.leaseDurationMs()));
    /** A leased reader's seqno hold, whose least is the shard's {@link State#seqnoSince}. */
    static final IndexedMap.Index<LeasedReaderState, SeqNo> SEQNO_HOLD = new IndexedMap.Index<>(
            "leasedReaderSeqnoHold", LeasedReaderState::seqno);
    /** A reader's since: the least of both kinds is the meet that the shard's since follows ({@link Commands}). */
    static final IndexedMap.Index<LeasedReaderState, Frontier> LEASED_READER_SINCE = new IndexedMap.Index<>(
            "leasedReaderSince", LeasedReaderState::since);
    static final IndexedMap.Index<CriticalReaderState, Frontier> CRITICAL_READER_SINCE = new IndexedMap.Index<>(
            "criticalReaderSince", CriticalReaderState::since);
    /** When a writer's lease lapses. */
    static final IndexedMap.Index<WriterState, Long> WRITER_EXPIRY = new IndexedMap.Index<>("writerExpiresAtMs",
            w -> Leases.expiresAtMs(w.lastHeartbeatTimestampMs(), w.leaseDurationMs()));

    private static final List<IndexedMap.Index<LeasedReaderState, ?>> LEASED_READER_INDEXES =
            List.of(LEASED_READER_EXPIRY, SEQNO_HOLD, LEASED_READER_SINCE);
    private static final List<IndexedMap.Index<CriticalReaderState, ?>> CRITICAL_READER_INDEXES =
            List.of(CRITICAL_READER_SINCE);
    private static final List<IndexedMap.Index<WriterState, ?>> WRITER_INDEXES = List.of(WRITER_EXPIRY);

    private static final IndexedMap<SeqNo, HollowRollup> NO_ROLLUPS = IndexedMap.empty(List.of());
    private static final IndexedMap<LeasedReaderId, LeasedReaderState> NO_LEASED_READERS =
            IndexedMap.empty(LEASED_READER_INDEXES);
    private static final IndexedMap<CriticalReaderId, CriticalReaderState> NO_CRITICAL_READERS =
            IndexedMap.empty(CRITICAL_READER_INDEXES);
    private static final IndexedMap<WriterId, WriterState> NO_WRITERS = IndexedMap.empty(WRITER_INDEXES);
    private static final IndexedMap<SchemaId, EncodedSchemas> NO_SCHEMAS = IndexedMap.empty(List.of());
    /** The version that released a part: the parts released at or below a seqno go at once. */
    static final IndexedMap.Index<SeqNo, SeqNo> RELEASED_AT = new IndexedMap.Index<>("releasedAt", seqno -> seqno);
    private static final List<IndexedMap.Index<SeqNo, ?>> RELEASED_INDEXES = List.of(RELEASED_AT);
    private static final IndexedMap<PartialBatchKey, SeqNo> NO_RELEASED_PARTS = IndexedMap.empty(RELEASED_INDEXES);

    private final Version version;
    private final SeqNo lastGcReq;
    private final IndexedMap<SeqNo, HollowRollup> rollups;
    private final Optional<ActiveMarker> activeRollup;
    private final Optional<ActiveMarker> activeGc;
    private final IndexedMap<LeasedReaderId, LeasedReaderState> leasedReaders;
    private final IndexedMap<CriticalReaderId, CriticalReaderState> criticalReaders;
    private final IndexedMap<WriterId, WriterState> writers;
    private final IndexedMap<SchemaId, EncodedSchemas> schemas;
    private final IndexedMap<PartialBatchKey, SeqNo> releasedParts;
    private final Trace trace;

    private StateCollections(Version version, SeqNo lastGcReq, IndexedMap<SeqNo, HollowRollup> rollups,
            Optional<ActiveMarker> activeRollup, Optional<ActiveMarker> activeGc,
            IndexedMap<LeasedReaderId, LeasedReaderState> leasedReaders,
            IndexedMap<CriticalReaderId, CriticalReaderState> criticalReaders,
            IndexedMap<WriterId, WriterState> writers, IndexedMap<SchemaId, EncodedSchemas> schemas,
            IndexedMap<PartialBatchKey, SeqNo> releasedParts, Trace trace) {
        this.version = Objects.requireNonNull(version, "version");
        this.lastGcReq = Objects.requireNonNull(lastGcReq, "lastGcReq");
        this.rollups = Objects.requireNonNull(rollups, "rollups");
        this.activeRollup = Objects.requireNonNull(activeRollup, "activeRollup");
        this.activeGc = Objects.requireNonNull(activeGc, "activeGc");
        this.leasedReaders = Objects.requireNonNull(leasedReaders, "leasedReaders");
        this.criticalReaders = Objects.requireNonNull(criticalReaders, "criticalReaders");
        this.writers = Objects.requireNonNull(writers, "writers");
        this.schemas = Objects.requireNonNull(schemas, "schemas");
        this.releasedParts = Objects.requireNonNull(releasedParts, "releasedParts");
        this.trace = Objects.requireNonNull(trace, "trace");
    }

    /** The collections of the never-committed empty state (seqno 0) that bootstraps a shard. */
    public static StateCollections empty(Version version) {
        return new StateCollections(version, SeqNo.MIN, NO_ROLLUPS, Optional.empty(), Optional.empty(),
                NO_LEASED_READERS, NO_CRITICAL_READERS, NO_WRITERS, NO_SCHEMAS, NO_RELEASED_PARTS, Trace.EMPTY);
    }

    /** The version of the code that wrote this state (persist's {@code applier_version}). */
    public Version version() {
        return version;
    }

    /** The highest seqno since ever assigned to a GC request; never regresses. */
    public SeqNo lastGcReq() {
        return lastGcReq;
    }

    /**
     * Known rollups by the seqno of the state they hold; never empty once the shard is initialized. Like every map
     * here: read-only, and persistent (it never changes).
     */
    public NavigableMap<SeqNo, HollowRollup> rollups() {
        return rollups.map();
    }

    public Optional<ActiveMarker> activeRollup() {
        return activeRollup;
    }

    public Optional<ActiveMarker> activeGc() {
        return activeGc;
    }

    public NavigableMap<LeasedReaderId, LeasedReaderState> leasedReaders() {
        return leasedReaders.map();
    }

    public NavigableMap<CriticalReaderId, CriticalReaderState> criticalReaders() {
        return criticalReaders.map();
    }

    public NavigableMap<WriterId, WriterState> writers() {
        return writers.map();
    }

    public NavigableMap<SchemaId, EncodedSchemas> schemas() {
        return schemas.map();
    }

    /**
     * The blob parts that a merge removed from the shard's batches, by the version that removed them: GC deletes
     * them once it truncates that version, so until then no batch may name them again (an append or merge output
     * that does is refused, {@link Commands}). A part is here from its release until the GC that collected it
     * removes the rollups below its version ({@link Commands#removeRollups}). Not persist's: its part keys are
     * fresh by construction, a network client's are not.
     */
    public NavigableMap<PartialBatchKey, SeqNo> releasedParts() {
        return releasedParts.map();
    }

    public Trace trace() {
        return trace;
    }

    /** The least seqno hold of the leased readers, if there are any: O(log n). */
    public Optional<SeqNo> leastSeqnoHold() {
        return leasedReaders.least(SEQNO_HOLD);
    }

    /** The meet of every reader's since, leased and critical; {@code {}} without readers. O(log n). */
    public Frontier readerSinceMeet() {
        return readerSinceMeet(leasedReaders, criticalReaders);
    }

    /** The leased readers expired at {@code nowMs} (as {@link LeasedReaderState#isExpiredAt}), soonest first. */
    public List<LeasedReaderId> lapsedLeasedReaders(long nowMs) {
        return leasedReaders.keysBelow(LEASED_READER_EXPIRY, nowMs);
    }

    /** The writers expired at {@code nowMs} (as {@link WriterState#isExpiredAt}), soonest first. */
    public List<WriterId> lapsedWriters(long nowMs) {
        return writers.keysBelow(WRITER_EXPIRY, nowMs);
    }

    /** Whether a leased reader or a writer is expired at {@code nowMs}: O(log n). */
    public boolean hasLapsedHandles(long nowMs) {
        return leasedReaders.least(LEASED_READER_EXPIRY).filter(expiresAtMs -> expiresAtMs < nowMs).isPresent()
                || writers.least(WRITER_EXPIRY).filter(expiresAtMs -> expiresAtMs < nowMs).isPresent();
    }

    private static Frontier readerSinceMeet(IndexedMap<LeasedReaderId, LeasedReaderState> leasedReaders,
            IndexedMap<CriticalReaderId, CriticalReaderState> criticalReaders) {
        Frontier leased = leasedReaders.least(LEASED_READER_SINCE).orElse(Frontier.EMPTY);
        Frontier critical = criticalReaders.least(CRITICAL_READER_SINCE).orElse(Frontier.EMPTY);
        return leased.meet(critical);
    }

    /**
     * Upper and since both {@code {}} and no readers or writers: the terminal state of a finalized shard, after
     * which only maintenance commits.
     */
    public boolean isTombstone() {
        return isTombstone(trace, writers.map(), leasedReaders.map(), criticalReaders.map());
    }

    private static boolean isTombstone(Trace trace, Map<?, ?> writers, Map<?, ?> leasedReaders,
            Map<?, ?> criticalReaders) {
        return trace.upper().isEmpty() && trace.since().isEmpty() && writers.isEmpty() && leasedReaders.isEmpty()
                && criticalReaders.isEmpty();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** Equal iff every field and every map's entries are (the indexes follow from the maps). */
    @Override
    public boolean equals(Object o) {
        return o instanceof StateCollections other
                && version.equals(other.version)
                && lastGcReq.equals(other.lastGcReq)
                && rollups().equals(other.rollups())
                && activeRollup.equals(other.activeRollup)
                && activeGc.equals(other.activeGc)
                && leasedReaders().equals(other.leasedReaders())
                && criticalReaders().equals(other.criticalReaders())
                && writers().equals(other.writers())
                && schemas().equals(other.schemas())
                && releasedParts().equals(other.releasedParts())
                && trace.equals(other.trace);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, lastGcReq, rollups(), activeRollup, activeGc, leasedReaders(), criticalReaders(),
                writers(), schemas(), releasedParts(), trace);
    }

    @Override
    public String toString() {
        return "StateCollections{version=" + version + ", lastGcReq=" + lastGcReq + ", rollups=" + rollups
                + ", activeRollup=" + activeRollup + ", activeGc=" + activeGc + ", leasedReaders=" + leasedReaders
                + ", criticalReaders=" + criticalReaders + ", writers=" + writers + ", schemas="
                + schemas().keySet() + ", releasedParts=" + releasedParts + ", trace=" + trace + "}";
    }

    /**
     * The collections as one transition changes them. The plain accessors return read-only views; the
     * {@code mutable…} accessors return views to change the maps through ({@link MapBuilder}): O(log n) per put or
     * remove, never a copy, each key recorded ({@link #mapEdits}). {@link #build} is O(1), and the builder can go on
     * changing the maps after it without touching what it built.
     */
    public static final class Builder {

        private Version version;
        private SeqNo lastGcReq;
        private Optional<ActiveMarker> activeRollup;
        private Optional<ActiveMarker> activeGc;
        private Trace trace;
        /** What {@link #push} and {@link #applyMergeRes} did to the batches; null once {@link #trace} replaced them. */
        private BatchEdits batchEdits = new BatchEdits();
        private final MapBuilder<SeqNo, HollowRollup> rollups;
        private final MapBuilder<LeasedReaderId, LeasedReaderState> leasedReaders;
        private final MapBuilder<CriticalReaderId, CriticalReaderState> criticalReaders;
        private final MapBuilder<WriterId, WriterState> writers;
        private final MapBuilder<SchemaId, EncodedSchemas> schemas;
        private final MapBuilder<PartialBatchKey, SeqNo> releasedParts;

        private Builder(StateCollections from) {
            version = from.version;
            lastGcReq = from.lastGcReq;
            activeRollup = from.activeRollup;
            activeGc = from.activeGc;
            trace = from.trace;
            rollups = new MapBuilder<>(from.rollups);
            leasedReaders = new MapBuilder<>(from.leasedReaders);
            criticalReaders = new MapBuilder<>(from.criticalReaders);
            writers = new MapBuilder<>(from.writers);
            schemas = new MapBuilder<>(from.schemas);
            releasedParts = new MapBuilder<>(from.releasedParts);
        }

        public Version version() {
            return version;
        }

        public Builder version(Version value) {
            version = Objects.requireNonNull(value);
            return this;
        }

        public SeqNo lastGcReq() {
            return lastGcReq;
        }

        public Builder lastGcReq(SeqNo value) {
            lastGcReq = Objects.requireNonNull(value);
            return this;
        }

        public Optional<ActiveMarker> activeRollup() {
            return activeRollup;
        }

        public Builder activeRollup(Optional<ActiveMarker> value) {
            activeRollup = Objects.requireNonNull(value);
            return this;
        }

        public Optional<ActiveMarker> activeGc() {
            return activeGc;
        }

        public Builder activeGc(Optional<ActiveMarker> value) {
            activeGc = Objects.requireNonNull(value);
            return this;
        }

        public Trace trace() {
            return trace;
        }

        /**
         * Replaces the trace. Keeping its batches ({@link Trace#withSince}) keeps the record of batch edits; other
         * batches lose it, and the diff of this transition falls back to comparing both traces.
         */
        public Builder trace(Trace value) {
            Objects.requireNonNull(value, "trace");
            if (!value.sharesBatchesWith(trace)) {
                batchEdits = null;
            }
            trace = value;
            return this;
        }

        /** {@link Trace#push} on the trace, recording what it edited. */
        public Trace.Pushed push(HollowBatch batch) {
            Trace.Pushed pushed = trace.push(batch, batchEdits);
            trace = pushed.trace();
            return pushed;
        }

        /** {@link Trace#applyMergeRes} on the trace, recording what it edited. */
        public Trace.Merged applyMergeRes(FueledMergeRes res) {
            Trace.Merged merged = trace.applyMergeRes(res, batchEdits);
            trace = merged.trace();
            return merged;
        }

        /** The batches deleted and inserted since this builder was made, or null if the trace was replaced. */
        BatchEdits batchEdits() {
            return batchEdits;
        }

        /** The keys of each map put or removed since this builder was made, so far (read it when done editing). */
        MapEdits mapEdits() {
            return new MapEdits(rollups.edited(), leasedReaders.edited(), criticalReaders.edited(), writers.edited(),
                    schemas.edited(), releasedParts.edited());
        }

        public NavigableMap<SeqNo, HollowRollup> rollups() {
            return rollups.view();
        }

        public NavigableMap<SeqNo, HollowRollup> mutableRollups() {
            return rollups.mutable();
        }

        public NavigableMap<LeasedReaderId, LeasedReaderState> leasedReaders() {
            return leasedReaders.view();
        }

        public NavigableMap<LeasedReaderId, LeasedReaderState> mutableLeasedReaders() {
            return leasedReaders.mutable();
        }

        public NavigableMap<CriticalReaderId, CriticalReaderState> criticalReaders() {
            return criticalReaders.view();
        }

        public NavigableMap<CriticalReaderId, CriticalReaderState> mutableCriticalReaders() {
            return criticalReaders.mutable();
        }

        public NavigableMap<WriterId, WriterState> writers() {
            return writers.view();
        }

        public NavigableMap<WriterId, WriterState> mutableWriters() {
            return writers.mutable();
        }

        public NavigableMap<SchemaId, EncodedSchemas> schemas() {
            return schemas.view();
        }

        public NavigableMap<SchemaId, EncodedSchemas> mutableSchemas() {
            return schemas.mutable();
        }

        public NavigableMap<PartialBatchKey, SeqNo> mutableReleasedParts() {
            return releasedParts.mutable();
        }

        /** Whether any part is released now: O(1), no allocation (the append path asks it). */
        public boolean hasReleasedParts() {
            return !releasedParts.current().map().isEmpty();
        }

        /** The seqno that released {@code key}, or null if it is not released now: O(log n). */
        public SeqNo releasedAt(PartialBatchKey key) {
            return releasedParts.current().map().get(key);
        }

        /** The released parts whose release is at or below {@code seqno}, earliest first: O(log n + their number). */
        public List<PartialBatchKey> releasedAtOrBelow(SeqNo seqno) {
            return releasedParts.current().keysBelow(RELEASED_AT, seqno.next());
        }

        /** As {@link StateCollections#isTombstone}, of the collections as they are now. */
        public boolean isTombstone() {
            return StateCollections.isTombstone(trace, writers.view(), leasedReaders.view(), criticalReaders.view());
        }

        /** As {@link StateCollections#leastSeqnoHold}, of the leased readers as they are now. */
        public Optional<SeqNo> leastSeqnoHold() {
            return leasedReaders.current().least(SEQNO_HOLD);
        }

        /** As {@link StateCollections#readerSinceMeet}, of the readers as they are now. */
        public Frontier readerSinceMeet() {
            return StateCollections.readerSinceMeet(leasedReaders.current(), criticalReaders.current());
        }

        /** As {@link StateCollections#lapsedLeasedReaders}, of the leased readers as they are now. */
        public List<LeasedReaderId> lapsedLeasedReaders(long nowMs) {
            return leasedReaders.current().keysBelow(LEASED_READER_EXPIRY, nowMs);
        }

        /** As {@link StateCollections#lapsedWriters}, of the writers as they are now. */
        public List<WriterId> lapsedWriters(long nowMs) {
            return writers.current().keysBelow(WRITER_EXPIRY, nowMs);
        }

        public StateCollections build() {
            return new StateCollections(version, lastGcReq, rollups.current(), activeRollup, activeGc,
                    leasedReaders.current(), criticalReaders.current(), writers.current(), schemas.current(),
                    releasedParts.current(), trace);
        }
    }

    /**
     * The collections of decoded maps (which are copied: the caller may keep or change them). O(n log n) for n
     * entries, which builds the maps' indexes; every state after this one maintains them as it changes.
     */
    public static StateCollections of(Version version, SeqNo lastGcReq, Map<SeqNo, HollowRollup> rollups,
            Optional<ActiveMarker> activeRollup, Optional<ActiveMarker> activeGc,
            Map<LeasedReaderId, LeasedReaderState> leasedReaders,
            Map<CriticalReaderId, CriticalReaderState> criticalReaders, Map<WriterId, WriterState> writers,
            Map<SchemaId, EncodedSchemas> schemas, Map<PartialBatchKey, SeqNo> releasedParts, Trace trace) {
        return new StateCollections(version, lastGcReq, IndexedMap.of(rollups, List.of()), activeRollup, activeGc,
                IndexedMap.of(leasedReaders, LEASED_READER_INDEXES), IndexedMap.of(criticalReaders,
                CRITICAL_READER_INDEXES), IndexedMap.of(writers, WRITER_INDEXES), IndexedMap.of(schemas, List.of()),
                IndexedMap.of(releasedParts, RELEASED_INDEXES), trace);
    }
}
