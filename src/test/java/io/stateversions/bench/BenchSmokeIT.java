package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The benchmark harness with tiny sizes, so that it cannot rot: every workload runs against the packaged service,
 * the raw PostgreSQL baseline and (where the binary exists) etcd, and reports. Timings are never asserted: this
 * machine's numbers say nothing here, only that each workload did real work and was reported.
 */
class BenchSmokeIT {

    @Test
    void everyWorkloadRunsAndIsReported() throws Exception {
        boolean etcdInstalled = Processes.Etcd.find("etcd").isPresent();
        if (!etcdInstalled) {
            System.out.println("BenchSmokeIT: etcd is not installed here; the etcd baseline is SKIPPED in this smoke"
                    + " run (install Debian's etcd-server to exercise it)");
        }
        Path results = Path.of("target", "bench-smoke", "results.md");
        BenchSettings settings = BenchSettings.parse(List.of("clients=4", "shards=8", "service-warmup=2s",
                "service-warmup-max=3s", "warmup=200ms", "duration=1s",
                "history-small=5", "history-large=40", "fetch-duration=300ms", "p6-batches=50", "p9-batches=200",
                "memory-shards=300", "require-etcd=false", "work-dir=target/bench-smoke/work", "results=" + results));

        BenchReport report = Bench.run(settings);
        System.out.println(report.text());

        List<BenchReport.Row> rows = report.rows();
        Set<String> workloads = rows.stream().map(BenchReport.Row::workload).collect(Collectors.toSet());
        assertThat(workloads).containsExactlyInAnyOrder("P1", "P2", "P3", "P4", "P5", "P6", "P9", "start", "floor",
                "TLS", "memory");
        assertThat(rows).allSatisfy(row -> {
            assertThat(row.operations()).as("operations behind %s %s", row.workload(), row.what()).isPositive();
            assertThat(row.result()).as("result of %s %s", row.workload(), row.what()).isNotBlank();
        });
        List<BenchReport.Row> baselines = rows.stream().filter(row -> row.workload().equals("P1")
                || row.workload().equals("P2")).toList();
        assertThat(baselines).allSatisfy(row -> {
            assertThat(row.rawPostgres()).as("raw PostgreSQL in %s", row.what()).matches("[1-9][0-9]*/s .*");
            if (etcdInstalled) {
                assertThat(row.etcd()).as("etcd in %s", row.what()).matches("[1-9][0-9]*/s .*");
            } else {
                assertThat(row.etcd()).isEqualTo("skipped");
            }
        });
        // P4's open loop ran against the database alone and against the do-nothing server too, at its rate.
        assertThat(rows).filteredOn(row -> row.workload().equals("P4")).singleElement().satisfies(row -> assertThat(
                row.rawPostgres()).as("raw PostgreSQL at P4's rate").matches("[1-9][0-9]*/s, p50 .*"));
        assertThat(rows).filteredOn(row -> row.what().startsWith("gRPC transport floor, as P4")).singleElement()
                .satisfies(row -> assertThat(row.result()).matches("p99 [0-9.]+ vs [0-9.]+ ms"));
        assertThat(rows).filteredOn(row -> row.goal().contains("etcd")).singleElement()
                .satisfies(row -> assertThat(row.met() != null).isEqualTo(etcdInstalled));
        assertThat(rows).filteredOn(row -> row.workload().equals("memory")).singleElement()
                .satisfies(row -> assertThat(row.result()).as("memory: every shard read back holds its batch")
                        .endsWith(" 0 wrong"));

        // CPU per operation: every contender measured has a row and each process taking part has its cell. Every
        // process's clock counts 10 ms ticks (the JVM's getProcessCpuTime too, on Linux), and this smoke run's
        // windows are short (P6 builds 50 batches), so a cell may be 0: summed over the run, each process did work.
        List<BenchReport.CpuRow> cpu = report.cpuRows();
        assertThat(cpu.stream().map(BenchReport.CpuRow::workload).collect(Collectors.toSet()))
                .containsExactlyInAnyOrder("P1", "P2", "P3", "P4", "P5", "P6", "P9", "floor", "TLS", "memory");
        assertThat(cpu).allSatisfy(row -> {
            assertThat(row.operations()).as("operations behind the CPU of %s %s", row.workload(), row.contender())
                    .isPositive();
            assertThat(row.cpuNanos()).as("CPU of %s %s", row.workload(), row.contender())
                    .containsKey(CpuTime.LOAD_GENERATOR).allSatisfy((process, nanos) -> assertThat(nanos).isNotNegative());
        });
        assertThat(cpu).filteredOn(row -> row.contender().startsWith("service"))
                .allSatisfy(row -> assertThat(row.cpuNanos()).containsKeys(CpuTime.SERVICE, CpuTime.SERVICE_JIT,
                        CpuTime.SERVICE_GC, CpuTime.POSTGRES));
        // The service's compiler and collector threads are parts of its time (read just after it, in 10 ms ticks:
        // up to two ticks more in a window).
        assertThat(cpu).filteredOn(row -> row.cpuNanos().containsKey(CpuTime.SERVICE)).allSatisfy(row -> assertThat(
                row.cpuNanos().get(CpuTime.SERVICE_JIT) + row.cpuNanos().get(CpuTime.SERVICE_GC))
                .as("JIT + GC of the service in %s %s", row.workload(), row.contender())
                .isLessThanOrEqualTo(row.cpuNanos().get(CpuTime.SERVICE) + 20_000_000L));
        assertThat(cpu).filteredOn(row -> row.contender().startsWith("raw PostgreSQL")).isNotEmpty()
                .allSatisfy(row -> assertThat(row.cpuNanos()).containsOnlyKeys(CpuTime.POSTGRES,
                        CpuTime.LOAD_GENERATOR));
        assertThat(cpu).filteredOn(row -> row.contender().startsWith("do-nothing gRPC server")).hasSize(3)
                .allSatisfy(row -> assertThat(row.cpuNanos()).containsOnlyKeys(CpuTime.SERVICE,
                        CpuTime.SERVICE_JIT, CpuTime.SERVICE_GC, CpuTime.LOAD_GENERATOR));
        assertThat(cpu).filteredOn(row -> row.contender().equals("etcd"))
                .hasSize(etcdInstalled ? 2 : 0)
                .allSatisfy(row -> assertThat(row.cpuNanos()).containsOnlyKeys(CpuTime.ETCD, CpuTime.LOAD_GENERATOR));
        for (String process : List.of(CpuTime.SERVICE, CpuTime.POSTGRES, CpuTime.LOAD_GENERATOR)) {
            assertThat(cpu.stream().mapToLong(row -> row.cpuNanos().getOrDefault(process, 0L)).sum())
                    .as("CPU time of %s over the whole run", process).isPositive();
        }

        assertThat(Files.readString(results)).contains("| P1 |", "| P6 |", "| P9 |", "| start |", "| floor |",
                "| memory |", "CPU per operation",
                "| contender | operations | service | of which JIT | of which GC | PostgreSQL | etcd |");
        // P9's shards held exactly the batches their builds appended: nothing compacted or merged them.
        assertThat(Files.readString(results)).contains("P9: large: 1 shard of 200 batches,")
                .doesNotContain("compacted or merged?", "not counted");
        // The service was warmed up, at least the least time (2 s), and the note says how the warm-up ended.
        assertThat(Files.readString(results)).containsPattern("service warm-up: [2-9] s in [1-9][0-9]* rounds; its JIT"
                + " compilers were busy [0-9.]+ % of the last round");
    }
}
