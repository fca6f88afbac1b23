package io.stateversions.core;

import java.util.ArrayList;
import java.util.List;

/** Pure reads of a state (spec §16): nothing is committed, so they need no transition. */
public final class Reads {

    private Reads() {}

    /**
     * The batches to read as of {@code asOf}: every batch whose lower is {@code <= asOf}, so a batch starting
     * exactly at {@code asOf} is included and batches wholly after it are not. {@code asOf} must be within
     * {@code [since, upper)}; below the since is checked first. A since of {@code {}} is beyond every time, so a
     * shard closed to reads (a tombstone included) answers {@link SnapshotResult.AsOfBeforeSince} for any
     * {@code asOf}.
     */
    public static SnapshotResult snapshot(State state, long asOf) {
        Frontier at = Frontier.of(asOf);
        Frontier since = state.since();
        if (at.lessThan(since)) {
            return new SnapshotResult.AsOfBeforeSince(since);
        }
        Frontier upper = state.upper();
        if (upper.lessEqual(at)) {
            return new SnapshotResult.AsOfNotAvailable(upper);
        }
        List<HollowBatch> batches = new ArrayList<>();
        for (HollowBatch batch : state.collections().trace().batches()) {
            if (!batch.desc().lower().lessEqual(at)) {
                break;
            }
            batches.add(batch);
        }
        return new SnapshotResult.Batches(batches);
    }
}
