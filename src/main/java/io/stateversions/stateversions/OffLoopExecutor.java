package io.stateversions.stateversions;

import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bounded pool that runs CPU-heavy state work off the event loops ({@link StateVersions#offLoop}): encoding and
 * decoding rollups, GC's decoding and checks, replaying diffs to read an old version or to load a shard.
 *
 * <p>A fixed number of threads, so that maintenance of many large shards at once takes at most that many cores and
 * leaves the rest to the event loops that serve requests. Work beyond them waits in an unbounded queue: what can
 * queue is bounded elsewhere (at most one rollup and one GC in flight per shard, and the requests in flight).
 * Its threads are daemons named {@value #THREAD_NAME_PREFIX}N.
 */
public final class OffLoopExecutor implements Executor, AutoCloseable {

    public static final String THREAD_NAME_PREFIX = "stateversions-cpu-";

    private final ThreadPoolExecutor pool;

    /** A pool of {@code threads} threads (at least 1). */
    public OffLoopExecutor(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("the CPU pool needs at least 1 thread, got " + threads);
        }
        AtomicInteger count = new AtomicInteger();
        ThreadFactory factory = task -> {
            Thread thread = new Thread(task, THREAD_NAME_PREFIX + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
        this.pool = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(),
                factory);
    }

    /** The default size: half the available processors, at least 2 (so that one long rollup does not hold up GC). */
    public static int defaultThreads() {
        return Math.max(2, Runtime.getRuntime().availableProcessors() / 2);
    }

    public int threads() {
        return pool.getMaximumPoolSize();
    }

    @Override
    public void execute(Runnable task) {
        pool.execute(task);
    }

    /** Lets the work already queued finish and refuses more (a refused task fails its future). */
    @Override
    public void close() {
        pool.shutdown();
    }
}
