package io.stateversions.stateversions;

import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import java.util.OptionalLong;

/** A rollup encoded for Blob. The array is owned by this value and never modified. */
public record EncodedRollup(ShardId shard, SeqNo seqno, PartialRollupKey key, byte[] bytes) {

    /** What state records of it: its key and size. */
    public HollowRollup toHollow() {
        return new HollowRollup(key, OptionalLong.of(bytes.length));
    }

    @Override
    public String toString() {
        return "EncodedRollup{" + key.complete(shard) + ", " + bytes.length + " bytes}";
    }
}
