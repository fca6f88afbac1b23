package io.stateversions.core;

/**
 * Counts, per thread, the entries of a state's maps and their indexes that are visited one at a time: building a map
 * whole, walking one (a builder's view iterated, the merge of two maps that {@link StateDiff#compute(State, State)}
 * falls back to), comparing a recorded key of a diff, scanning an index for lapsed leases. The structural tests bound
 * it to show that a command costs O(keys it touches), not O(handles), where a timing would be flaky. A thread counts
 * only its own visits, so that commands run by other threads at the same time do not disturb a test's count.
 */
final class Visits {

    private static final ThreadLocal<long[]> COUNT = ThreadLocal.withInitial(() -> new long[1]);

    private Visits() {}

    static void add(long entries) {
        COUNT.get()[0] += entries;
    }

    /** The entries this thread has visited so far; tests take the difference around what they measure. */
    static long count() {
        return COUNT.get()[0];
    }
}
