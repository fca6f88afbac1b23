package io.stateversions.stateversions;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Every live state of a shard, oldest first: starts from the rollup at the earliest live diff and applies the live
 * diffs one by one (spec §10.10).
 *
 * <p>The first diff is the one that produced the initial state itself (its {@code seqnoTo} is the state's seqno),
 * so the first step applies nothing and reports {@link InspectDiff.FromInitial}; every later step reports
 * {@link InspectDiff.Diff}. With validation on, a {@link ReferencedBlobValidator} checks every step.
 */
public final class StateVersionsIter {

    private final StateCodec codec;
    private final List<VersionedData> diffs;
    private final ReferencedBlobValidator validator;
    private int position;
    private State state;

    StateVersionsIter(StateCodec codec, State initial, List<VersionedData> diffs, boolean validate) {
        if (diffs.isEmpty() || !diffs.get(0).seqno().equals(initial.seqno())) {
            throw new IllegalStateException("invariant violated: live states of shard " + initial.shardId()
                    + " start from a rollup at " + initial.seqno() + " but the first live diff is "
                    + (diffs.isEmpty() ? "missing" : diffs.get(0).seqno()));
        }
        this.codec = codec;
        this.diffs = diffs;
        this.state = initial;
        this.validator = validate ? new ReferencedBlobValidator() : null;
    }

    /** The number of diffs not yet applied. */
    public int len() {
        return diffs.size() - position;
    }

    /** The seqno of the next diff, if any. */
    public Optional<io.stateversions.core.SeqNo> peekSeqno() {
        return position < diffs.size() ? Optional.of(diffs.get(position).seqno()) : Optional.empty();
    }

    /** The current state (the initial one before the first step). */
    public State state() {
        return state;
    }

    /** Takes one step; empty when every diff has been applied. */
    public Optional<State> next(Consumer<InspectDiff> inspect) {
        if (position >= diffs.size()) {
            return Optional.empty();
        }
        VersionedData data = diffs.get(position++);
        StateDiff diff = codec.decodeDiff(state.shardId(), data.data());
        InspectDiff step;
        if (diff.seqnoTo().equals(state.seqno())) {
            step = new InspectDiff.FromInitial(state);
        } else {
            step = new InspectDiff.Diff(diff);
            State next = diff.apply(state);
            if (!next.seqno().equals(diff.seqnoTo()) || !next.seqno().equals(data.seqno())) {
                throw new IllegalStateException("invariant violated: diff stored at " + data.seqno() + " of shard "
                        + state.shardId() + " took the state from " + state.seqno() + " to " + next.seqno());
            }
            state = next;
        }
        if (validator != null) {
            step.referencedBlobs(validator::addIncremental);
            validator.validateAgainst(state);
        }
        inspect.accept(step);
        return Optional.of(state);
    }

    /** Takes one step, ignoring what it did. */
    public Optional<State> next() {
        return next(step -> {});
    }
}
