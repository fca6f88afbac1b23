package io.stateversions.core;

import java.util.List;

/** The outcome of compare_and_append at the state level (spec §17.1). */
public sealed interface AppendResult {

    /** Appended; the merge requests the append produced. */
    record Appended(List<FueledMergeReq> mergeRequests) implements AppendResult {}

    /** This writer's token is already recorded: the append committed earlier (after an indeterminate failure). */
    record AlreadyCommitted() implements AppendResult {}

    /**
     * This writer's token is recorded for a different append (another upper, or another batch over the same range):
     * the client reused a token. Nothing changes.
     */
    record TokenReused() implements AppendResult {}

    /** The batch's lower is not the shard's upper. On a tombstone both uppers are {@code {}}. */
    record UpperMismatch(Frontier shardUpper, Frontier writerUpper) implements AppendResult {}

    /** {@code upper < lower}. */
    record InvalidBounds(Frontier lower, Frontier upper) implements AppendResult {}

    /** {@code lower == upper} with parts: an empty time range cannot hold updates. */
    record InvalidEmptyTimeInterval(Frontier lower, Frontier upper, List<String> parts) implements AppendResult {}

    /** Inline bytes in state would reach the cap: the caller must write its inline parts to Blob and retry. */
    record InlineBackpressure() implements AppendResult {}
}
