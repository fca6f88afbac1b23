package io.stateversions.core;

import java.util.Arrays;
import java.util.UUID;

/**
 * The printed form shared by every id of spec §2: a short prefix and a hyphenated, lower-case UUID, e.g.
 * {@code s00000000-0000-0000-0000-000000000000}. Parsing is strict: the prefix must match and the UUID must be
 * exactly 36 characters of hex digits with hyphens at positions 8, 13, 18 and 23 ({@link UUID#fromString}
 * accepts far more, such as {@code 1-1-1-1-1}).
 *
 * <p>Ids order as their 16 bytes compare unsigned, which is also the order of their printed forms.
 */
public final class Ids {

    private static final int UUID_LENGTH = 36;

    /**
     * The value of each ASCII character as a hex digit: 0 to 15 for {@code 0-9} and {@code a-f}, {@link #UPPER} plus
     * the value for {@code A-F}, -1 for anything else. One lookup per character classifies and converts it (ids are
     * parsed several times per append: its parameters, its parts' keys, the diffs it encodes and decodes).
     */
    private static final byte[] HEX = new byte[128];
    private static final int UPPER = 16;
    private static final int ANY_CASE = 2 * UPPER;

    static {
        Arrays.fill(HEX, (byte) -1);
        for (int c = '0'; c <= '9'; c++) {
            HEX[c] = (byte) (c - '0');
        }
        for (int c = 'a'; c <= 'f'; c++) {
            HEX[c] = (byte) (c - 'a' + 10);
            HEX[c - 'a' + 'A'] = (byte) (UPPER + c - 'a' + 10);
        }
    }

    private Ids() {}

    /** Parses {@code printed} as {@code prefix} + UUID, naming {@code kind} in the error. */
    public static UUID parse(String kind, String prefix, String printed) {
        if (printed == null) {
            throw new IllegalArgumentException("invalid " + kind + " null: expected " + prefix + "<uuid>");
        }
        if (!printed.startsWith(prefix)) {
            throw new IllegalArgumentException(
                    "invalid " + kind + " \"" + printed + "\": incorrect prefix, expected " + prefix + "<uuid>");
        }
        int start = prefix.length();
        if (printed.length() != start + UUID_LENGTH || !hyphensInPlace(printed, start)) {
            throw badUuid(kind, printed);
        }
        // The groups of 8-4-4 digits make the high half, 4-12 the low half; each group is -1 if it has a non-digit.
        long a = hex(printed, start, start + 8, ANY_CASE);
        long b = hex(printed, start + 9, start + 13, ANY_CASE);
        long c = hex(printed, start + 14, start + 18, ANY_CASE);
        long d = hex(printed, start + 19, start + 23, ANY_CASE);
        long e = hex(printed, start + 24, start + 36, ANY_CASE);
        if ((a | b | c | d | e) < 0) {
            throw badUuid(kind, printed);
        }
        return new UUID((a << 32) | (b << 16) | c, (d << 48) | e);
    }

    /**
     * Whether {@code printed} is {@code prefix} and a UUID in its printed form (lower-case hex digits): what
     * {@link #parse} accepts and {@link #format} would print back unchanged. Allocates nothing.
     */
    public static boolean isPrinted(String prefix, String printed) {
        int start = prefix.length();
        if (printed.length() != start + UUID_LENGTH || !printed.startsWith(prefix) || !hyphensInPlace(printed, start)) {
            return false;
        }
        return (hex(printed, start, start + 8, UPPER) | hex(printed, start + 9, start + 13, UPPER)
                | hex(printed, start + 14, start + 18, UPPER) | hex(printed, start + 19, start + 23, UPPER)
                | hex(printed, start + 24, start + 36, UPPER)) >= 0;
    }

    /**
     * Whether {@code printed} has an upper-case hex digit. An id that {@link #parse} accepted differs from its
     * printed form ({@link #format}) exactly when it has one: the prefix matched and everything else is hex digits
     * and hyphens in their fixed places.
     */
    public static boolean hasUpperCaseHex(String printed) {
        for (int i = 0; i < printed.length(); i++) {
            char c = printed.charAt(i);
            if (c >= 'A' && c <= 'F') {
                return true;
            }
        }
        return false;
    }

    /** {@code prefix} + the lower-case hyphenated UUID. */
    public static String format(String prefix, UUID uuid) {
        return prefix + uuid;
    }

    /** Compares the 16 bytes of two UUIDs as unsigned values ({@link UUID#compareTo} compares signed). */
    public static int compare(UUID a, UUID b) {
        return compare(a.getMostSignificantBits(), a.getLeastSignificantBits(), b.getMostSignificantBits(),
                b.getLeastSignificantBits());
    }

    /** {@link #compare(UUID, UUID)} of two UUIDs given by their halves. */
    public static int compare(long aMost, long aLeast, long bMost, long bLeast) {
        int c = Long.compareUnsigned(aMost, bMost);
        return c != 0 ? c : Long.compareUnsigned(aLeast, bLeast);
    }

    private static boolean hyphensInPlace(String printed, int start) {
        return printed.charAt(start + 8) == '-' && printed.charAt(start + 13) == '-'
                && printed.charAt(start + 18) == '-' && printed.charAt(start + 23) == '-';
    }

    /**
     * The hex digits {@code [from, to)} of {@code printed} (at most 15) as a number, or -1 if one is not a digit or
     * its {@link #HEX} entry is {@code limit} or more ({@link #UPPER}: lower case only; {@link #ANY_CASE}: either).
     */
    private static long hex(String printed, int from, int to, int limit) {
        long value = 0;
        for (int i = from; i < to; i++) {
            char c = printed.charAt(i);
            int digit = c < HEX.length ? HEX[c] : -1;
            if (digit < 0 || digit >= limit) {
                return -1;
            }
            value = (value << 4) | (digit & 0xf);
        }
        return value;
    }

    private static IllegalArgumentException badUuid(String kind, String printed) {
        return new IllegalArgumentException("invalid " + kind + " \"" + printed + "\": not a UUID");
    }
}
