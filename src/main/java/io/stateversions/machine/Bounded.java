package io.stateversions.machine;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/** Runs an asynchronous task per item with bounded concurrency: blob deletes of GC and sweeps, shard sweeps. */
final class Bounded {

    private Bounded() {}

    /**
     * Runs {@code task} for every item, at most {@code concurrency} at a time (in windows of that size), and
     * completes when all have; fails with the first failure of a window, after that window has finished.
     */
    static <T> CompletableFuture<Void> forEach(List<T> items, int concurrency, Function<T, CompletableFuture<?>> task) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1, got " + concurrency);
        }
        CompletableFuture<Void> chain = CompletableFuture.completedFuture(null);
        for (int from = 0; from < items.size(); from += concurrency) {
            List<T> window = items.subList(from, Math.min(items.size(), from + concurrency));
            chain = chain.thenCompose(ignored -> CompletableFuture.allOf(
                    window.stream().map(task).toArray(CompletableFuture[]::new)));
        }
        return chain;
    }
}
