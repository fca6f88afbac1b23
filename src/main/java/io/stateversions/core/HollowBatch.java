package io.stateversions.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The metadata of a batch of updates (spec §3.4): its time bounds, how many updates it holds and where they are.
 * A batch is <em>empty</em> iff it has no parts.
 *
 * @param len       the number of updates (after consolidation)
 * @param runSplits strictly increasing indexes into {@code parts}, each in {@code (0, parts.size())}, that cut the
 *                  parts into sorted runs; empty = one run (none when there are no parts)
 * @param runMeta   per run, in run order; trailing {@link RunMeta#DEFAULT} entries are dropped, so a batch has one
 *                  canonical form (as persist omits them on the wire)
 */
public record HollowBatch(Description desc, long len, List<BatchPart> parts, List<Integer> runSplits,
        List<RunMeta> runMeta) {

    public HollowBatch {
        Objects.requireNonNull(desc, "desc");
        parts = List.copyOf(parts);
        runSplits = List.copyOf(runSplits);
        List<RunMeta> meta = new ArrayList<>(runMeta);
        while (!meta.isEmpty() && meta.get(meta.size() - 1).equals(RunMeta.DEFAULT)) {
            meta.remove(meta.size() - 1);
        }
        runMeta = List.copyOf(meta);
        if (len < 0) {
            throw new IllegalArgumentException("batch len must be >= 0, got " + len + " in " + desc);
        }
        int previous = 0;
        for (int split : runSplits) {
            if (split <= previous || split >= parts.size()) {
                throw new IllegalArgumentException("run splits " + runSplits
                        + " must be strictly increasing within (0, " + parts.size() + ") in batch " + desc);
            }
            previous = split;
        }
        int runs = parts.isEmpty() ? 0 : runSplits.size() + 1;
        if (runMeta.size() > runs) {
            throw new IllegalArgumentException(
                    runMeta.size() + " run metadata entries for " + runs + " runs in batch " + desc);
        }
    }

    /** A batch of one run, without run metadata. */
    public static HollowBatch of(Description desc, long len, List<? extends BatchPart> parts) {
        return new HollowBatch(desc, len, List.copyOf(parts), List.of(), List.of());
    }

    /** A batch with no parts (and no updates). */
    public static HollowBatch empty(Description desc) {
        return new HollowBatch(desc, 0, List.of(), List.of(), List.of());
    }

    public boolean isEmpty() {
        return parts.isEmpty();
    }

    public int runCount() {
        return parts.isEmpty() ? 0 : runSplits.size() + 1;
    }

    /** Bytes of all parts, hollow and inline. */
    public long encodedSizeBytes() {
        long sum = 0;
        for (BatchPart part : parts) {
            sum += part.encodedSizeBytes();
        }
        return sum;
    }

    public long inlineBytes() {
        long sum = 0;
        for (BatchPart part : parts) {
            if (part instanceof BatchPart.Inline) {
                sum += part.encodedSizeBytes();
            }
        }
        return sum;
    }

    /** This batch with {@code desc} replaced. */
    public HollowBatch withDesc(Description newDesc) {
        return new HollowBatch(newDesc, len, parts, runSplits, runMeta);
    }

    @Override
    public String toString() {
        return desc + " len=" + len + " parts=" + parts;
    }
}
