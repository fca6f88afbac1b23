package io.stateversions.core;

import java.util.Objects;
import java.util.Optional;

/**
 * The follow-up work a committed transition assigned (spec §13): garbage collection and/or a rollup of the state
 * at a seqno. Maintenance is data: the assignment is recorded in state ({@code last_gc_req},
 * {@code active_rollup}), so no other handle is assigned the same work, and every job can be re-run.
 */
public record RoutineMaintenance(Optional<GcReq> garbageCollection, Optional<SeqNo> writeRollup) {

    public static final RoutineMaintenance NONE = new RoutineMaintenance(Optional.empty(), Optional.empty());

    public RoutineMaintenance {
        Objects.requireNonNull(garbageCollection, "garbageCollection");
        Objects.requireNonNull(writeRollup, "writeRollup");
    }

    public boolean isEmpty() {
        return garbageCollection.isEmpty() && writeRollup.isEmpty();
    }

    /** Both; where both assign the same kind of work, {@code later}'s wins. */
    public RoutineMaintenance merge(RoutineMaintenance later) {
        return new RoutineMaintenance(
                later.garbageCollection.isPresent() ? later.garbageCollection : garbageCollection,
                later.writeRollup.isPresent() ? later.writeRollup : writeRollup);
    }
}
