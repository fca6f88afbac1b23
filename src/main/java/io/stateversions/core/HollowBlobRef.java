package io.stateversions.core;

/** A blob that state refers to: a batch (whose hollow parts are blobs) or a rollup. */
public sealed interface HollowBlobRef {

    record Batch(HollowBatch batch) implements HollowBlobRef {}

    record Rollup(HollowRollup rollup) implements HollowBlobRef {}
}
