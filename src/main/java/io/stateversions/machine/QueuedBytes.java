package io.stateversions.machine;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes of appends and merges queued in this replica's machines, or waiting for their shard's machine to load
 * ({@link Machines}, "Commands waiting for a load"), and their cap. The per-shard cap
 * ({@link MachineConfig#maxQueuedCommands}) bounds one shard's queue by count; this bounds the replica's by size,
 * so that many shards with large batches queued at once, or stuck behind loads while storage is down, cannot exhaust
 * the heap.
 *
 * <p>A command is taken while its bytes fit under the cap, and always when nothing is queued: a command larger
 * than the whole cap is served alone rather than refused forever. So the bytes queued exceed the cap by at most
 * one command.
 */
public final class QueuedBytes {

    private final long maxBytes;
    private final AtomicLong queued = new AtomicLong();

    public QueuedBytes(long maxBytes) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("the cap of queued bytes must be >= 1, got " + maxBytes);
        }
        this.maxBytes = maxBytes;
    }

    /** The cap of {@link MachineConfig#maxQueuedBytes}, or a tenth of the maximum heap when it is unset. */
    public static QueuedBytes of(MachineConfig config) {
        return new QueuedBytes(config.maxQueuedBytes().map(size -> size.asLongValue())
                .orElse(Runtime.getRuntime().maxMemory() / 10));
    }

    public long maxBytes() {
        return maxBytes;
    }

    /** The bytes queued now. */
    public long queued() {
        return queued.get();
    }

    /** Counts {@code bytes} as queued if they fit under the cap, or if nothing is queued; else changes nothing. */
    boolean tryAcquire(long bytes) {
        while (true) {
            long now = queued.get();
            if (now > 0 && now + bytes > maxBytes) {
                return false;
            }
            if (queued.compareAndSet(now, now + bytes)) {
                return true;
            }
        }
    }

    /** {@code bytes} acquired earlier are no longer queued (their command completed, or was refused). */
    void release(long bytes) {
        long after = queued.addAndGet(-bytes);
        if (after < 0) {
            throw new IllegalStateException("invariant violated: released " + bytes + " queued bytes, leaving "
                    + after + " (more released than acquired)");
        }
    }
}
