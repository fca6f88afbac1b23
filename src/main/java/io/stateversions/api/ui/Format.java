package io.stateversions.api.ui;

import io.stateversions.api.rest.Views;
import io.stateversions.core.Frontier;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the inspector prints values: frontiers and seqnos as the API does, times in UTC, durations and sizes short. */
final class Format {

    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS 'UTC'")
            .withZone(ZoneOffset.UTC);

    private Format() {}

    /** {@code [5]} or {@code []}, as the API's JSON. */
    static String frontier(Frontier frontier) {
        return Views.frontier(frontier).toString();
    }

    static String time(long epochMs) {
        return TIME.format(Instant.ofEpochMilli(epochMs));
    }

    /** {@code 3h 2m}, {@code 14m 32s}, {@code 950 ms}; negative durations as their absolute value. */
    static String duration(long ms) {
        long abs = Math.abs(ms);
        if (abs < 1000) {
            return abs + " ms";
        }
        long s = abs / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return s / 60 + "m " + s % 60 + "s";
        }
        if (s < 86_400) {
            return s / 3600 + "h " + s % 3600 / 60 + "m";
        }
        return s / 86_400 + "d " + s % 86_400 / 3600 + "h";
    }

    /** {@code 512 B}, {@code 1.5 KiB}, {@code 3.2 MiB}. */
    static String bytes(long n) {
        if (n < 1024) {
            return n + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = n;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /**
     * When a lease runs out: {@code heartbeat + duration}, or {@link Long#MAX_VALUE} where that sum wraps (a lease
     * beyond the end of time never expires; the wrapped sum showed such a handle as lapsed).
     */
    static long expiresAtMs(long lastHeartbeatMs, long leaseDurationMs) {
        long at = lastHeartbeatMs + leaseDurationMs;
        return at < lastHeartbeatMs ? Long.MAX_VALUE : at;
    }

    /** Expiry as the handles table shows it: {@code in 14m 32s}, how long ago a lease lapsed, or {@code never}. */
    static String expiry(long expiresAtMs, long nowMs) {
        if (expiresAtMs == Long.MAX_VALUE) {
            return "never";
        }
        long left = expiresAtMs - nowMs;
        return left >= 0 ? "in " + duration(left) : "lapsed " + duration(left) + " ago";
    }
}
