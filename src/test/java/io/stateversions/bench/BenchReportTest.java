package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The CPU-per-operation table: microseconds per operation per process, blank where a process takes no part. */
class BenchReportTest {

    @Test
    void cpuTimeIsPrintedInMicrosecondsPerOperationWithATotal() {
        BenchReport report = new BenchReport(BenchSettings.defaults(), Instant.EPOCH, MachineFacts.collect());
        report.cpu(new BenchReport.CpuRow("P1", "service gRPC", 1000, Map.of(CpuTime.SERVICE, 2_000_000_000L,
                CpuTime.SERVICE_JIT, 300_000_000L, CpuTime.SERVICE_GC, 100_000_000L, CpuTime.POSTGRES, 500_000_000L,
                CpuTime.LOAD_GENERATOR, 250_000_000L)));
        report.cpu(new BenchReport.CpuRow("P1", "etcd", 4000, Map.of(CpuTime.ETCD, 49_360_000L,
                CpuTime.LOAD_GENERATOR, 40_000_000L)));

        String markdown = report.markdown();

        assertThat(markdown).contains("| | contender | operations | service | of which JIT | of which GC | PostgreSQL"
                + " | etcd | load generator | total |");
        // The service's JIT and GC are parts of its time: shown, not added to the total again.
        assertThat(markdown).contains("| P1 | service gRPC | 1000 | 2000 | 300 | 100 | 500 |  | 250 | 2750 |");
        assertThat(markdown).contains("| P1 | etcd | 4000 |  |  |  |  | 12.3 | 10.0 | 22.3 |");
        assertThat(report.text()).contains("CPU per operation");
    }

    @Test
    void aMeasurementWithoutCpuTimeAddsNoCpuRow() {
        BenchReport report = new BenchReport(BenchSettings.defaults(), Instant.EPOCH, MachineFacts.collect());

        report.cpu("P5", new Measurement("GetState", 10, 0, 1, Measurement.newHistogram(), Map.of()));

        assertThat(report.cpuRows()).isEmpty();
        assertThat(report.markdown()).doesNotContain("CPU per operation");
    }

    @Test
    void measurementsOfRoundsAddUpTheirCpuTimeByProcess() {
        Measurement first = new Measurement("service gRPC", 100, 0, 1, Measurement.newHistogram(),
                Map.of(CpuTime.SERVICE, 10L, CpuTime.LOAD_GENERATOR, 1L));
        Measurement second = new Measurement("service gRPC", 300, 0, 1, Measurement.newHistogram(),
                Map.of(CpuTime.SERVICE, 30L, CpuTime.LOAD_GENERATOR, 2L));

        Measurement both = first.plus(second);

        assertThat(both.operations()).isEqualTo(400);
        assertThat(both.cpuNanos()).containsOnly(Map.entry(CpuTime.SERVICE, 40L), Map.entry(CpuTime.LOAD_GENERATOR,
                3L));
    }

    @Test
    void anOpenLoopRowShowsTheRawBaselineAtTheSameRateAndATailsRowBothP99s() {
        Measurement service = openLoop("service gRPC", 2_000, 18_000);
        Measurement raw = openLoop("raw PostgreSQL", 400, 1_500);
        Measurement nothing = openLoop("do-nothing gRPC server, as P4", 200, 600);

        BenchReport.Row p4 = BenchReport.Row.latency("P4", "p99 append latency at 100/s", service, raw,
                service.p99Millis(), "p99 <= 5 ms", 5.0);
        BenchReport.Row floor = BenchReport.Row.tails("floor", "as P4", nothing, service);

        assertThat(p4.service()).startsWith("100/s, p50 2.00 ms, p99 18.0");
        assertThat(p4.rawPostgres()).startsWith("100/s, p50 0.40 ms, p99 1.50");
        assertThat(p4.result()).startsWith("18.0").endsWith(" ms");
        assertThat(p4.met()).isFalse();
        assertThat(floor.service()).startsWith("100/s, p50 0.20 ms, p99 0.60").contains(" vs 100/s, p50 2.00 ms");
        assertThat(floor.result()).matches("p99 0\\.60 vs 18\\.0[0-9] ms");
        assertThat(floor.met()).isNull();
    }

    /** 2,000 operations in 20 s: 98 % at {@code p50Micros}, 2 % at {@code tailMicros}. */
    private static Measurement openLoop(String target, long p50Micros, long tailMicros) {
        var latency = Measurement.newHistogram();
        latency.recordValueWithCount(p50Micros, 1_960);
        latency.recordValueWithCount(tailMicros, 40);
        return new Measurement(target, 2_000, 0, 20, latency, Map.of());
    }
}
