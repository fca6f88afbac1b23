package io.stateversions.core;

/** The outcome of {@link Commands#becomeTombstone} (spec §15). */
public sealed interface BecomeTombstoneResult {

    /** The shard is now a finalized tombstone ({@link State#isFinalized}). */
    record Finalized() implements BecomeTombstoneResult {}

    /** The shard was already a finalized tombstone: nothing to do. */
    record AlreadyTombstone() implements BecomeTombstoneResult {}

    /** Only a shard whose since and upper are both {@code {}} can be finalized. */
    record NotFinalizable(Frontier since, Frontier upper) implements BecomeTombstoneResult {}
}
