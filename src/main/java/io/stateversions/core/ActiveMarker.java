package io.stateversions.core;

import java.util.Objects;

/**
 * A maintenance task in progress (persist's {@code ActiveRollup} / {@code ActiveGc}): assigned by the transition
 * at {@code seqno}, at {@code startMs}. It keeps other handles from starting the same work until it is done or
 * older than a fallback threshold.
 */
public record ActiveMarker(SeqNo seqno, long startMs) {

    public ActiveMarker {
        Objects.requireNonNull(seqno, "seqno");
    }
}
