package io.stateversions.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * P9's contenders: P1's gRPC appends (one part reference each, one client) to shards that already hold many batches.
 * Nobody compacts (the merge requests in the answers are ignored), so every append adds a batch, before the
 * measurement as during it.
 *
 * <p>The <b>large</b> contender is one shard built to {@code batches} batches by one client, one append after the
 * other: a writer has one append in flight at a time, and the appends of one shard are ordered, so nothing faster is
 * honest. The <b>small</b> contender must stay small while it is measured, although each of its appends adds a batch
 * too: it is a ring of shards of {@code batches} batches each, every shard taking as many appends again before the
 * next one takes over, so that the shard appended to always holds between {@code batches} and twice as many. The ring
 * is sized from the rate of the first shard's build and the time the contender will be measured (half as many shards
 * again for safety); should it still run out, it starts over at its first shard, and {@link #description} says how
 * large the shards grew.
 *
 * <p>Only {@code prepare(1)} and {@code append(0)} are meaningful: P9 is P1-shaped.
 */
final class FilledShardAppends implements Appends {

    private final ServiceGrpc service;
    private final int payloadBytes;
    private final ServiceGrpc.GrpcAppends appends;
    private final String name;
    private final int batches;
    private final boolean ring;
    private final Duration measuredFor;
    private final int maxShards;
    private final int fillClients;
    private final CpuTime.Meter cpu;
    private int shards;
    private long[] taken = new long[0];
    private int current;
    private long takenThisLap;
    private BenchReport.CpuRow buildCpu;
    private long heldAfterBuild;

    private FilledShardAppends(ServiceGrpc grpc, int payloadBytes, String name, int batches, boolean ring,
            Duration measuredFor, int maxShards, int fillClients, CpuTime.Meter cpu) {
        this.service = grpc;
        this.payloadBytes = payloadBytes;
        this.appends = new ServiceGrpc.GrpcAppends(grpc, payloadBytes);
        this.name = name;
        this.batches = batches;
        this.ring = ring;
        this.measuredFor = measuredFor;
        this.maxShards = Math.max(1, maxShards);
        this.fillClients = Math.max(1, fillClients);
        this.cpu = cpu;
    }

    /** One shard of {@code batches} batches, built by one client; {@code cpu} is read around the build. */
    static FilledShardAppends large(ServiceGrpc grpc, int payloadBytes, int batches, CpuTime.Meter cpu) {
        return new FilledShardAppends(grpc, payloadBytes, "large shard", batches, false, Duration.ZERO, 1, 1, cpu);
    }

    /**
     * A ring of shards of {@code batches} batches each, enough for appends during {@code measuredFor} (at most
     * {@code maxShards}), the first built by one client (its rate sizes the ring), the others by
     * {@code fillClients} clients at once (each shard has its own writer).
     */
    static FilledShardAppends small(ServiceGrpc grpc, int payloadBytes, int batches, Duration measuredFor,
            int maxShards, int fillClients) {
        return new FilledShardAppends(grpc, payloadBytes, "small shards", batches, true, measuredFor, maxShards,
                fillClients, CpuTime.Meter.NONE);
    }

    @Override
    public void prepare(int count) throws Exception {
        if (count != 1) {
            throw new IllegalArgumentException("P9 appends to one shard at a time, not " + count);
        }
        if (!ring) {
            shards = 1;
            appends.prepare(shards);
            Map<String, Long> before = cpu.read();
            double perSecond = fill(appends, shards, 1);
            buildCpu = new BenchReport.CpuRow("P9", String.format("service gRPC, building the %d-batch shard"
                    + " (%.0f appends/s)", batches, perSecond), batches, CpuTime.Meter.between(before, cpu.read()));
        } else {
            // A first shard built alone: its rate, on a shard as small as the ones measured, sizes the ring.
            ServiceGrpc.GrpcAppends probe = new ServiceGrpc.GrpcAppends(service, payloadBytes);
            probe.prepare(1);
            double perSecond = fill(probe, 1, 1);
            double expectedAppends = perSecond * measuredFor.toNanos() / 1e9;
            shards = (int) Math.min(maxShards, Math.max(1, Math.ceil(1.5 * expectedAppends / Math.max(1, batches))));
            System.out.printf("  %s: %d shards of %d batches for about %.0f appends (%.0f appends/s on a shard of %d"
                    + " batches or fewer)%n", name, shards, batches, expectedAppends, perSecond, batches);
            appends.prepare(shards);
            fill(appends, shards, fillClients);
        }
        heldAfterBuild = heldBatches();
        taken = new long[shards];
        current = 0;
        takenThisLap = 0;
    }

    /**
     * The batches the (first) shard holds after its build, from {@code GetState}, which should be {@code batches}: a
     * check that nothing compacted or merged them. The whole state of a large shard is one large answer; should the
     * service refuse it, the run goes on with the number of appends (-1 where unread) and says so, rather than
     * losing the build.
     */
    private long heldBatches() {
        String shardId = appends.shardId(0);
        try {
            long held = service.getState(shardId, 0).getStats().getBatchCount();
            if (held != batches) {
                System.out.printf("  !!! P9's %s: shard %s holds %d batches after %d appends of one part each (did"
                        + " something compact or merge them?)%n", name, shardId, held, batches);
            }
            return held;
        } catch (io.grpc.StatusRuntimeException e) {
            System.out.printf("  !!! P9's %s: the batches of shard %s could not be counted (GetState: %s)%n", name,
                    shardId, e.getStatus());
            return -1;
        }
    }

    /**
     * Appends {@code batches} times to each of the first {@code count} shards of {@code target}, {@code clients}
     * clients at once (each with its own shards, one append after the other), printing progress every tenth; returns
     * the appends per second.
     */
    private double fill(ServiceGrpc.GrpcAppends target, int count, int clients) throws Exception {
        long total = (long) count * batches;
        if (total == 0) {
            return 0;
        }
        long step = Math.max(1, total / 10);
        AtomicLong done = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        long started = System.nanoTime();
        long[] stretchStarted = {started};
        List<Thread> threads = new ArrayList<>();
        for (int client = 0; client < Math.min(clients, count); client++) {
            int first = client;
            Thread thread = new Thread(() -> {
                try {
                    for (int shard = first; shard < count && failure.get() == null; shard += clients) {
                        for (int batch = 0; batch < batches; batch++) {
                            target.append(shard);
                            long now = done.incrementAndGet();
                            if (now % step == 0) {
                                progress(now, total, step, stretchStarted);
                            }
                        }
                    }
                } catch (Exception | AssertionError e) {
                    failure.compareAndSet(null, e);
                }
            }, "bench-fill-" + client);
            threads.add(thread);
            thread.start();
        }
        for (Thread thread : threads) {
            thread.join();
        }
        if (failure.get() != null) {
            throw new IllegalStateException("P9's " + name + ": building failed after " + done.get() + " of " + total
                    + " appends", failure.get());
        }
        return total / ((System.nanoTime() - started) / 1e9);
    }

    private synchronized void progress(long done, long total, long step, long[] stretchStarted) {
        long now = System.nanoTime();
        System.out.printf("  %s: %d of %d appends (%d %%), %.0f appends/s over the last %d%n", name, done, total,
                done * 100 / total, step / ((now - stretchStarted[0]) / 1e9), step);
        stretchStarted[0] = now;
    }

    @Override
    public void append(int shard) {
        if (ring && takenThisLap >= batches) {
            current = (current + 1) % shards;
            takenThisLap = 0;
        }
        appends.append(current);
        taken[current]++;
        takenThisLap++;
    }

    /** The batches the shards held when measured appends began, and how many they took. */
    String description() {
        long most = 0;
        for (long count : taken) {
            most = Math.max(most, count);
        }
        String held = heldAfterBuild == batches ? batches + " batches"
                : heldAfterBuild < 0 ? batches + " appends (its batches not counted: GetState failed)"
                : heldAfterBuild + " batches after " + batches + " appends (compacted or merged?)";
        long start = heldAfterBuild < 0 ? batches : heldAfterBuild;
        return ring
                ? String.format("%d shards of %s, each took up to %d appends, warm-up included (held at most %d)",
                        shards, held, most, start + most)
                : String.format("1 shard of %s, took %d appends, warm-up included (held %d at the end)", held, most,
                        start + most);
    }

    /** The CPU time of the large shard's build (null for the small shards). */
    BenchReport.CpuRow buildCpu() {
        return buildCpu;
    }
}
