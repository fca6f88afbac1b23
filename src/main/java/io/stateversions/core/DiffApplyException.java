package io.stateversions.core;

/**
 * A committed diff did not apply to the state it was committed on top of. State in Consensus is the truth, so
 * this is a bug (in the code that computed the diff, or in this code): the message carries the diff.
 */
public final class DiffApplyException extends IllegalStateException {

    public DiffApplyException(State state, StateDiff diff, String reason) {
        this(state.shardId(), state.seqno(), diff, reason);
    }

    /** {@code diff} did not apply to what a reader holds of {@code shard}'s state at {@code seqno}. */
    public DiffApplyException(ShardId shard, SeqNo seqno, StateDiff diff, String reason) {
        super("could not apply diff " + diff.seqnoFrom() + " -> " + diff.seqnoTo() + " to shard " + shard + " at "
                + seqno + ": " + reason + "; diff: " + diff);
    }
}
