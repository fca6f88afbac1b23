package io.stateversions.core;

/**
 * The sizes of one state (spec §3.6 and §18.1): what the per-shard metrics report after each commit and what the
 * API's {@code stats} show.
 */
public record ShardStats(
        long seqnosHeld,
        long seqnosSinceLastRollup,
        int batchCount,
        int nonEmptyBatchCount,
        int partCount,
        int rewritePartCount,
        long updateCount,
        long largestBatchBytes,
        long batchBytes,
        int inlinePartCount,
        long inlineBytes,
        int rollupCount,
        long rollupBytes,
        int leasedReaderCount,
        int criticalReaderCount,
        int writerCount,
        int schemaCount,
        Trace.SpineMetrics spine) {

    /** The trace's sums come from its kept totals; only the largest batch and the spine metrics walk the batches. */
    static ShardStats of(State state) {
        StateCollections c = state.collections();
        Trace trace = c.trace();
        Trace.Totals totals = trace.totals();
        long largest = 0;
        for (HollowBatch batch : trace.batches()) {
            largest = Math.max(largest, batch.encodedSizeBytes());
        }
        long rollupBytes = 0;
        for (HollowRollup rollup : c.rollups().values()) {
            rollupBytes += rollup.encodedSizeBytes().orElse(0);
        }
        long sinceLastRollup = c.rollups().isEmpty() ? 0 : state.seqno().value() - state.latestRollup().getKey().value();
        return new ShardStats(state.seqnosHeld(), sinceLastRollup, trace.batches().size(), totals.nonEmptyBatches(),
                totals.parts(), totals.rewriteParts(), totals.updates(), largest, totals.partBytes(),
                totals.inlineParts(), totals.inlineBytes(), c.rollups().size(), rollupBytes, c.leasedReaders().size(),
                c.criticalReaders().size(), c.writers().size(), c.schemas().size(), trace.spineMetrics());
    }
}
