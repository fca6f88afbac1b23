package io.stateversions.core;

/**
 * A frontier (antichain) over the shard's totally ordered timestamps: either {@code {t}} or the empty frontier
 * {@code {}}, which is beyond every time ("closed": nothing more can be written, or read, there).
 *
 * <p>Timestamps are within {@code [0, 2^63-1]} (persist's u64, restricted so that every value is a non-negative
 * {@code long} and a JSON integer). For a total order the antichain partial order is total: {@code {a} <= {b}} iff
 * {@code a <= b}, and every frontier is {@code <= {}}. {@link #compareTo} is that order.
 */
public final class Frontier implements Comparable<Frontier> {

    /** {@code {}}: beyond all times. */
    public static final Frontier EMPTY = new Frontier(-1);
    /** {@code {0}}: the minimum frontier, which is the since and upper of a new shard. */
    public static final Frontier MIN = new Frontier(0);

    /** The element, or -1 for the empty frontier. */
    private final long element;

    private Frontier(long element) {
        this.element = element;
    }

    /** {@code {t}}; {@code t} must be within {@code [0, 2^63-1]}. */
    public static Frontier of(long t) {
        if (t < 0) {
            throw new IllegalArgumentException(
                    "timestamp must be within [0, 2^63-1], got " + Long.toUnsignedString(t));
        }
        return t == 0 ? MIN : new Frontier(t);
    }

    public boolean isEmpty() {
        return element < 0;
    }

    /** The single element; fails on the empty frontier, which has none. */
    public long element() {
        if (element < 0) {
            throw new IllegalStateException("the empty frontier {} has no element");
        }
        return element;
    }

    /** {@code this <= other} in the antichain order. */
    public boolean lessEqual(Frontier other) {
        return compareTo(other) <= 0;
    }

    /** {@code this < other} in the antichain order. */
    public boolean lessThan(Frontier other) {
        return compareTo(other) < 0;
    }

    /** The greatest lower bound (for a total order, the smaller frontier). */
    public Frontier meet(Frontier other) {
        return lessEqual(other) ? this : other;
    }

    /** The least upper bound (for a total order, the larger frontier). */
    public Frontier join(Frontier other) {
        return lessEqual(other) ? other : this;
    }

    @Override
    public int compareTo(Frontier other) {
        if (isEmpty() || other.isEmpty()) {
            return Boolean.compare(isEmpty(), other.isEmpty());
        }
        return Long.compare(element, other.element);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frontier other && element == other.element;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(element);
    }

    /** {@code {5}} or {@code {}}, as persist prints antichains. */
    @Override
    public String toString() {
        return isEmpty() ? "{}" : "{" + element + "}";
    }
}
