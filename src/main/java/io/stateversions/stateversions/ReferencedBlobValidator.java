package io.stateversions.stateversions;

import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.State;
import java.util.HashSet;
import java.util.Set;

/**
 * Checks that diffs report the blobs they insert exactly (spec §10.10): one set is the union of the blobs of every
 * full state seen, the other is built from the initial state plus each diff's inserts; after every step they
 * must be equal, and no diff may insert a blob that was already referenced. GC relies on this accounting to
 * decide what it may delete.
 */
public final class ReferencedBlobValidator {

    private final Set<HollowBatch> fullBatches = new HashSet<>();
    private final Set<HollowRollup> fullRollups = new HashSet<>();
    private final Set<HollowBatch> incBatches = new HashSet<>();
    private final Set<HollowRollup> incRollups = new HashSet<>();

    /** Records a blob reported by {@link InspectDiff#referencedBlobs}; reporting one twice is a bug. */
    public void addIncremental(HollowBlobRef blob) {
        boolean added = blob instanceof HollowBlobRef.Batch b
                ? incBatches.add(b.batch()) : incRollups.add(((HollowBlobRef.Rollup) blob).rollup());
        if (!added) {
            throw new IllegalStateException("invariant violated: blob inserted twice: " + blob);
        }
    }

    /** Adds the blobs of {@code state} to the full set and checks both sets are equal. */
    public void validateAgainst(State state) {
        for (HollowBlobRef blob : state.blobs()) {
            if (blob instanceof HollowBlobRef.Batch b) {
                fullBatches.add(b.batch());
            } else {
                fullRollups.add(((HollowBlobRef.Rollup) blob).rollup());
            }
        }
        if (!fullBatches.equals(incBatches) || !fullRollups.equals(incRollups)) {
            throw new IllegalStateException("invariant violated: blobs referenced by the states up to " + state.seqno()
                    + " of shard " + state.shardId() + " differ from those reported by their diffs:"
                    + " batches only in states " + minus(fullBatches, incBatches)
                    + ", batches only in diffs " + minus(incBatches, fullBatches)
                    + ", rollups only in states " + minus(fullRollups, incRollups)
                    + ", rollups only in diffs " + minus(incRollups, fullRollups));
        }
    }

    private static <T> Set<T> minus(Set<T> a, Set<T> b) {
        Set<T> d = new HashSet<>(a);
        d.removeAll(b);
        return d;
    }
}
