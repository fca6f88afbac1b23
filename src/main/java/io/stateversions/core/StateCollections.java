package io.stateversions.core;

import java.util.Collections;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Everything in a shard's state but its identity and version stamp (spec §3.2). Immutable; a command changes a
 * {@link Builder} made by {@link #toBuilder}, which copies a collection only when it is first changed, so a
 * transition that touches one reader copies neither the trace nor the other maps, and {@link StateDiff#compute}
 * skips every collection that is still the same instance.
 */
public final class StateCollections {

    private final Version version;
    private final SeqNo lastGcReq;
    private final NavigableMap<SeqNo, HollowRollup> rollups;
    private final Optional<ActiveMarker> activeRollup;
    private final Optional<ActiveMarker> activeGc;
    private final NavigableMap<LeasedReaderId, LeasedReaderState> leasedReaders;
    private final NavigableMap<CriticalReaderId, CriticalReaderState> criticalReaders;
    private final NavigableMap<WriterId, WriterState> writers;
    private final NavigableMap<SchemaId, EncodedSchemas> schemas;
    private final Trace trace;

    private StateCollections(Version version, SeqNo lastGcReq, NavigableMap<SeqNo, HollowRollup> rollups,
            Optional<ActiveMarker> activeRollup, Optional<ActiveMarker> activeGc,
            NavigableMap<LeasedReaderId, LeasedReaderState> leasedReaders,
            NavigableMap<CriticalReaderId, CriticalReaderState> criticalReaders,
            NavigableMap<WriterId, WriterState> writers, NavigableMap<SchemaId, EncodedSchemas> schemas, Trace trace) {
        this.version = Objects.requireNonNull(version, "version");
        this.lastGcReq = Objects.requireNonNull(lastGcReq, "lastGcReq");
        this.rollups = rollups;
        this.activeRollup = Objects.requireNonNull(activeRollup, "activeRollup");
        this.activeGc = Objects.requireNonNull(activeGc, "activeGc");
        this.leasedReaders = leasedReaders;
        this.criticalReaders = criticalReaders;
        this.writers = writers;
        this.schemas = schemas;
        this.trace = Objects.requireNonNull(trace, "trace");
    }

    /** The collections of the never-committed empty state (seqno 0) that bootstraps a shard. */
    public static StateCollections empty(Version version) {
        return new StateCollections(version, SeqNo.MIN, Collections.emptyNavigableMap(), Optional.empty(),
                Optional.empty(), Collections.emptyNavigableMap(), Collections.emptyNavigableMap(),
                Collections.emptyNavigableMap(), Collections.emptyNavigableMap(), Trace.EMPTY);
    }

    /** The version of the code that wrote this state (persist's {@code applier_version}). */
    public Version version() {
        return version;
    }

    /** The highest seqno since ever assigned to a GC request; never regresses. */
    public SeqNo lastGcReq() {
        return lastGcReq;
    }

    /** Known rollups by the seqno of the state they hold; never empty once the shard is initialized. */
    public NavigableMap<SeqNo, HollowRollup> rollups() {
        return rollups;
    }

    public Optional<ActiveMarker> activeRollup() {
        return activeRollup;
    }

    public Optional<ActiveMarker> activeGc() {
        return activeGc;
    }

    public NavigableMap<LeasedReaderId, LeasedReaderState> leasedReaders() {
        return leasedReaders;
    }

    public NavigableMap<CriticalReaderId, CriticalReaderState> criticalReaders() {
        return criticalReaders;
    }

    public NavigableMap<WriterId, WriterState> writers() {
        return writers;
    }

    public NavigableMap<SchemaId, EncodedSchemas> schemas() {
        return schemas;
    }

    public Trace trace() {
        return trace;
    }

    /**
     * Upper and since both {@code {}} and no readers or writers: the terminal state of a finalized shard, after
     * which only maintenance commits.
     */
    public boolean isTombstone() {
        return isTombstone(trace, writers, leasedReaders, criticalReaders);
    }

    private static boolean isTombstone(Trace trace, Map<?, ?> writers, Map<?, ?> leasedReaders,
            Map<?, ?> criticalReaders) {
        return trace.upper().isEmpty() && trace.since().isEmpty() && writers.isEmpty() && leasedReaders.isEmpty()
                && criticalReaders.isEmpty();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof StateCollections other
                && version.equals(other.version)
                && lastGcReq.equals(other.lastGcReq)
                && rollups.equals(other.rollups)
                && activeRollup.equals(other.activeRollup)
                && activeGc.equals(other.activeGc)
                && leasedReaders.equals(other.leasedReaders)
                && criticalReaders.equals(other.criticalReaders)
                && writers.equals(other.writers)
                && schemas.equals(other.schemas)
                && trace.equals(other.trace);
    }

    @Override
    public int hashCode() {
        return Objects.hash(version, lastGcReq, rollups, activeRollup, activeGc, leasedReaders, criticalReaders,
                writers, schemas, trace);
    }

    @Override
    public String toString() {
        return "StateCollections{version=" + version + ", lastGcReq=" + lastGcReq + ", rollups=" + rollups
                + ", activeRollup=" + activeRollup + ", activeGc=" + activeGc + ", leasedReaders=" + leasedReaders
                + ", criticalReaders=" + criticalReaders + ", writers=" + writers + ", schemas=" + schemas.keySet()
                + ", trace=" + trace + "}";
    }

    /**
     * A mutable copy for one transition. The plain accessors return read-only views; the {@code mutable…}
     * accessors copy the collection on first use and return the copy to change.
     */
    public static final class Builder {

        private Version version;
        private SeqNo lastGcReq;
        private Optional<ActiveMarker> activeRollup;
        private Optional<ActiveMarker> activeGc;
        private Trace trace;
        /** What {@link #push} and {@link #applyMergeRes} did to the batches; null once {@link #trace} replaced them. */
        private BatchEdits batchEdits = new BatchEdits();
        private final CopyOnWrite<SeqNo, HollowRollup> rollups;
        private final CopyOnWrite<LeasedReaderId, LeasedReaderState> leasedReaders;
        private final CopyOnWrite<CriticalReaderId, CriticalReaderState> criticalReaders;
        private final CopyOnWrite<WriterId, WriterState> writers;
        private final CopyOnWrite<SchemaId, EncodedSchemas> schemas;

        private Builder(StateCollections from) {
            version = from.version;
            lastGcReq = from.lastGcReq;
            activeRollup = from.activeRollup;
            activeGc = from.activeGc;
            trace = from.trace;
            rollups = new CopyOnWrite<>(from.rollups);
            leasedReaders = new CopyOnWrite<>(from.leasedReaders);
            criticalReaders = new CopyOnWrite<>(from.criticalReaders);
            writers = new CopyOnWrite<>(from.writers);
            schemas = new CopyOnWrite<>(from.schemas);
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

        /** As {@link StateCollections#isTombstone}, of the collections as they are now. */
        public boolean isTombstone() {
            return StateCollections.isTombstone(trace, writers.view(), leasedReaders.view(), criticalReaders.view());
        }

        public StateCollections build() {
            return new StateCollections(version, lastGcReq, rollups.build(), activeRollup, activeGc,
                    leasedReaders.build(), criticalReaders.build(), writers.build(), schemas.build(), trace);
        }
    }

    /** A map that is copied the first time it is changed; until then {@link #build} returns the original. */
    private static final class CopyOnWrite<K, V> {
        private NavigableMap<K, V> map;
        private boolean copied;

        CopyOnWrite(NavigableMap<K, V> original) {
            this.map = original;
        }

        NavigableMap<K, V> view() {
            return copied ? Collections.unmodifiableNavigableMap(map) : map;
        }

        NavigableMap<K, V> mutable() {
            if (!copied) {
                map = new TreeMap<>(map);
                copied = true;
            }
            return map;
        }

        NavigableMap<K, V> build() {
            if (copied) {
                // Hand the copy over; a later change through this builder copies again, so it never reaches the
                // built value.
                map = map.isEmpty() ? Collections.emptyNavigableMap() : Collections.unmodifiableNavigableMap(map);
                copied = false;
            }
            return map;
        }
    }

    /** Wraps decoded maps, which the caller must not keep or change. */
    public static StateCollections of(Version version, SeqNo lastGcReq, Map<SeqNo, HollowRollup> rollups,
            Optional<ActiveMarker> activeRollup, Optional<ActiveMarker> activeGc,
            Map<LeasedReaderId, LeasedReaderState> leasedReaders,
            Map<CriticalReaderId, CriticalReaderState> criticalReaders, Map<WriterId, WriterState> writers,
            Map<SchemaId, EncodedSchemas> schemas, Trace trace) {
        return new StateCollections(version, lastGcReq, frozen(rollups), activeRollup, activeGc,
                frozen(leasedReaders), frozen(criticalReaders), frozen(writers), frozen(schemas), trace);
    }

    private static <K, V> NavigableMap<K, V> frozen(Map<K, V> map) {
        return map.isEmpty() ? Collections.emptyNavigableMap()
                : Collections.unmodifiableNavigableMap(new TreeMap<>(map));
    }
}
