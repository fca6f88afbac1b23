package io.stateversions.core;

import java.util.OptionalLong;

/**
 * What a committer knows of the encoded sizes of a shard's diffs: the input of the size-aware rollup policy
 * ({@link State#needRollup(PersistConfig, long, DiffSizes)}). Sizes are not in state (a diff's size is known only
 * once it is encoded), so whoever sees the diffs (a machine commits or applies each) keeps them.
 */
@FunctionalInterface
public interface DiffSizes {

    /** Nothing is known: the policy decides by versions alone. */
    DiffSizes UNKNOWN = seqno -> OptionalLong.empty();

    /**
     * The encoded bytes of the diffs after {@code seqno} up to the state a transition builds on (0 if that state is
     * at {@code seqno}); empty if some of them are unknown.
     */
    OptionalLong bytesAfter(SeqNo seqno);
}
