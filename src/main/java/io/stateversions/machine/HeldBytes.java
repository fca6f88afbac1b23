package io.stateversions.machine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The estimated heap held by a replica's machines ({@link RetainedSize} of each one's cached state), and its budget
 * ({@link MachineConfig#maxCachedBytes}). Each machine keeps its own part up to date as its state changes and gives
 * it back when it is retired ({@link ShardMachine}), so the sum is exact for the estimates: O(1) per commit.
 *
 * <p>Beyond the budget {@link Machines} evicts the least recently used idle machines, down to a sixteenth under it
 * (so that a growing shard does not make every commit trim). If it cannot get under the budget (the machines left
 * are all in use, or one shard is larger than the budget), it is not asked again until the held bytes have grown by
 * an eighth of the budget more, or fallen under it: a replica whose busy shards outgrow the budget does not search
 * its whole cache on every commit.
 */
public final class HeldBytes {

    private final long maxBytes;
    private final AtomicLong held = new AtomicLong();
    /** Above this, {@link #add} says to trim: the budget, or more after a trim that could not get under it. */
    private volatile long trimAbove;

    public HeldBytes(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("stateversions.machine.max-cached-bytes must be >= 1, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.trimAbove = maxBytes;
    }

    /** The budget of {@link MachineConfig#maxCachedBytes}, or a quarter of the maximum heap when it is unset. */
    public static HeldBytes of(MachineConfig config) {
        return new HeldBytes(config.maxCachedBytes().map(size -> size.asLongValue())
                .orElse(Runtime.getRuntime().maxMemory() / 4));
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** The estimated heap held now. */
    public long held() {
        return held.get();
    }

    /** How far the held bytes are over what a trim leaves: a sixteenth under the budget (0 if under that). */
    long excessOverLowMark() {
        return Math.max(0, held.get() - (maxBytes - maxBytes / 16));
    }

    /**
     * A machine's part changed by {@code delta}. Returns whether to trim: the held bytes grew past the point at which
     * a trim is due.
     */
    boolean add(long delta) {
        long now = held.addAndGet(delta);
        if (now < 0) {
            throw new IllegalStateException("invariant violated: held bytes " + now + " after a change of " + delta
                    + " (more given back than counted)");
        }
        if (delta > 0) {
            return now > trimAbove;
        }
        if (now <= maxBytes && trimAbove != maxBytes) {
            trimAbove = maxBytes;
        }
        return false;
    }

    /** Whether the held bytes are over the budget (whether or not a trim is due). */
    boolean overBudget() {
        return held.get() > maxBytes;
    }

    /** Whether the held bytes are past the point at which a trim is due. */
    boolean trimDue() {
        return held.get() > trimAbove;
    }

    /** A trim ended: if it left the held bytes over the budget, the next is due an eighth of the budget later. */
    void trimmed() {
        long now = held.get();
        trimAbove = now <= maxBytes ? maxBytes : now + Math.max(1, maxBytes / 8);
    }
}
