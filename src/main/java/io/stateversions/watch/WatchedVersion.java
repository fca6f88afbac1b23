package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import io.stateversions.core.StateDiff;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.Function;

/**
 * One committed version as watchers see it: its seqno and the diff that produced it. Shared by every watcher of
 * the shard, so each transport renders it once ({@link #rendered}).
 */
public final class WatchedVersion {

    /** Rendering slots, one per transport. */
    public static final int GRPC = 0;
    public static final int SSE = 1;

    private final SeqNo seqno;
    private final StateDiff diff;
    private final AtomicReferenceArray<Object> renderings = new AtomicReferenceArray<>(2);

    public WatchedVersion(StateDiff diff) {
        this.seqno = diff.seqnoTo();
        this.diff = diff;
    }

    public SeqNo seqno() {
        return seqno;
    }

    public StateDiff diff() {
        return diff;
    }

    /** This version rendered by {@code render}, computed at most once per slot (racing renders agree). */
    @SuppressWarnings("unchecked")
    public <T> T rendered(int slot, Function<WatchedVersion, T> render) {
        Object cached = renderings.get(slot);
        if (cached == null) {
            cached = render.apply(this);
            if (!renderings.compareAndSet(slot, null, cached)) {
                cached = renderings.get(slot);
            }
        }
        return (T) cached;
    }

    @Override
    public String toString() {
        return "WatchedVersion{" + seqno + "}";
    }
}
