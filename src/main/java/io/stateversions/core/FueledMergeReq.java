package io.stateversions.core;

import java.util.List;
import java.util.Objects;

/**
 * A request to compact {@code inputs} (adjacent batches of the trace) into one batch described by {@code desc}:
 * {@code [inputs[0].lower, inputs[last].upper)} at the trace's since when requested. Nothing waits for it; a
 * compactor that does the work returns a {@link FueledMergeRes}.
 */
public record FueledMergeReq(Description desc, List<HollowBatch> inputs) {

    public FueledMergeReq {
        Objects.requireNonNull(desc, "desc");
        inputs = List.copyOf(inputs);
        if (inputs.size() < 2) {
            throw new IllegalArgumentException("a merge request needs at least 2 inputs, got " + inputs.size());
        }
    }

    /** A stable name for the request: the time range it covers, {@code <lower>-<upper>} ({@code -} for {}). */
    public String id() {
        return element(desc.lower()) + "-" + element(desc.upper());
    }

    private static String element(Frontier f) {
        return f.isEmpty() ? "" : Long.toString(f.element());
    }
}
