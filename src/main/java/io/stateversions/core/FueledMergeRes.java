package io.stateversions.core;

import java.util.List;
import java.util.Objects;

/** The result of a compaction: {@code output} replaces {@code inputs}, which must cover exactly its time range. */
public record FueledMergeRes(HollowBatch output, List<HollowBatch> inputs) {

    public FueledMergeRes {
        Objects.requireNonNull(output, "output");
        inputs = List.copyOf(inputs);
    }
}
