package io.stateversions.core;

/** The outcome of {@link Commands#registerWriter}. */
public sealed interface RegisterWriterResult {

    /** Registered now, or registered before and heartbeated. */
    record Registered(WriterState state) implements RegisterWriterResult {}

    /** The shard is a tombstone: nobody can write it any more. */
    record Tombstoned() implements RegisterWriterResult {}
}
