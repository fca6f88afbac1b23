package io.stateversions.core;

import java.util.Objects;

/**
 * A leased reader (spec §3.3).
 *
 * @param seqno the reader's seqno hold: it may still read every blob referenced by the state at this seqno, so GC
 *              never truncates past it
 * @param since the reader's read capability
 */
public record LeasedReaderState(SeqNo seqno, Frontier since, long lastHeartbeatTimestampMs, long leaseDurationMs,
        HandleDebug debug) {

    public LeasedReaderState {
        Objects.requireNonNull(seqno, "seqno");
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(debug, "debug");
    }

    /** Expired at {@code nowMs} iff {@code lastHeartbeat + leaseDuration < nowMs}. */
    public boolean isExpiredAt(long nowMs) {
        return Leases.isExpired(lastHeartbeatTimestampMs, leaseDurationMs, nowMs);
    }
}
