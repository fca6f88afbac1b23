package io.stateversions.location;

import io.stateversions.core.SeqNo;
import java.util.Arrays;
import java.util.Objects;

/**
 * One entry of a {@link Consensus} log: a seqno and the opaque bytes stored at it.
 *
 * <p>The array is owned by this value: neither the creator nor any reader may modify it after construction.
 * That rule (rather than defensive copies) keeps the hot path free of copies of every diff.
 */
public record VersionedData(SeqNo seqno, byte[] data) {

    public VersionedData {
        Objects.requireNonNull(seqno, "seqno");
        Objects.requireNonNull(data, "data");
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof VersionedData other && seqno.equals(other.seqno) && Arrays.equals(data, other.data);
    }

    @Override
    public int hashCode() {
        return 31 * seqno.hashCode() + Arrays.hashCode(data);
    }

    @Override
    public String toString() {
        return "VersionedData{" + seqno + ", " + data.length + " bytes}";
    }
}
