package io.stateversions.core;

/** A shard was opened with codec names other than the ones it was created with. Nothing was changed. */
public final class CodecMismatchException extends RuntimeException {

    private final ShardId shard;
    private final Codecs requested;
    private final Codecs actual;

    public CodecMismatchException(ShardId shard, Codecs requested, Codecs actual) {
        super("codec mismatch for shard " + shard + ": requested " + requested + " but the shard has " + actual);
        this.shard = shard;
        this.requested = requested;
        this.actual = actual;
    }

    public ShardId shard() {
        return shard;
    }

    public Codecs requested() {
        return requested;
    }

    public Codecs actual() {
        return actual;
    }
}
