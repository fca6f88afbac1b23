package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading CPU time from /proc: the fields, a process, a process tree with reaped children, the postmaster check. */
class CpuTimeTest {

    private static final long SELF = ProcessHandle.current().pid();

    @Test
    void statFieldsAreCountedFromTheLastParenthesisSoThatAnyCommandNameParses() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime …
        String line = "4242 (post) gres: (bg) writer) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 30 7 3 20 0 1 0 77";

        CpuTime.Stat stat = CpuTime.Stat.parse(line);

        assertThat(stat).isEqualTo(new CpuTime.Stat(250, 30, 7, 3));
        assertThat(stat.selfTicks()).isEqualTo(280);
        assertThat(stat.totalTicks()).isEqualTo(290);
    }

    @Test
    void theCommandOfAStatLineIsAllBetweenTheFirstAndTheLastParenthesis() {
        assertThat(CpuTime.Stat.command("4243 (C2 CompilerThre) S 1 4242")).isEqualTo("C2 CompilerThre");
        assertThat(CpuTime.Stat.command("4242 (post) gres: (bg) writer) S 1")).isEqualTo("post) gres: (bg) writer");
        assertThatThrownBy(() -> CpuTime.Stat.command("no parenthesis")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void theJvmsCompilerAndCollectorThreadsAreKnownByTheirNames() {
        assertThat(List.of("C1 CompilerThre", "C2 CompilerThre")).allMatch(CpuTime::isJitThread);
        assertThat(List.of("GC Thread#0", "G1 Conc#0", "G1 Refine#0", "G1 Main Marker", "G1 Service", "ZWorker#1",
                "Shenandoah GC T")).allMatch(CpuTime::isGcThread);
        assertThat(List.of("vert.x-eventloo", "VM Thread", "main", "Sweeper thread")).noneMatch(CpuTime::isJitThread)
                .noneMatch(CpuTime::isGcThread);
    }

    @Test
    void threadsCountTheTimeOfTheThreadsOfTheirNameOnly() throws Exception {
        CpuTime.Source burner = CpuTime.threads(SELF, "bench-burner"::equals);
        CpuTime.Source others = CpuTime.threads(SELF, "no-such-thread"::equals);
        long before = burner.nanos();
        java.util.concurrent.atomic.AtomicLong atEnd = new java.util.concurrent.atomic.AtomicLong();

        // The thread reads its own time before it ends: once it has ended, its time is gone from /proc.
        Thread thread = new Thread(() -> {
            burnCpuOfThisThread(TimeUnit.MILLISECONDS.toNanos(300));
            try {
                atEnd.set(burner.nanos());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, "bench-burner");
        thread.start();
        thread.join();

        // /proc counts 10 ms ticks: 300 ms of the thread's CPU time show as nearly all of it.
        assertThat(atEnd.get() - before).isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(200));
        assertThat(others.nanos()).isZero();
    }

    @Test
    void aLineThatIsNotAStatLineIsRefusedWithTheLine() {
        assertThatThrownBy(() -> CpuTime.Stat.parse("4242 (short) S 1 2"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("4242 (short) S 1 2");
        assertThatThrownBy(() -> CpuTime.Stat.parse("no parenthesis")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aProcessCountsTheCpuTimeOfAllItsThreads() throws Exception {
        CpuTime.Source proc = CpuTime.process(SELF);
        long before = proc.nanos();

        burnCpuOfThisProcess(TimeUnit.MILLISECONDS.toNanos(200));

        // /proc counts 10 ms ticks; 200 ms of CPU time are many of them.
        assertThat(proc.nanos() - before).isPositive();
    }

    @Test
    void aProcessTreeCountsChildrenThatHaveExitedAndBeenReaped() throws Exception {
        CpuTime.Source self = CpuTime.process(SELF);
        CpuTime.Source tree = CpuTime.processTree(SELF);
        long treeBefore = tree.nanos();
        long selfBefore = self.nanos();

        // A child that only computes; waitFor reaps it, which moves its time into our cutime/cstime.
        Process child = new ProcessBuilder("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done").start();
        assertThat(child.waitFor(5, TimeUnit.MINUTES)).isTrue();
        assertThat(child.exitValue()).isZero();

        long treeSpent = tree.nanos() - treeBefore;
        long selfSpent = self.nanos() - selfBefore;
        assertThat(treeSpent).as("tree %d ns, this process alone %d ns", treeSpent, selfSpent)
                .isGreaterThan(selfSpent);
    }

    @Test
    void aChildReapedDuringTheWalkIsCountedOnceAndNoReadingGoesBack() throws Exception {
        // The root (1) has one child (2) with 50 ticks. The child exits and is reaped after the root's first read and
        // before the listing: a walk that trusted that first read would count neither the child nor its reaped time.
        Map<Long, CpuTime.Stat> proc = new java.util.HashMap<>(Map.of(
                1L, new CpuTime.Stat(100, 0, 0, 0),
                2L, new CpuTime.Stat(50, 0, 0, 0)));
        java.util.concurrent.atomic.AtomicInteger rootReads = new java.util.concurrent.atomic.AtomicInteger();
        CpuTime.StatReader stats = pid -> {
            if (pid == 1L) {
                rootReads.incrementAndGet();
            }
            CpuTime.Stat stat = proc.get(pid);
            if (stat == null) {
                throw new java.nio.file.NoSuchFileException("/proc/" + pid + "/stat");
            }
            return stat;
        };
        CpuTime.Descendants descendants = () -> {
            if (rootReads.get() == 1 && proc.containsKey(2L)) { // once, between the root's first read and the listing
                proc.remove(2L);
                proc.put(1L, new CpuTime.Stat(100, 0, 50, 0));
            }
            return proc.containsKey(2L) ? java.util.List.of(2L) : java.util.List.of();
        };
        CpuTime.Source tree = CpuTime.processTree(1L, stats, descendants);

        assertThat(tree.nanos()).isEqualTo(CpuTime.ticksToNanos(150));
    }

    @Test
    void aPidFileNamingAnotherProcessIsNotTakenForThePostmaster(@TempDir Path cluster) throws IOException {
        Files.writeString(cluster.resolve("postmaster.pid"), SELF + "\n" + cluster + "\n");

        assertThatThrownBy(() -> CpuTime.postmasterPid(cluster)).isInstanceOf(IOException.class)
                .hasMessageContaining("is not the postmaster of " + cluster);
    }

    @Test
    void aMeterReportsTheTimeSpentBetweenTwoReadingsByColumn() {
        long[] service = {1_000};
        long[] postgres = {50};
        CpuTime.Meter meter = new CpuTime.Meter(Map.of(CpuTime.SERVICE, () -> service[0]))
                .with(CpuTime.POSTGRES, () -> postgres[0]);

        Map<String, Long> before = meter.read();
        service[0] += 700;
        postgres[0] += 30;
        Map<String, Long> after = meter.read();

        Map<String, Long> expected = new LinkedHashMap<>();
        expected.put(CpuTime.SERVICE, 700L);
        expected.put(CpuTime.POSTGRES, 30L);
        assertThat(CpuTime.Meter.between(before, after)).containsExactlyEntriesOf(expected);
        assertThat(meter.without(CpuTime.SERVICE).read()).containsOnlyKeys(CpuTime.POSTGRES);
    }

    @Test
    void aWindowReadsAtItsStartAndItsEnd() throws Exception {
        long[] clock = {0};
        CpuTime.Meter meter = new CpuTime.Meter(Map.of(CpuTime.LOAD_GENERATOR, () -> clock[0]++));
        long now = System.nanoTime();

        // Both instants have passed: the window reads at once, twice, one tick apart.
        assertThat(meter.window(now - 2, now - 1).spent()).containsExactly(Map.entry(CpuTime.LOAD_GENERATOR, 1L));
        assertThat(CpuTime.Meter.NONE.window(now, now).spent()).isEmpty();
    }

    private static void burnCpuOfThisThread(long nanos) {
        burnCpu(java.lang.management.ManagementFactory.getThreadMXBean()::getCurrentThreadCpuTime, nanos);
    }

    private static void burnCpuOfThisProcess(long nanos) {
        CpuTime.Source jvm = CpuTime.thisProcess();
        burnCpu(() -> {
            try {
                return jvm.nanos();
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, nanos);
    }

    /** Computes until {@code cpuClock} has advanced by {@code nanos}. */
    private static void burnCpu(java.util.function.LongSupplier cpuClock, long nanos) {
        long until = cpuClock.getAsLong() + nanos;
        long sink = 0;
        while (cpuClock.getAsLong() < until) {
            for (int i = 0; i < 100_000; i++) {
                sink += i * 31L ^ sink;
            }
        }
        assertThat(sink).isNotEqualTo(42); // keeps the loop from being optimized away
    }
}
