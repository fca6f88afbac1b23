package io.stateversions.core;

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
        if (printed.length() != start + UUID_LENGTH) {
            throw badUuid(kind, printed);
        }
        long msb = 0;
        long lsb = 0;
        int digits = 0;
        for (int i = 0; i < UUID_LENGTH; i++) {
            char c = printed.charAt(start + i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (c != '-') {
                    throw badUuid(kind, printed);
                }
                continue;
            }
            int nibble = hexDigit(c);
            if (nibble < 0) {
                throw badUuid(kind, printed);
            }
            if (digits < 16) {
                msb = (msb << 4) | nibble;
            } else {
                lsb = (lsb << 4) | nibble;
            }
            digits++;
        }
        return new UUID(msb, lsb);
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
        int c = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return c != 0 ? c : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    /** The value of an ASCII hex digit (either case), or -1. */
    private static int hexDigit(char c) {
        if (c >= '0' && c <= '9') {
            return c - '0';
        }
        if (c >= 'a' && c <= 'f') {
            return c - 'a' + 10;
        }
        if (c >= 'A' && c <= 'F') {
            return c - 'A' + 10;
        }
        return -1;
    }

    private static IllegalArgumentException badUuid(String kind, String printed) {
        return new IllegalArgumentException("invalid " + kind + " \"" + printed + "\": not a UUID");
    }
}
