package io.stateversions.core;

/** The outcome of {@link Commands#registerSchema}. */
public sealed interface RegisterSchemaResult {

    /** The id of the pair: a new one, or the one an identical pair was registered with before. */
    record Registered(SchemaId id) implements RegisterSchemaResult {}

    /** The shard is a tombstone. */
    record Tombstoned() implements RegisterSchemaResult {}
}
