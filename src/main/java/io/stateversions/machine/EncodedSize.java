package io.stateversions.machine;

import io.stateversions.core.BatchPart;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.RunMeta;

/**
 * An estimate of the encoded size of what a queued command carries, for {@link QueuedBytes}: computed from
 * lengths in one pass over the parts, because encoding every append a second time would cost the command path
 * the CPU it is short of. It counts every variable-length field at its length and every fixed one generously, so
 * it is not below the batch's protobuf encoding (checked by {@code EncodedSizeTest}).
 */
public final class EncodedSize {

    /** Bounds, since and len, each a varint (up to 10 bytes) or a frontier, with their framing. */
    private static final long BATCH_FIXED_BYTES = 64;
    /** Size, diffs sum, schema id and timestamp rewrite (varints), the lengths of the rest, and framing. */
    private static final long PART_FIXED_BYTES = 64;
    /** {@code /p<uuid>} after the writer key: a part key's printed form. */
    private static final long PART_ID_CHARS = 1 + 37;
    /** One run split: a varint. */
    private static final long RUN_SPLIT_BYTES = 10;
    /** One run's metadata: order, schema id and len (varints), its run id ({@code r<uuid>}), and framing. */
    private static final long RUN_META_BYTES = 80;
    /** The framing of one entry of a run's metadata map. */
    private static final long META_ENTRY_BYTES = 8;

    private EncodedSize() {}

    public static long of(HollowBatch batch) {
        long bytes = BATCH_FIXED_BYTES + RUN_SPLIT_BYTES * batch.runSplits().size()
                + RUN_META_BYTES * batch.runMeta().size();
        for (RunMeta run : batch.runMeta()) {
            for (var entry : run.meta().entrySet()) {
                // A key's UTF-8 takes at most 3 bytes per char.
                bytes += META_ENTRY_BYTES + 3L * entry.getKey().length() + entry.getValue().size();
            }
        }
        for (BatchPart part : batch.parts()) {
            bytes += PART_FIXED_BYTES;
            if (part instanceof BatchPart.Hollow hollow) {
                bytes += hollow.key().writer().printed().length() + PART_ID_CHARS + hollow.keyLower().size()
                        + hollow.stats().size();
            } else if (part instanceof BatchPart.Inline inline) {
                bytes += inline.updates().size();
            }
        }
        return bytes;
    }

    /** A merge result: its output and every input it names. */
    public static long of(FueledMergeRes res) {
        long bytes = of(res.output());
        for (HollowBatch input : res.inputs()) {
            bytes += of(input);
        }
        return bytes;
    }
}
