package io.stateversions.bench;

import java.util.LinkedHashMap;
import java.util.Map;
import org.HdrHistogram.Histogram;

/**
 * What one measurement recorded: operations completed (and failed) in the recording window, and their latencies.
 *
 * @param target what was measured, e.g. "service gRPC"
 * @param operations operations that succeeded while recording
 * @param errors operations that failed while recording (printed; a measurement with errors is suspect)
 * @param seconds length of the recording window
 * @param latency latencies of the successful operations, in microseconds
 * @param cpuNanos CPU time each process taking part spent in the recording window, by {@link CpuTime} column (empty
 *     where not measured)
 */
public record Measurement(String target, long operations, long errors, double seconds, Histogram latency,
        Map<String, Long> cpuNanos) {

    public Measurement {
        cpuNanos = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(cpuNanos));
    }

    /** Latencies are recorded in microseconds, from 1 µs to 10 minutes, at 3 significant digits. */
    public static Histogram newHistogram() {
        return new Histogram(1, 600_000_000L, 3);
    }

    /** This measurement and {@code other} (of the same target) together. */
    public Measurement plus(Measurement other) {
        Histogram sum = newHistogram();
        sum.add(latency);
        sum.add(other.latency);
        Map<String, Long> cpu = new LinkedHashMap<>(cpuNanos);
        other.cpuNanos.forEach((column, nanos) -> cpu.merge(column, nanos, Long::sum));
        return new Measurement(target, operations + other.operations, errors + other.errors, seconds + other.seconds,
                sum, cpu);
    }

    public double perSecond() {
        return seconds > 0 ? operations / seconds : 0;
    }

    public double p50Millis() {
        return percentileMillis(50);
    }

    public double p99Millis() {
        return percentileMillis(99);
    }

    public double p999Millis() {
        return percentileMillis(99.9);
    }

    private double percentileMillis(double percentile) {
        return latency.getTotalCount() == 0 ? 0 : latency.getValueAtPercentile(percentile) / 1000.0;
    }

    @Override
    public String toString() {
        return String.format("%-22s %10.0f ops/s  p50 %7.2f ms  p99 %7.2f ms  p99.9 %7.2f ms  (%d ops, %d errors, %.1f s)",
                target, perSecond(), p50Millis(), p99Millis(), p999Millis(), operations, errors, seconds);
    }
}
