package io.stateversions.location;

import java.util.Comparator;

/**
 * The order in which {@link Consensus#listKeys} returns keys: Unicode code points, which is also the byte order
 * of UTF-8 and the order of PostgreSQL's "C" collation. {@link String#compareTo} differs from it only for
 * characters outside the Basic Multilingual Plane.
 */
public final class KeyOrder {

    public static final Comparator<String> CODE_POINT = KeyOrder::compare;

    private KeyOrder() {}

    private static int compare(String a, String b) {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Integer.compare(a.length() - i, b.length() - j);
    }
}
