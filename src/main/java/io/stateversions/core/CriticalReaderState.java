package io.stateversions.core;

import java.util.Objects;

/**
 * A critical reader (spec §3.3): a since capability guarded by an opaque 8-byte token that callers compare and
 * set. It holds no seqno and never expires on its own.
 *
 * @param opaque      the token, as persist puts it on the wire: the 8 bytes read as a little-endian i64
 * @param opaqueCodec the name of the caller's type for the token; must match on every call
 */
public record CriticalReaderState(Frontier since, long opaque, String opaqueCodec, HandleDebug debug) {

    public CriticalReaderState {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(opaqueCodec, "opaqueCodec");
        Objects.requireNonNull(debug, "debug");
    }
}
