package io.stateversions.stateversions;

import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import java.util.function.Consumer;

/** What one step of a {@link StateVersionsIter} did: start from the initial state, or apply a diff. */
public sealed interface InspectDiff {

    record FromInitial(State state) implements InspectDiff {}

    record Diff(StateDiff diff) implements InspectDiff {}

    /**
     * Calls {@code f} for every blob this step makes referenced: all blobs of the initial state, or the blobs a
     * diff inserts (its deletes are ignored).
     */
    default void referencedBlobs(Consumer<HollowBlobRef> f) {
        if (this instanceof FromInitial initial) {
            initial.state().blobs().forEach(f);
        } else {
            ((Diff) this).diff().blobInserts().forEach(f);
        }
    }
}
