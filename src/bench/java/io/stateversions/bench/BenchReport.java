package io.stateversions.bench;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** The results of one run: one row per workload and comparison, as a text table and as Markdown. */
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

        static Row latency(String workload, String what, Measurement service, double p99Millis, String goal,
                double atMostMillis) {
            return new Row(workload, what, String.format("%.0f/s, p50 %.2f ms, p99 %.2f ms, p99.9 %.2f ms",
                    service.perSecond(), service.p50Millis(), service.p99Millis(), service.p999Millis()), "", "",
                    String.format("%.2f ms", p99Millis), goal, p99Millis <= atMostMillis, service.operations());
        }

        static Row fetch(String workload, String what, Measurement large, Measurement small, double ratio,
                String goal, double atMost) {
            return new Row(workload, what, String.format("p50 %.3f ms vs %.3f ms (p99 %.3f vs %.3f)",
                    large.p50Millis(), small.p50Millis(), large.p99Millis(), small.p99Millis()), "", "",
                    String.format("%.2fx", ratio), goal, ratio <= atMost,
                    Math.min(large.operations(), small.operations()));
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

    private final BenchSettings settings;
    private final Instant startedAt;
    private final MachineFacts machine;
    private final List<Row> rows = new ArrayList<>();
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

    void note(String note) {
        notes.add(note);
    }

    public List<Row> rows() {
        return List.copyOf(rows);
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
                .append(" B.\n\n");
        out.append("| | what | service | raw PostgreSQL | etcd | result | goal | met |\n");
        out.append("|---|---|---|---|---|---|---|---|\n");
        for (Row row : rows) {
            out.append("| ").append(row.workload()).append(" | ").append(row.what()).append(" | ").append(row.service())
                    .append(" | ").append(row.rawPostgres()).append(" | ").append(row.etcd()).append(" | ")
                    .append(row.result()).append(" | ").append(row.goal()).append(" | ").append(row.metText())
                    .append(" |\n");
        }
        for (String note : notes) {
            out.append("\n").append(note).append('\n');
        }
        return out.toString();
    }
}
