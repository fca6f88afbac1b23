package io.stateversions.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The results of one run: one row per workload and comparison, and the CPU time per operation of every contender
 * measured, each as a text table and as Markdown.
 */
public final class BenchReport {

    /**
     * One line of the table.
     *
     * @param workload P1 … P6 or start
     * @param what what was measured
     * @param service the service's number
     * @param rawPostgres the raw PostgreSQL baseline's number, or "" where there is none
     * @param etcd the etcd baseline's number, "" where there is none, "skipped" without etcd
     * @param result the ratio (or value) the goal is about
     * @param goal the goal, or "(no goal)"
     * @param met whether the goal was met; null without a goal (or when it could not be measured)
     * @param operations operations the service completed for this row (the smoke test checks they are non-zero)
     */
    public record Row(String workload, String what, String service, String rawPostgres, String etcd, String result,
            String goal, Boolean met, long operations) {

        static Row ratio(String workload, String what, Measurement service, Measurement raw,
                Optional<Measurement> etcd, double ratio, String goal, Double atLeast) {
            return new Row(workload, what, throughput(service), throughput(raw),
                    etcd.map(Row::throughput).orElse("skipped"), String.format("%.2f", ratio), goal,
                    atLeast == null ? null : ratio >= atLeast, service.operations());
        }

        static Row skipped(String workload, String what, Measurement service, Measurement raw, String goal,
                String why) {
            return new Row(workload, what, throughput(service), throughput(raw), "skipped", "(" + why + ")", goal,
                    null, service.operations());
        }

        /** An open loop's tail against a goal, with the raw PostgreSQL baseline's at the same rate beside it. */
        static Row latency(String workload, String what, Measurement service, Measurement raw, double p99Millis,
                String goal, double atMostMillis) {
            return new Row(workload, what, latencies(service), latencies(raw), "",
                    String.format("%.2f ms", p99Millis), goal, p99Millis <= atMostMillis, service.operations());
        }

        /** Two open loops at one rate, side by side; the result is their p99s. */
        static Row tails(String workload, String what, Measurement first, Measurement second) {
            return new Row(workload, what, latencies(first) + " vs " + latencies(second), "", "",
                    String.format("p99 %.2f vs %.2f ms", first.p99Millis(), second.p99Millis()), "(latency floor)",
                    null, Math.min(first.operations(), second.operations()));
        }

        private static String latencies(Measurement measured) {
            return String.format("%.0f/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms", measured.perSecond(),
                    measured.p50Millis(), measured.p99Millis(), measured.p999Millis());
        }

        static Row fetch(String workload, String what, Measurement large, Measurement small, double ratio,
                String goal, double atMost) {
            return new Row(workload, what, String.format("p50 %.3f ms vs %.3f ms (p99 %.3f vs %.3f)",
                    large.p50Millis(), small.p50Millis(), large.p99Millis(), small.p99Millis()), "", "",
                    String.format("%.2fx", ratio), goal, ratio <= atMost,
                    Math.min(large.operations(), small.operations()));
        }

        /** Two measurements of the service side by side; {@code ratio} is the one the goal is about. */
        static Row versus(String workload, String what, Measurement first, Measurement second, double ratio,
                String goal, Double atLeast) {
            return new Row(workload, what, throughput(first) + " vs " + throughput(second), "", "",
                    String.format("%.2f", ratio), goal, atLeast == null ? null : ratio >= atLeast,
                    Math.min(first.operations(), second.operations()));
        }

        static Row value(String workload, String what, String value, String goal, Boolean met) {
            return new Row(workload, what, value, "", "", value, goal, met, 1);
        }

        /** This row with the operations behind it. */
        Row withOperations(long count) {
            return new Row(workload, what, service, rawPostgres, etcd, result, goal, met, count);
        }

        private static String throughput(Measurement measured) {
            return String.format("%.0f/s (p50 %.2f, p99 %.2f ms)%s", measured.perSecond(), measured.p50Millis(),
                    measured.p99Millis(), measured.errors() > 0 ? " [" + measured.errors() + " errors]" : "");
        }

        /** This row without an etcd column (a workload that has no etcd counterpart). */
        Row withoutEtcd() {
            return new Row(workload, what, service, rawPostgres, "", result, goal, met, operations);
        }

        String metText() {
            return met == null ? "-" : met ? "yes" : "**no**";
        }
    }

    /**
     * The CPU time one contender cost per operation, by process.
     *
     * @param workload P1 … P9, memory, floor, TLS
     * @param contender what was measured, e.g. "service gRPC" or "raw PostgreSQL"
     * @param operations operations completed while the CPU time was counted
     * @param cpuNanos CPU time of each process taking part, by {@link CpuTime} column; a process that takes no part
     *     has no entry
     */
    public record CpuRow(String workload, String contender, long operations, Map<String, Long> cpuNanos) {

        public CpuRow {
            cpuNanos = Map.copyOf(cpuNanos);
        }

        /** Microseconds of CPU per operation of {@code column}'s process; empty if it took no part. */
        public Optional<Double> microsPerOperation(String column) {
            Long nanos = cpuNanos.get(column);
            return nanos == null || operations == 0 ? Optional.empty() : Optional.of(nanos / 1000.0 / operations);
        }

        /** Microseconds of CPU per operation of all processes taking part (not adding parts twice). */
        public Optional<Double> totalMicrosPerOperation() {
            long nanos = cpuNanos.entrySet().stream().filter(e -> !CpuTime.PARTS.contains(e.getKey()))
                    .mapToLong(Map.Entry::getValue).sum();
            return cpuNanos.isEmpty() || operations == 0 ? Optional.empty()
                    : Optional.of(nanos / 1000.0 / operations);
        }

        private List<String> cells() {
            List<String> cells = new ArrayList<>(List.of(workload, contender, Long.toString(operations)));
            for (String column : CpuTime.COLUMNS) {
                cells.add(microsPerOperation(column).map(CpuRow::micros).orElse(""));
            }
            cells.add(totalMicrosPerOperation().map(CpuRow::micros).orElse(""));
            return cells;
        }

        private static String micros(double value) {
            return value >= 100 ? String.format("%.0f", value) : String.format("%.1f", value);
        }
    }

    private static final String CPU_TITLE = "CPU per operation (µs of CPU time, user + system, per operation"
            + " completed in the recorded window; blank: the process takes no part; of which JIT, of which GC: the"
            + " service's JIT compiler and garbage collector threads, parts of its time, not added to the total):";

    private final BenchSettings settings;
    private final Instant startedAt;
    private final MachineFacts machine;
    private final List<Row> rows = new ArrayList<>();
    private final List<CpuRow> cpuRows = new ArrayList<>();
    private final List<String> notes = new ArrayList<>();

    BenchReport(BenchSettings settings, Instant startedAt, MachineFacts machine) {
        this.settings = settings;
        this.startedAt = startedAt;
        this.machine = machine;
    }

    void add(Row row) {
        rows.add(row);
        System.out.printf("  => %s %s: %s (goal %s: %s)%n", row.workload(), row.what(), row.result(), row.goal(),
                row.metText());
    }

    /** The CPU time per operation of {@code measured} (nothing if its CPU time was not measured). */
    void cpu(String workload, Measurement measured) {
        if (!measured.cpuNanos().isEmpty()) {
            cpu(new CpuRow(workload, measured.target(), measured.operations(), measured.cpuNanos()));
        }
    }

    void cpu(CpuRow row) {
        cpuRows.add(row);
        System.out.printf("  => CPU per operation, %s %s: %s%n", row.workload(), row.contender(),
                String.join(", ", CpuTime.COLUMNS.stream().filter(row.cpuNanos()::containsKey).map(column -> column
                        + " " + row.microsPerOperation(column).map(CpuRow::micros).orElse("-") + " µs").toList()));
    }

    void note(String note) {
        notes.add(note);
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    public List<CpuRow> cpuRows() {
        return List.copyOf(cpuRows);
    }

    MachineFacts machine() {
        return machine;
    }

    /** The table for a terminal. */
    public String text() {
        StringBuilder out = new StringBuilder();
        out.append("Run of ").append(startedAt).append(" on ").append(machine.oneLine()).append('\n');
        out.append("Storage: ").append(machine.storageLine()).append('\n');
        String format = "%-6s | %-70s | %-38s | %-38s | %-38s | %-10s | %-38s | %s%n";
        out.append(String.format(format, "load", "what", "service", "raw PostgreSQL", "etcd", "result", "goal", "met"));
        for (Row row : rows) {
            out.append(String.format(format, row.workload(), row.what(), row.service(), row.rawPostgres(), row.etcd(),
                    row.result(), row.goal(), row.metText().replace("*", "")));
        }
        if (!cpuRows.isEmpty()) {
            out.append('\n').append(CPU_TITLE).append('\n');
            String cpuFormat = "%-6s | %-62s | %10s | %10s | %12s | %12s | %10s | %10s | %14s | %10s%n";
            List<String> header = new ArrayList<>(List.of("load", "contender", "operations"));
            header.addAll(CpuTime.COLUMNS);
            header.add("total");
            out.append(String.format(cpuFormat, header.toArray()));
            for (CpuRow row : cpuRows) {
                out.append(String.format(cpuFormat, row.cells().toArray()));
            }
        }
        for (String note : notes) {
            out.append("note: ").append(note).append('\n');
        }
        return out.toString();
    }

    /** The table for the README. */
    public String markdown() {
        StringBuilder out = new StringBuilder();
        out.append("Run of ").append(startedAt).append(" on ").append(machine.oneLine()).append(". Storage: ").append(machine.storageLine()).append(".\n");
        out.append("Settings: clients ").append(settings.clients()).append(", shards ").append(settings.shards())
                .append(", warm-up ").append(settings.warmup().toSeconds()).append(" s, measured ")
                .append(settings.duration().toSeconds()).append(" s each (P1, P2: in ").append(settings.rounds())
                .append(" interleaved rounds), payload ").append(settings.payloadBytes())
                .append(" B, P9 ").append(settings.p9Batches()).append(" vs ").append(settings.p9SmallBatches())
                .append(" batches, memory ").append(settings.memoryShards()).append(" shards")
                .append(settings.serviceJava().equals(BenchSettings.OWN_JAVA) ? ""
                        : ", the service on " + settings.serviceJava())
                .append(".\n\n");
        out.append("| | what | service | raw PostgreSQL | etcd | result | goal | met |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            out.append("| ").append(row.workload()).append(" | ").append(row.what()).append(" | ").append(row.service())
                    .append(" | ").append(row.rawPostgres()).append(" | ").append(row.etcd()).append(" | ")
                    .append(row.result()).append(" | ").append(row.goal()).append(" | ").append(row.metText())
                    .append(" |\n");
        }
        if (!cpuRows.isEmpty()) {
            out.append('\n').append(CPU_TITLE).append("\n\n");
            out.append("| | contender | operations | ").append(String.join(" | ", CpuTime.COLUMNS))
                    .append(" | total |\n");
            out.append("|---|---|---:|").append("---:|".repeat(CpuTime.COLUMNS.size())).append("---:|\n");
            for (CpuRow row : cpuRows) {
                out.append("| ").append(String.join(" | ", row.cells())).append(" |\n");
            }
        }
        for (String note : notes) {
            out.append("\n").append(note).append('\n');
        }
        return out.toString();
    }
}
