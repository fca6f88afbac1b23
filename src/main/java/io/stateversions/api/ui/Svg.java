package io.stateversions.api.ui;

import java.util.Locale;

/** Small helpers of the server-drawn SVG charts. */
final class Svg {

    private Svg() {}

    /** {@code x1,y1 x2,y2 …} with one decimal, for a polygon's {@code points}. */
    static String points(double... xy) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i + 1 < xy.length; i += 2) {
            out.append(i == 0 ? "" : " ").append(number(xy[i])).append(',').append(number(xy[i + 1]));
        }
        return out.toString();
    }

    static String number(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }
}
