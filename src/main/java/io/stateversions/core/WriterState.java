package io.stateversions.core;

import java.util.Objects;

/**
 * A writer (spec §3.3).
 *
 * @param mostRecentWriteToken the token of this writer's last successful compare_and_append
 *                             ({@link IdempotencyToken#SENTINEL} before the first)
 * @param mostRecentWriteUpper the upper of that append ({@link Frontier#MIN} before the first); only moves forward
 */
public record WriterState(long lastHeartbeatTimestampMs, long leaseDurationMs, IdempotencyToken mostRecentWriteToken,
        Frontier mostRecentWriteUpper, HandleDebug debug) {

    public WriterState {
        Objects.requireNonNull(mostRecentWriteToken, "mostRecentWriteToken");
        Objects.requireNonNull(mostRecentWriteUpper, "mostRecentWriteUpper");
        Objects.requireNonNull(debug, "debug");
    }

    /** Expired at {@code nowMs} iff {@code lastHeartbeat + leaseDuration < nowMs}. */
    public boolean isExpiredAt(long nowMs) {
        return Leases.isExpired(lastHeartbeatTimestampMs, leaseDurationMs, nowMs);
    }
}
