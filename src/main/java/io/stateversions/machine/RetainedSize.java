package io.stateversions.machine;

import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.SchemaId;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.Trace;
import java.util.Map;

/**
 * An estimate of the heap a shard's machine retains: its cached state and its own bookkeeping. {@link Machines}
 * weighs its cache with it ({@link MachineConfig#maxCachedBytes}).
 *
 * <p>O(1): it reads counts the state keeps up to date as it changes ({@link Trace#totals}, the sizes of its maps),
 * never walks the batches, because the machine re-checks it on every new state. The constants were measured with a
 * heap-layout walker (JOL) on JDK 17 with compressed references, on a machine built by appends through the service: a
 * state of N batches of one hollow part (a writer key and a part id) grows by 600 bytes per batch, of four parts by
 * 1,528, of one 16-byte inline part by 400; a key lower bound or inline updates cost twice their length (the bytes, and
 * again in the batch's memoized storage encoding); a writer 153 bytes (241 since the handle maps keep indexes); a
 * machine with an empty state, one writer and one rollup 1,976 bytes. Against those measurements the estimate was
 * within 6 % at 2,000 and 4,000 batches (0.95 with 64-byte key lower bounds, 1.00 with none or inline parts), and 3 %
 * above for a machine with no batches. Measured again once a batch kept its one memo in a field rather than a one-slot
 * array: a state of batches of one hollow part appended through the service grows by 568 bytes per batch (it was 600),
 * to which {@link #BATCH_BYTES} was lowered by 32. Measured again once a replica held one instance per writer key
 * ({@link io.stateversions.core.WriterKey#parse}) rather than one per part: 475.5 bytes per batch of one hollow part
 * (of a writer with others), 1,115.5 of four, so {@link #HOLLOW_PART_BYTES} was lowered by 96, the bytes of a writer
 * key's copy; and again once a part id held its UUID's two halves itself: 459.5 and 1,051.5 bytes, 16 less per part.
 * Not counted: old states still referenced by a request in flight (API renderings of batches are built per
 * answer and not kept with the batch).
 */
public final class RetainedSize {

    /**
     * The machine, its queue and counters, an empty state with its maps, and its cache entry: measured 1,976 with a
     * writer, a rollup and three versions (so about 1,600 without them), plus about 100 for Caffeine's entry.
     */
    static final long MACHINE_BYTES = 1_700;
    /** A batch without parts: its bounds, lists, memo, and its node in the trace's vector. */
    static final long BATCH_BYTES = 258;
    /** A hollow part: its key (its part id, and a reference to its writer's key), size, options; measured 197. */
    static final long HOLLOW_PART_BYTES = 198;
    /** An inline part, without its updates. */
    static final long INLINE_PART_BYTES = 80;
    /** Bytes held per byte of inline updates, key lower bound or statistics: the value, and its encoding. */
    static final long HELD_BYTE_BYTES = 2;
    /**
     * A writer with its map entry, measured 153, and its entry in the writers' index of lease expiries, which added 88
     * (the difference between 20,000 and 40,000 writers in a state, walked by JOL before and after the index).
     */
    static final long WRITER_BYTES = 241;
    /**
     * A leased reader with its map entry (as a writer, once 160) and its entries in the three indexes of lease expiries,
     * seqno holds and sinces, measured the same way: 216 more.
     */
    static final long LEASED_READER_BYTES = 376;
    /** A critical reader with its map entry (once 160) and its entry in the index of sinces: 64 more, measured so. */
    static final long CRITICAL_READER_BYTES = 224;
    /** A rollup's key and size with its map entry. */
    static final long ROLLUP_BYTES = 200;
    /**
     * A released part ({@link io.stateversions.core.StateCollections#releasedParts}): its key (writer key and part
     * id, no longer shared with a batch), seqno, map entry and entry in the index of release seqnos; not measured,
     * a hollow part's key and a handle's index entry by the figures above.
     */
    static final long RELEASED_PART_BYTES = 250;
    /** A schema without its encodings: the record, its four byte arrays' headers and its map entry. */
    static final long SCHEMA_BYTES = 200;
    /** The machine's {@link DiffSizeLog}: one running total per version since the latest rollup. */
    static final long DIFF_SIZE_BYTES = 8;

    private RetainedSize() {}

    /** The estimated heap retained by a machine caching {@code state}, in bytes. */
    public static long estimateBytes(State state) {
        return estimateBytes(state, schemaBytes(state.collections().schemas()));
    }

    /**
     * The bytes of the schemas' encodings: O(schemas), so a machine memoizes it per schemas map
     * ({@link SchemaBytes}), which a state carries over unchanged until a schema is registered.
     */
    static long schemaBytes(Map<SchemaId, EncodedSchemas> schemas) {
        long bytes = 0;
        for (EncodedSchemas s : schemas.values()) {
            bytes += (long) s.key().size() + s.keyDataType().size() + s.val().size() + s.valDataType().size();
        }
        return bytes;
    }

    /** {@link #schemaBytes} of the last schemas map it was asked about, remembered by identity. */
    static final class SchemaBytes {

        private record Memo(Map<SchemaId, EncodedSchemas> schemas, long bytes) {}

        private volatile Memo memo = new Memo(Map.of(), 0);

        long of(Map<SchemaId, EncodedSchemas> schemas) {
            Memo m = memo;
            if (m.schemas() != schemas) {
                m = new Memo(schemas, schemaBytes(schemas));
                memo = m;
            }
            return m.bytes();
        }
    }

    /** As {@link #estimateBytes(State)}, given the bytes of its schemas' encodings. */
    static long estimateBytes(State state, long schemaBytes) {
        StateCollections c = state.collections();
        Trace trace = c.trace();
        Trace.Totals totals = trace.totals();
        long diffsSinceRollup = c.rollups().isEmpty() ? 0
                : Math.min(DiffSizeLog.MAX_DIFFS, state.seqno().value() - c.rollups().lastKey().value());
        return MACHINE_BYTES
                + BATCH_BYTES * trace.batches().size()
                + HOLLOW_PART_BYTES * (totals.parts() - totals.inlineParts())
                + INLINE_PART_BYTES * totals.inlineParts()
                + HELD_BYTE_BYTES * (totals.inlineBytes() + totals.hollowKeyBytes())
                + WRITER_BYTES * c.writers().size()
                + LEASED_READER_BYTES * c.leasedReaders().size()
                + CRITICAL_READER_BYTES * c.criticalReaders().size()
                + ROLLUP_BYTES * c.rollups().size()
                + RELEASED_PART_BYTES * c.releasedParts().size()
                + SCHEMA_BYTES * c.schemas().size() + schemaBytes
                + DIFF_SIZE_BYTES * diffsSinceRollup;
    }
}
