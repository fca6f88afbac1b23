package io.stateversions.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
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
 *
 * <p>A histogram says how bad the tail is, not when it happened. So the recording window is also cut into slices of
 * {@link #SLICE_NANOS} by intended time, each keeping its operations' count and greatest latency, next to what the
 * machine did meanwhile (its CPUs' steal and iowait time from {@code /proc/stat}); the slices go to a CSV file with
 * wall-clock times, to be laid beside the service's GC log and PostgreSQL's log, and the worst ones are printed.
 */
final class OpenLoop {

    private OpenLoop() {}

    static final long SLICE_NANOS = 100_000_000L;

    static Measurement run(String target, double perSecond, int shards, Duration warmup, Duration duration,
            CpuTime.Meter cpu, IntFunction<CompletableFuture<Void>> operation) throws Exception {
        return run(target, perSecond, shards, warmup, duration, cpu, operation, Optional.empty());
    }

    static Measurement run(String target, double perSecond, int shards, Duration warmup, Duration duration,
            CpuTime.Meter cpu, IntFunction<CompletableFuture<Void>> operation, Optional<Path> timeline)
            throws Exception {
        long intervalNanos = Math.max(1, Math.round(1e9 / perSecond));
        long start = System.nanoTime();
        long recordFrom = start + warmup.toNanos();
        long end = recordFrom + duration.toNanos();
        CpuTime.Window cpuWindow = cpu.window(recordFrom, end);
        Histogram latency = new ConcurrentHistogram(1, 600_000_000L, 3);
        AtomicLong errors = new AtomicLong();
        int slices = (int) ((duration.toNanos() + SLICE_NANOS - 1) / SLICE_NANOS);
        AtomicLongArray sliceCount = new AtomicLongArray(slices);
        AtomicLongArray sliceMaxMicros = new AtomicLongArray(slices);
        MachineTicks machine = MachineTicks.start(recordFrom, slices);
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
                        int slice = (int) Math.min(slices - 1, (intended - recordFrom) / SLICE_NANOS);
                        sliceCount.incrementAndGet(slice);
                        sliceMaxMicros.accumulateAndGet(slice, micros, Math::max);
                    } else {
                        errors.incrementAndGet();
                    }
                }
                return null;
            }));
            sent++;
        }
        CompletableFuture.allOf(tails.toArray(CompletableFuture[]::new)).get(2, TimeUnit.MINUTES);
        machine.stop();
        System.out.printf("  %s: sent %d operations at %.0f/s%n", target, sent, perSecond);
        Instant wallAtRecordFrom = Instant.now().minusNanos(System.nanoTime() - recordFrom);
        List<Integer> worst = new ArrayList<>();
        for (int i = 0; i < slices; i++) {
            worst.add(i);
        }
        worst.sort(Comparator.comparingLong((Integer i) -> sliceMaxMicros.get(i)).reversed());
        StringBuilder worstLine = new StringBuilder("  worst 100-ms slices (by intended time; max latency, steal and"
                + " iowait ms of all CPUs):");
        for (int i : worst.subList(0, Math.min(5, slices))) {
            worstLine.append(String.format("%n    %s (+%.1f s): %d ops, max %.1f ms, steal %d, iowait %d",
                    wallAtRecordFrom.plusNanos(i * SLICE_NANOS), i * SLICE_NANOS / 1e9, sliceCount.get(i),
                    sliceMaxMicros.get(i) / 1000.0, machine.stealMillis(i), machine.iowaitMillis(i)));
        }
        System.out.println(worstLine);
        if (timeline.isPresent()) {
            StringBuilder csv = new StringBuilder("wall_time,offset_s,ops,max_latency_ms,steal_ms,iowait_ms\n");
            for (int i = 0; i < slices; i++) {
                csv.append(String.format("%s,%.1f,%d,%.3f,%d,%d%n", wallAtRecordFrom.plusNanos(i * SLICE_NANOS),
                        i * SLICE_NANOS / 1e9, sliceCount.get(i), sliceMaxMicros.get(i) / 1000.0,
                        machine.stealMillis(i), machine.iowaitMillis(i)));
            }
            Files.writeString(timeline.get(), csv);
            System.out.println("  timeline: " + timeline.get());
        }
        return new Measurement(target, latency.getTotalCount(), errors.get(), duration.toNanos() / 1e9, latency,
                cpuWindow.spent());
    }

    /**
     * The machine's steal and iowait time per slice, read from the first line of {@code /proc/stat} at each slice's
     * end by a thread of its own; zeros where {@code /proc/stat} cannot be read.
     */
    private static final class MachineTicks {

        private static final Path PROC_STAT = Path.of("/proc/stat");
        private static final long MILLIS_PER_TICK = 10; // USER_HZ is 100 on Linux

        private final long[] steal;
        private final long[] iowait;
        private final Thread thread;
        private volatile boolean stopped;

        private MachineTicks(long recordFrom, int slices) {
            steal = new long[slices];
            iowait = new long[slices];
            thread = new Thread(() -> sample(recordFrom), "open-loop-machine-ticks");
            thread.setDaemon(true);
        }

        static MachineTicks start(long recordFrom, int slices) {
            MachineTicks ticks = new MachineTicks(recordFrom, slices);
            ticks.thread.start();
            return ticks;
        }

        private void sample(long recordFrom) {
            long[] previous = null;
            for (int slice = -1; slice < steal.length && !stopped; slice++) {
                long wait;
                while ((wait = recordFrom + (slice + 1) * SLICE_NANOS - System.nanoTime()) > 0 && !stopped) {
                    LockSupport.parkNanos(wait);
                }
                long[] now = read();
                if (now == null) {
                    return;
                }
                if (previous != null && slice >= 0) {
                    steal[slice] = (now[0] - previous[0]) * MILLIS_PER_TICK;
                    iowait[slice] = (now[1] - previous[1]) * MILLIS_PER_TICK;
                }
                previous = now;
            }
        }

        /** {steal, iowait} ticks of all CPUs, or null. */
        private static long[] read() {
            try {
                String[] fields = Files.readAllLines(PROC_STAT).get(0).trim().split("\\s+");
                return new long[] {Long.parseLong(fields[8]), Long.parseLong(fields[5])};
            } catch (IOException | RuntimeException e) {
                return null;
            }
        }

        void stop() throws InterruptedException {
            stopped = true;
            LockSupport.unpark(thread);
            thread.join(1000);
        }

        long stealMillis(int slice) {
            return steal[slice];
        }

        long iowaitMillis(int slice) {
            return iowait[slice];
        }
    }
}
