package io.stateversions.core;

/** What {@code apply_merge_res} did (spec §3.5). */
public enum ApplyMergeResult {
    /** The output replaced exactly the named inputs. */
    APPLIED_EXACT,
    /**
     * The output replaced batches that cover exactly its time range but are not the named inputs: another merge
     * already replaced some of them. The times, and so the updates, are the same; the output is at least as compact.
     */
    APPLIED_SUBSET,
    /** The trace has no run of batches that starts at the output's lower and ends at its upper. */
    NOT_APPLIED_NO_MATCH,
    /** The output is compacted beyond the shard's since, which readers still need. */
    NOT_APPLIED_INVALID_SINCE,
    /** The output has more updates than the batches it would replace: a compaction never adds updates. */
    NOT_APPLIED_TOO_MANY_UPDATES;

    public boolean applied() {
        return this == APPLIED_EXACT || this == APPLIED_SUBSET;
    }

    public boolean matched() {
        return applied() || this == NOT_APPLIED_TOO_MANY_UPDATES;
    }
}
