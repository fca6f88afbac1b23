package io.stateversions.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;

/**
 * An open-loop load at a fixed rate: operation {@code i} is due at {@code start + i / rate}, whatever happened to the
 * earlier ones, and its latency is measured from that intended time, so that a stall is charged to every operation
 * it delayed (no coordinated omission). Operations go round-robin over {@code shards}; an operation on a shard whose
 * previous one has not answered yet waits for it (appends to one shard are ordered), and that wait is part of its
 * latency too. The processes of the {@link CpuTime.Meter} are read at the start and at the end of the recording
 * window.
 */
final class OpenLoop {

    private OpenLoop() {}

    static Measurement run(String target, double perSecond, int shards, Duration warmup, Duration duration,
            CpuTime.Meter cpu, IntFunction<CompletableFuture<Void>> operation) throws Exception {
        long intervalNanos = Math.max(1, Math.round(1e9 / perSecond));
        long start = System.nanoTime();
        long recordFrom = start + warmup.toNanos();
        long end = recordFrom + duration.toNanos();
        CpuTime.Window cpuWindow = cpu.window(recordFrom, end);
        Histogram latency = new ConcurrentHistogram(1, 600_000_000L, 3);
        AtomicLong errors = new AtomicLong();
        List<CompletableFuture<Void>> tails = new ArrayList<>(shards);
        for (int i = 0; i < shards; i++) {
            tails.add(CompletableFuture.completedFuture(null));
        }
        long sent = 0;
        for (long i = 0;; i++) {
            long intended = start + i * intervalNanos;
            if (intended >= end) {
                break;
            }
            long wait;
            while ((wait = intended - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
            int shard = (int) (i % shards);
            boolean recorded = intended >= recordFrom;
            tails.set(shard, tails.get(shard).thenCompose(ignored -> operation.apply(shard)).handle((ok, error) -> {
                long micros = Math.max(1, (System.nanoTime() - intended) / 1000);
                if (recorded) {
                    if (error == null) {
                        latency.recordValue(micros);
                    } else {
                        errors.incrementAndGet();
                    }
                }
                return null;
            }));
            sent++;
        }
        CompletableFuture.allOf(tails.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        System.out.printf("  %s: sent %d operations at %.0f/s%n", target, sent, perSecond);
        return new Measurement(target, latency.getTotalCount(), errors.get(), duration.toNanos() / 1e9, latency,
                cpuWindow.spent());
    }
}
