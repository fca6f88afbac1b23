package io.stateversions.core;

/** The one lease rule (spec §14): a handle is retained iff {@code heartbeat + duration >= now}. */
final class Leases {

    private Leases() {}

    static boolean isExpired(long lastHeartbeatMs, long leaseDurationMs, long nowMs) {
        long expiresAtMs = lastHeartbeatMs + leaseDurationMs;
        if (expiresAtMs < lastHeartbeatMs) { // overflow: a lease beyond the end of time never expires
            return false;
        }
        return expiresAtMs < nowMs;
    }
}
