package io.stateversions.core;

import java.util.List;

/** The outcome of {@link Reads#snapshot} (spec §16). */
public sealed interface SnapshotResult {

    /** Every batch a reader needs to read as of the requested time. */
    record Batches(List<HollowBatch> batches) implements SnapshotResult {

        public Batches {
            batches = List.copyOf(batches);
        }
    }

    /** {@code asOf < since}: the updates at and before that time are no longer distinguishable. */
    record AsOfBeforeSince(Frontier since) implements SnapshotResult {}

    /** {@code upper <= asOf}: not every update at that time is written yet; the caller may wait. */
    record AsOfNotAvailable(Frontier upper) implements SnapshotResult {}
}
