package io.stateversions.core;

/** The outcome of {@link Commands#registerCriticalReader} (spec §15). */
public sealed interface RegisterCriticalResult {

    /** Registered now, or registered before (then only its debug was updated). */
    record Registered(CriticalReaderState state) implements RegisterCriticalResult {}

    /** The reader is registered with another opaque codec: a programming error of the caller. */
    record OpaqueCodecMismatch(String actualCodec) implements RegisterCriticalResult {}

    /** The shard is a tombstone: nobody can read it any more. */
    record Tombstoned() implements RegisterCriticalResult {}
}
