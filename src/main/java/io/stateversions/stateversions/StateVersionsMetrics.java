package io.stateversions.stateversions;

import io.stateversions.core.ShardId;
import io.stateversions.core.State;

/** What {@link StateVersions} reports; one implementation records it in Micrometer. Every method defaults to nothing. */
public interface StateVersionsMetrics {

    /** A CaS committed {@code state}; its diff took {@code encodedDiffBytes} (spec §18.1). */
    default void committed(State state, int encodedDiffBytes) {}

    /** {@code fetchRecentLiveDiffs} took the fast path (one bounded scan) or the slow one (head + scan from the rollup). */
    default void recentLiveDiffs(boolean fastPath) {}

    /** A rollup named by a diff was gone (GC moved on), so {@code op} refetched the live diffs. */
    default void staleRollupRefetch(String op) {}

    /**
     * {@code op} stopped refetching a rollup that stayed missing: its budget was spent ({@code budget}: it failed
     * with an internal error) or its caller was done ({@code caller_done}).
     */
    default void staleRollupGaveUp(String op, String reason) {}

    /** {@code fetchRollupAtSeqno} used the migration fallback key from the live diffs. */
    default void rollupAtSeqnoMigration() {}

    /** A rollup of {@code bytes} was written for {@code shard}. */
    default void rollupWritten(ShardId shard, int bytes) {}

    /** {@code writeRollupForState} wrote nothing: {@code latest} or {@code truncated}. */
    default void rollupWriteNoop(String reason) {}

    StateVersionsMetrics NONE = new StateVersionsMetrics() {};
}
