package io.stateversions.core;

/** The one lease rule (spec §14): a handle is retained iff {@code heartbeat + duration >= now}. */
final class Leases {

    private Leases() {}

    static boolean isExpired(long lastHeartbeatMs, long leaseDurationMs, long nowMs) {
        return expiresAtMs(lastHeartbeatMs, leaseDurationMs) < nowMs;
    }

    /**
     * {@code heartbeat + duration}: the handle is expired at every time after it. A sum that wraps around (a lease
     * beyond the end of time) never expires, so it is {@link Long#MAX_VALUE}, after which there is no time. The key by
     * which {@link StateCollections} indexes its handles, so that finding the expired ones does not scan them all.
     */
    static long expiresAtMs(long lastHeartbeatMs, long leaseDurationMs) {
        long expiresAtMs = lastHeartbeatMs + leaseDurationMs;
        return expiresAtMs < lastHeartbeatMs ? Long.MAX_VALUE : expiresAtMs;
    }
}
