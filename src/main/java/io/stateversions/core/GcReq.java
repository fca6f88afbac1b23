package io.stateversions.core;

import java.util.Objects;

/** A garbage collection request: truncate and clean up {@code shard} below {@code newSeqnoSince} (spec §11). */
public record GcReq(ShardId shard, SeqNo newSeqnoSince) {

    public GcReq {
        Objects.requireNonNull(shard, "shard");
        Objects.requireNonNull(newSeqnoSince, "newSeqnoSince");
    }
}
