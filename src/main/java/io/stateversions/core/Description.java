package io.stateversions.core;

import java.util.Objects;

/**
 * The time bounds of a batch: its updates have times in {@code [lower, upper)}, advanced to {@code since}.
 * {@code lower <= upper} is checked where batches enter state (compare_and_append reports a violation as
 * {@code invalid_bounds}), not here, so that a decoder or an API can hold the value to report it.
 */
public record Description(Frontier lower, Frontier upper, Frontier since) {

    public Description {
        Objects.requireNonNull(lower, "lower");
        Objects.requireNonNull(upper, "upper");
        Objects.requireNonNull(since, "since");
    }

    /** {@code lower == upper}: no time can have updates. */
    public boolean isEmptyTimeInterval() {
        return lower.equals(upper);
    }

    @Override
    public String toString() {
        return "[" + lower + ", " + upper + ")@" + since;
    }
}
