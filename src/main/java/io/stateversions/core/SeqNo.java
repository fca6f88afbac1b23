package io.stateversions.core;

/**
 * The version number of a shard's state: strictly increasing, each committed version exactly its predecessor
 * plus one. Printed {@code v<N>}, as in persist.
 *
 * <p>Persist's SeqNo is a u64, but every value must round-trip through a SQL {@code bigint}, so a value above
 * {@code 2^63-1} could never be stored. This type therefore admits exactly {@code [0, 2^63-1]} and rejects
 * anything else where it is constructed or parsed, instead of at each storage call.
 */
public record SeqNo(long value) implements Comparable<SeqNo> {

    /** The seqno of the never-committed empty state that bootstraps a shard. */
    public static final SeqNo MIN = new SeqNo(0);

    /** The largest seqno that storage can hold ({@code i64::MAX}). */
    public static final SeqNo MAX = new SeqNo(Long.MAX_VALUE);

    public SeqNo {
        if (value < 0) {
            throw new IllegalArgumentException("seqno must be within [0, 2^63-1], got " + Long.toUnsignedString(value));
        }
    }

    public static SeqNo of(long value) {
        return value == 0 ? MIN : new SeqNo(value);
    }

    /** Parses the printed form {@code v<N>}; the prefix is required. */
    public static SeqNo parse(String printed) {
        if (printed == null || printed.length() < 2 || printed.charAt(0) != 'v') {
            throw new IllegalArgumentException("invalid seqno " + quote(printed) + ": expected v<N>");
        }
        String digits = printed.substring(1);
        for (int i = 0; i < digits.length(); i++) {
            char c = digits.charAt(i);
            if (c < '0' || c > '9') {
                throw new IllegalArgumentException("invalid seqno " + quote(printed) + ": expected v<N>");
            }
        }
        try {
            return of(Long.parseLong(digits));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("invalid seqno " + quote(printed) + ": must be within [0, 2^63-1]", e);
        }
    }

    /** The successor; fails at {@link #MAX}, which storage could not hold. */
    public SeqNo next() {
        if (value == Long.MAX_VALUE) {
            throw new IllegalStateException("seqno overflow: " + this + " has no successor");
        }
        return new SeqNo(value + 1);
    }

    public boolean isBefore(SeqNo other) {
        return value < other.value;
    }

    public boolean isAfter(SeqNo other) {
        return value > other.value;
    }

    @Override
    public int compareTo(SeqNo other) {
        return Long.compare(value, other.value);
    }

    @Override
    public String toString() {
        return "v" + value;
    }

    private static String quote(String s) {
        return s == null ? "null" : '"' + s + '"';
    }
}
