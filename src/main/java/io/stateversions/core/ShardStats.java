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

    static ShardStats of(State state) {
        StateCollections c = state.collections();
        int batchCount = 0;
        int nonEmpty = 0;
        int parts = 0;
        int rewrites = 0;
        long updates = 0;
        long largest = 0;
        long bytes = 0;
        int inlineParts = 0;
        long inlineBytes = 0;
        for (HollowBatch batch : c.trace().batches()) {
            batchCount++;
            if (!batch.isEmpty()) {
                nonEmpty++;
            }
            updates += batch.len();
            long batchBytes = 0;
            for (BatchPart part : batch.parts()) {
                parts++;
                batchBytes += part.encodedSizeBytes();
                if (part.tsRewrite().isPresent()) {
                    rewrites++;
                }
                if (part instanceof BatchPart.Inline) {
                    inlineParts++;
                    inlineBytes += part.encodedSizeBytes();
                }
            }
            largest = Math.max(largest, batchBytes);
            bytes += batchBytes;
        }
        long rollupBytes = 0;
        for (HollowRollup rollup : c.rollups().values()) {
            rollupBytes += rollup.encodedSizeBytes().orElse(0);
        }
        long sinceLastRollup = c.rollups().isEmpty() ? 0 : state.seqno().value() - state.latestRollup().getKey().value();
        return new ShardStats(state.seqnosHeld(), sinceLastRollup, batchCount, nonEmpty, parts, rewrites, updates,
                largest, bytes, inlineParts, inlineBytes, c.rollups().size(), rollupBytes, c.leasedReaders().size(),
                c.criticalReaders().size(), c.writers().size(), c.schemas().size(), c.trace().spineMetrics());
    }
}
