package io.stateversions.core;

/**
 * A committed diff did not apply to the state it was committed on top of. State in Consensus is the truth, so
 * this is a bug (in the code that computed the diff, or in this code): the message carries the diff.
 */
public final class DiffApplyException extends IllegalStateException {

    public DiffApplyException(State state, StateDiff diff, String reason) {
        super("could not apply diff " + diff.seqnoFrom() + " -> " + diff.seqnoTo() + " to shard " + state.shardId()
                + " at " + state.seqno() + ": " + reason + "; diff: " + diff);
    }
}
