package io.stateversions.core;

/**
 * What {@code apply_merge_res} did (spec §3.5). Persist also knows {@code AppliedSubset} (an output replacing
 * batches over its time range other than its inputs); the service never applies one, since a compactor's result
 * is matched to the trace by identity ({@link Trace#applyMergeRes}). The API keeps the name reserved.
 */
public enum ApplyMergeResult {
    /** The output replaced exactly the named inputs. */
    APPLIED_EXACT,
    /**
     * The named inputs are not, batch for batch, a contiguous run of the trace's batches spanning the output's time
     * range: another compactor already replaced them, the result was applied before, or the inputs were never there.
     */
    NOT_APPLIED_NO_MATCH,
    /** The output is compacted beyond the shard's since, which readers still need. */
    NOT_APPLIED_INVALID_SINCE,
    /** The output has more updates than the batches it would replace: a compaction never adds updates. */
    NOT_APPLIED_TOO_MANY_UPDATES;

    public boolean applied() {
        return this == APPLIED_EXACT;
    }

    public boolean matched() {
        return applied() || this == NOT_APPLIED_TOO_MANY_UPDATES;
    }
}
