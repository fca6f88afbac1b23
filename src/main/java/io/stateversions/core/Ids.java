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
        String uuid = printed.substring(prefix.length());
        if (uuid.length() != UUID_LENGTH) {
            throw badUuid(kind, printed);
        }
        long msb = 0;
        long lsb = 0;
        int digits = 0;
        for (int i = 0; i < UUID_LENGTH; i++) {
            char c = uuid.charAt(i);
            if (i == 8 || i == 13 || i == 18 || i == 23) {
                if (c != '-') {
                    throw badUuid(kind, printed);
                }
                continue;
            }
            int nibble = Character.digit(c, 16);
            if (nibble < 0 || c > 'f') { // Character.digit also accepts non-ASCII digits
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

    /** {@code prefix} + the lower-case hyphenated UUID. */
    public static String format(String prefix, UUID uuid) {
        return prefix + uuid;
    }

    /** Compares the 16 bytes of two UUIDs as unsigned values ({@link UUID#compareTo} compares signed). */
    public static int compare(UUID a, UUID b) {
        int c = Long.compareUnsigned(a.getMostSignificantBits(), b.getMostSignificantBits());
        return c != 0 ? c : Long.compareUnsigned(a.getLeastSignificantBits(), b.getLeastSignificantBits());
    }

    private static IllegalArgumentException badUuid(String kind, String printed) {
        return new IllegalArgumentException("invalid " + kind + " \"" + printed + "\": not a UUID");
    }
}
