package io.stateversions.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;

/**
 * CPU time (user + system) of the processes of a run, read from {@code /proc} (Linux), so that each contender's
 * cost is reported per operation and per process: the service (or the process answering in its place: the TLS
 * service, the do-nothing gRPC server), PostgreSQL, etcd and the load generator itself.
 *
 * <p>{@code /proc/<pid>/stat} counts in clock ticks ({@code getconf CLK_TCK}, 100 on Linux: 10 ms), so a window
 * must last seconds for its number to mean something; the benchmark's do. The JVM's own time comes from
 * {@code OperatingSystemMXBean.getProcessCpuTime()}, in nanoseconds but, on Linux, counted in the same ticks (a
 * benchmark smoke run's build of 50 batches measured 0).
 */
final class CpuTime {

    /** The process that answered the API: the service, the TLS service or the do-nothing gRPC server. */
    static final String SERVICE = "service";
    /** The postmaster and all its children (backends, WAL writer, checkpointer, …). */
    static final String POSTGRES = "PostgreSQL";
    static final String ETCD = "etcd";
    /** The harness's own JVM: clients, their gRPC/Vert.x threads, the histograms. */
    static final String LOAD_GENERATOR = "load generator";
    /**
     * Of the service's time, its JIT compilers' threads: a part of {@link #SERVICE}, reported beside it and not added
     * to the total. A service that compiles during a measured window pays for a warm-up there.
     */
    static final String SERVICE_JIT = "of which JIT";
    /** Of the service's time, its garbage collector's threads (as {@link #SERVICE_JIT}, a part of it). */
    static final String SERVICE_GC = "of which GC";
    /** The columns of the report, in this order. */
    static final List<String> COLUMNS = List.of(SERVICE, SERVICE_JIT, SERVICE_GC, POSTGRES, ETCD, LOAD_GENERATOR);
    /** The columns that are parts of another column, and so not added to a total. */
    static final java.util.Set<String> PARTS = java.util.Set.of(SERVICE_JIT, SERVICE_GC);

    private static final long TICKS_PER_SECOND = clockTicksPerSecond();
    /** The name prefixes of the collectors' threads (G1, Parallel, ZGC, Shenandoah): see {@link #isGcThread}. */
    private static final List<String> GC_THREAD_PREFIXES = List.of("GC Thread", "G1 ", "ZWorker", "ZDriver",
            "ZDirector", "ZStat", "ZUnmapper", "Shenandoah");

    private CpuTime() {}

    /** Where the CPU time of one process (or of a process tree) is read. */
    interface Source {
        /** CPU time consumed so far, in nanoseconds; it never decreases. */
        long nanos() throws IOException;
    }

    /** One process, all its threads (a JVM, etcd): {@code utime + stime} of {@code /proc/<pid>/stat}. */
    static Source process(long pid) {
        return () -> ticksToNanos(stat(pid).selfTicks());
    }

    /**
     * A process and its descendants: each live one's own time plus the time of its children that it has already
     * reaped ({@code cutime + cstime}). A PostgreSQL backend that exits moves from the live list into the
     * postmaster's reaped time, so connections that come and go are counted once.
     *
     * <p>A reap during the walk would lose a child: the root's reaped time read before the reap, the child's
     * {@code /proc} entry gone after it. Such a sample came out lower than an earlier one, and a window's delta
     * negative. So the root is read again after the walk, and the walk repeated while a reap happened in between.
     */
    static Source processTree(long pid) {
        return processTree(pid, CpuTime::stat, () -> {
            ProcessHandle root = ProcessHandle.of(pid).orElseThrow(() -> new IOException("process " + pid
                    + " is gone"));
            return root.descendants().map(ProcessHandle::pid).toList();
        });
    }

    /** Where {@link #processTree(long)} reads a process's stat line. */
    interface StatReader {
        Stat read(long pid) throws IOException;
    }

    /** Where {@link #processTree(long)} lists a process's descendants. */
    interface Descendants {
        List<Long> list() throws IOException;
    }

    /** {@link #processTree(long)}, reading {@code /proc} through the given functions (tests replay races). */
    static Source processTree(long pid, StatReader stats, Descendants descendants) {
        return () -> {
            for (int attempt = 1; ; attempt++) {
                Stat before = stats.read(pid);
                long ticks = before.totalTicks();
                for (long descendant : descendants.list()) {
                    try {
                        ticks += stats.read(descendant).totalTicks();
                    } catch (NoSuchFileException e) {
                        // exited and reaped since the listing: its time is in its parent's reaped time now
                    }
                }
                Stat after = stats.read(pid);
                if (after.reapedTicks() == before.reapedTicks()) {
                    return ticksToNanos(ticks);
                }
                if (attempt == 100) {
                    throw new IOException("process " + pid + " reaped children during each of " + attempt
                            + " walks of its process tree; its CPU time cannot be read consistently");
                }
            }
        };
    }

    /**
     * The threads of process {@code pid} whose names {@code name} accepts: the sum of their {@code utime + stime}
     * ({@code /proc/<pid>/task/<tid>/stat}). A thread that ends takes its time with it, so a sample may come out lower
     * than an earlier one; the JVM threads this reads (compilers, collectors) live as long as the JVM, but for the
     * compiler threads HotSpot adds and removes on demand beyond the first of each compiler.
     */
    static Source threads(long pid, java.util.function.Predicate<String> name) {
        Path tasks = Path.of("/proc", Long.toString(pid), "task");
        return () -> {
            long ticks = 0;
            try (var listing = Files.list(tasks)) {
                for (Path task : (Iterable<Path>) listing::iterator) {
                    String line;
                    try {
                        line = Files.readString(task.resolve("stat"));
                    } catch (NoSuchFileException e) {
                        continue; // ended since the listing
                    }
                    if (name.test(Stat.command(line))) {
                        ticks += Stat.parse(line).selfTicks();
                    }
                }
            }
            return ticksToNanos(ticks);
        };
    }

    /**
     * HotSpot's JIT compiler threads: "C1 CompilerThread0", "C2 CompilerThread0", … ({@code /proc} keeps the first 15
     * characters of a thread's name).
     */
    static boolean isJitThread(String name) {
        return name.startsWith("C1 CompilerThre") || name.startsWith("C2 CompilerThre");
    }

    /**
     * HotSpot's garbage collector threads, for the collectors the benchmark's {@code service-jvm-options} may pick:
     * the parallel workers of G1, Parallel and Serial ("GC Thread#0"), G1's concurrent markers, refiners and service
     * thread ("G1 Conc#0", "G1 Refine#0", "G1 Main Marker", "G1 Service"), ZGC's ("ZWorker", "ZDriver", …) and
     * Shenandoah's ("Shenandoah GC …", "Shenandoah Cont…"). Not the VM thread, which runs other safepoint operations
     * too.
     */
    static boolean isGcThread(String name) {
        return GC_THREAD_PREFIXES.stream().anyMatch(name::startsWith);
    }

    /** This JVM (the load generator). */
    static Source thisProcess() {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        return os::getProcessCpuTime;
    }

    /**
     * The postmaster of a PostgreSQL cluster directory: the first line of its {@code postmaster.pid}, checked to be a
     * live postgres process started on that directory (so that a stale file cannot point at another process).
     */
    static long postmasterPid(Path cluster) throws IOException {
        Path pidFile = cluster.resolve("postmaster.pid");
        List<String> lines = Files.readAllLines(pidFile);
        if (lines.isEmpty() || lines.get(0).isBlank()) {
            throw new IOException(pidFile + " names no process");
        }
        long pid = Long.parseLong(lines.get(0).trim());
        ProcessHandle postmaster = ProcessHandle.of(pid).filter(ProcessHandle::isAlive).orElseThrow(
                () -> new IOException("the postmaster " + pid + " named in " + pidFile + " is not running"));
        String commandLine = postmaster.info().commandLine().orElse("");
        if (!commandLine.contains("postgres") || !commandLine.contains(cluster.toString())) {
            throw new IOException("process " + pid + " named in " + pidFile + " is not the postmaster of " + cluster
                    + ": " + commandLine);
        }
        return pid;
    }

    /** The CPU fields of one {@code /proc/<pid>/stat} line, in clock ticks. */
    record Stat(long utime, long stime, long cutime, long cstime) {

        long selfTicks() {
            return utime + stime;
        }

        long totalTicks() {
            return utime + stime + cutime + cstime;
        }

        long reapedTicks() {
            return cutime + cstime;
        }

        /**
         * Parses a {@code /proc/<pid>/stat} line. The command name (field 2) is in parentheses and may itself hold
         * spaces and parentheses, so fields are counted from the last {@code ')'}: after it come field 3 (state) and
         * on; utime, stime, cutime and cstime are fields 14 to 17.
         */
        /** The command (a thread's: its name, cut to 15 characters) of a {@code /proc/<pid>/stat} line. */
        static String command(String line) {
            int start = line.indexOf('(');
            int end = line.lastIndexOf(')');
            if (start < 0 || end < start) {
                throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
            }
            return line.substring(start + 1, end);
        }

        static Stat parse(String line) {
            int end = line.lastIndexOf(')');
            if (end < 0) {
                throw new IllegalArgumentException("not a /proc/<pid>/stat line: " + line);
            }
            String[] fields = line.substring(end + 1).trim().split("\\s+");
            if (fields.length < 15) {
                throw new IllegalArgumentException("a /proc/<pid>/stat line with " + fields.length
                        + " fields after the command name (expected at least 15): " + line);
            }
            return new Stat(Long.parseLong(fields[11]), Long.parseLong(fields[12]), Long.parseLong(fields[13]),
                    Long.parseLong(fields[14]));
        }
    }

    static Stat stat(long pid) throws IOException {
        return Stat.parse(Files.readString(Path.of("/proc", Long.toString(pid), "stat")));
    }

    static long ticksToNanos(long ticks) {
        return ticks * TimeUnit.SECONDS.toNanos(1) / TICKS_PER_SECOND;
    }

    private static long clockTicksPerSecond() {
        try {
            Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String output = new String(getconf.getInputStream().readAllBytes()).trim();
            if (getconf.waitFor(30, TimeUnit.SECONDS) && getconf.exitValue() == 0) {
                return Long.parseLong(output);
            }
        } catch (IOException | NumberFormatException e) {
            // below
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100; // USER_HZ on every Linux architecture the JDK runs on
    }

    /** The processes one contender keeps busy, by report column. */
    record Meter(Map<String, Source> sources) {

        static final Meter NONE = new Meter(Map.of());

        Meter {
            sources = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(sources));
        }

        /** This meter with {@code source} in {@code column} (replacing what was there). */
        Meter with(String column, Source source) {
            Map<String, Source> more = new LinkedHashMap<>(sources);
            more.put(column, source);
            return new Meter(more);
        }

        /**
         * This meter with the JVM of process {@code pid} as the service: its whole time ({@link #SERVICE}) and its JIT
         * compilers' and garbage collector's parts ({@link #SERVICE_JIT}, {@link #SERVICE_GC}).
         */
        Meter withServiceJvm(long pid) {
            return with(SERVICE, process(pid)).with(SERVICE_JIT, threads(pid, CpuTime::isJitThread))
                    .with(SERVICE_GC, threads(pid, CpuTime::isGcThread));
        }

        /** This meter without {@code column}. */
        Meter without(String column) {
            Map<String, Source> fewer = new LinkedHashMap<>(sources);
            fewer.remove(column);
            return new Meter(fewer);
        }

        /** CPU time of every source so far, nanoseconds by column. */
        Map<String, Long> read() {
            Map<String, Long> nanos = new LinkedHashMap<>();
            for (Map.Entry<String, Source> source : sources.entrySet()) {
                try {
                    nanos.put(source.getKey(), source.getValue().nanos());
                } catch (IOException e) {
                    throw new UncheckedIOException("reading the CPU time of " + source.getKey(), e);
                }
            }
            return nanos;
        }

        /** The CPU time spent between two readings, by column. */
        static Map<String, Long> between(Map<String, Long> before, Map<String, Long> after) {
            Map<String, Long> spent = new LinkedHashMap<>();
            after.forEach((column, nanos) -> spent.put(column, nanos - before.getOrDefault(column, nanos)));
            return spent;
        }

        /**
         * Reads this meter at {@code fromNanos} and at {@code toNanos} ({@link System#nanoTime()} instants) on a
         * thread of its own, so that the readings do not delay the load.
         */
        Window window(long fromNanos, long toNanos) {
            return new Window(this, fromNanos, toNanos);
        }
    }

    /** A recording window's CPU time, read on a thread of its own; {@link #spent} waits for its end. */
    static final class Window {

        private final Thread reader;
        private final AtomicReference<Map<String, Long>> spent = new AtomicReference<>(Map.of());
        private final AtomicReference<RuntimeException> failure = new AtomicReference<>();

        private Window(Meter meter, long fromNanos, long toNanos) {
            reader = new Thread(() -> {
                try {
                    parkUntil(fromNanos);
                    Map<String, Long> before = meter.read();
                    parkUntil(toNanos);
                    spent.set(Meter.between(before, meter.read()));
                } catch (RuntimeException e) {
                    failure.set(e);
                }
            }, "bench-cpu-window");
            reader.setDaemon(true);
            if (!meter.sources().isEmpty()) {
                reader.start();
            }
        }

        /** The CPU time spent in the window by column (empty for {@link Meter#NONE}). */
        Map<String, Long> spent() throws InterruptedException {
            if (reader.getState() != Thread.State.NEW) {
                reader.join();
            }
            if (failure.get() != null) {
                throw failure.get();
            }
            return spent.get();
        }

        private static void parkUntil(long deadlineNanos) {
            long wait;
            while ((wait = deadlineNanos - System.nanoTime()) > 0) {
                LockSupport.parkNanos(wait);
            }
        }
    }
}
