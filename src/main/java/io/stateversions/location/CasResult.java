package io.stateversions.location;

/**
 * The expected outcomes of {@link Consensus#compareAndSet}. Losing a race is a value, not an exception: the
 * caller re-reads and recomputes.
 */
public enum CasResult {
    /** The new entry became the head. */
    COMMITTED,
    /** The head was not the expected one (older, newer, or absent); nothing was written. */
    EXPECTATION_MISMATCH
}
