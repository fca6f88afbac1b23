package io.stateversions.codec;

/** Stored state that cannot be decoded: corrupt, or not ours. Never a client error. */
public final class DecodeException extends IllegalStateException {

    public DecodeException(String message) {
        super(message);
    }

    public DecodeException(String message, Throwable cause) {
        super(message, cause);
    }
}
