package io.stateversions.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.HdrHistogram.Histogram;

/**
 * A closed-loop load: {@code clients} threads, each sending its next operation as soon as the previous one answered.
 * Each thread runs until the end of warm-up plus recording; an operation that started inside the recording window is
 * recorded (its latency, or its failure). Throughput is what one would see from that many synchronous clients. The
 * processes of the {@link CpuTime.Meter} are read at the start and at the end of the recording window.
 */
final class ClosedLoop {

    /** One client's operations; {@link #run} throws on failure. */
    interface Client {
        void run() throws Exception;
    }

    interface ClientFactory {
        Client create(int clientIndex) throws Exception;
    }

    private ClosedLoop() {}

    static Measurement run(String target, int clients, Duration warmup, Duration duration, CpuTime.Meter cpu,
            ClientFactory factory) throws Exception {
        List<Client> created = new ArrayList<>(clients);
        for (int i = 0; i < clients; i++) {
            created.add(factory.create(i));
        }
        long recordFrom = System.nanoTime() + warmup.toNanos();
        long end = recordFrom + duration.toNanos();
        CpuTime.Window cpuWindow = cpu.window(recordFrom, end);
        Histogram[] latencies = new Histogram[clients];
        long[] errors = new long[clients];
        AtomicReference<Throwable> firstError = new AtomicReference<>();
        List<Thread> threads = new ArrayList<>(clients);
        for (int i = 0; i < clients; i++) {
            int index = i;
            latencies[i] = Measurement.newHistogram();
            Thread thread = new Thread(() -> {
                Client client = created.get(index);
                long now = System.nanoTime();
                while (now < end) {
                    long started = now;
                    try {
                        client.run();
                        now = System.nanoTime();
                        if (started >= recordFrom) {
                            latencies[index].recordValue(Math.max(1, (now - started) / 1000));
                        }
                    } catch (Exception | AssertionError e) {
                        now = System.nanoTime();
                        if (started >= recordFrom) {
                            errors[index]++;
                        }
                        firstError.compareAndSet(null, e);
                    }
                }
            }, "bench-client-" + i);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        Histogram total = Measurement.newHistogram();
        long errorCount = 0;
        for (int i = 0; i < clients; i++) {
            total.add(latencies[i]);
            errorCount += errors[i];
        }
        if (firstError.get() != null) {
            System.out.printf("  %s: first error: %s%n", target, firstError.get());
        }
        return new Measurement(target, total.getTotalCount(), errorCount, duration.toNanos() / 1e9, total,
                cpuWindow.spent());
    }
}
