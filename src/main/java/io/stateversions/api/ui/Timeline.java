package io.stateversions.api.ui;

import io.stateversions.api.ShardApi;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The version timeline of a shard's live log, drawn server-side as SVG: one bar per version of a window (what its diff
 * changed, coloured by kind, a link to the state at that version), the rollups above, every leased reader's seqno hold
 * below, and lines at the earliest live version (the GC truncation point), seqnoSince and the last GC request.
 * Markers whose seqno lies before the window sit at its left edge, flagged as such.
 *
 * @param first    the first seqno drawn
 * @param last     the last seqno drawn (the current version on the shard page)
 * @param earliest the earliest live version
 */
public record Timeline(long first, long last, long earliest, List<Bar> bars, List<RollupMark> rollups, List<HoldMark> holds,
        List<Line> lines, boolean truncatedWindow) {

    static final int WIDTH = 960;
    static final int HEIGHT = 130;
    private static final double LEFT = 14;
    private static final double RIGHT = 6;

    /**
     * One version.
     *
     * @param kind    {@code append}, {@code merge}, {@code rollup}, {@code gc}, {@code handles}, {@code since},
     *                {@code init} or {@code other}: what the diff mostly did
     * @param summary what each changed field did, e.g. {@code batches +1, writers ~1}
     */
    public record Bar(long seqno, double x, double y, double width, double height, String kind, String summary,
            String time, int changes) {}

    public record RollupMark(long seqno, double x, String key, String size, boolean beforeWindow) {
        /** The diamond's points. */
        public String points() {
            return Svg.points(x, 8, x + 6, 15, x, 22, x - 6, 15);
        }
    }

    /** A leased reader's seqno hold. */
    public record HoldMark(String readerId, String purpose, long seqno, double x, boolean beforeWindow, String lastHeartbeat,
            String lease, long expiresAtMs, String expiry) {
        /** The triangle's points, pointing up at the held version. */
        public String points() {
            return Svg.points(x, 94, x + 6, 106, x - 6, 106);
        }
    }

    /** A vertical line across the bars. */
    public record Line(String kind, long seqno, double x, String label) {}

    /** The timeline of {@code current}'s live versions in {@code diffs} (ascending, contiguous). */
    static Timeline of(State current, SeqNo earliest, List<ShardApi.DiffView> diffs, long nowMs) {
        long first = diffs.isEmpty() ? current.seqno().value() : diffs.get(0).seqnoTo().value();
        long last = diffs.isEmpty() ? current.seqno().value() : diffs.get(diffs.size() - 1).seqnoTo().value();
        long n = last - first + 1;
        double step = (WIDTH - LEFT - RIGHT) / (double) n;
        List<Bar> bars = new ArrayList<>(diffs.size());
        for (ShardApi.DiffView diff : diffs) {
            long seqno = diff.seqnoTo().value();
            String kind = kind(diff);
            double height = switch (kind) {
                case "append", "merge" -> 52;
                case "rollup", "gc" -> 40;
                default -> 28;
            };
            double x = LEFT + (seqno - first) * step;
            bars.add(new Bar(seqno, x + step * 0.1, 84 - height, Math.max(step * 0.8, 1), height, kind,
                    summary(diff), Format.time(diff.walltimeMs()), diff.changes().size()));
        }
        List<RollupMark> rollups = new ArrayList<>();
        for (Map.Entry<SeqNo, HollowRollup> r : current.collections().rollups().entrySet()) {
            long s = r.getKey().value();
            rollups.add(new RollupMark(s, x(s, first, step), r.getValue().key().toString(),
                    r.getValue().encodedSizeBytes().isPresent()
                            ? Format.bytes(r.getValue().encodedSizeBytes().getAsLong()) : "unknown",
                    s < first));
        }
        List<HoldMark> holds = new ArrayList<>();
        // Ordered by reader id, as the state keeps them.
        for (Map.Entry<LeasedReaderId, LeasedReaderState> e : new TreeMap<>(current.collections().leasedReaders())
                .entrySet()) {
            LeasedReaderState r = e.getValue();
            long s = r.seqno().value();
            long expiresAt = Format.expiresAtMs(r.lastHeartbeatTimestampMs(), r.leaseDurationMs());
            holds.add(new HoldMark(e.getKey().toString(), r.debug().purpose(), s, x(s, first, step), s < first,
                    Format.time(r.lastHeartbeatTimestampMs()), Format.duration(r.leaseDurationMs()), expiresAt,
                    Format.expiry(expiresAt, nowMs)));
        }
        List<Line> lines = new ArrayList<>();
        lines.add(new Line("earliest", earliest.value(), x(earliest.value(), first, step),
                "earliest " + earliest + ": GC truncated below it"));
        lines.add(new Line("seqno-since", current.seqnoSince().value(), x(current.seqnoSince().value(), first, step),
                "seqnoSince " + current.seqnoSince() + ": GC may truncate up to the last rollup at or below it"));
        SeqNo gcReq = current.collections().lastGcReq();
        if (gcReq.value() > 0) {
            lines.add(new Line("gc-req", gcReq.value(), x(gcReq.value(), first, step), "last GC request up to "
                    + gcReq));
        }
        return new Timeline(first, last, earliest.value(), bars, rollups, holds, lines, first > earliest.value());
    }

    /** The centre of {@code seqno}'s bar, or the left edge for a seqno before the window. */
    private static double x(long seqno, long first, double step) {
        return seqno < first ? LEFT / 2 : LEFT + (seqno - first) * step + step / 2;
    }

    /** What a diff mostly did, for its colour. */
    static String kind(ShardApi.DiffView diff) {
        boolean batchInsert = false;
        boolean batchDelete = false;
        boolean rollupInsert = false;
        boolean rollupDelete = false;
        boolean handles = false;
        boolean since = false;
        for (ShardApi.Change c : diff.changes()) {
            switch (c.field()) {
                case "batches" -> {
                    batchInsert |= c.op().equals("insert");
                    batchDelete |= c.op().equals("delete");
                }
                case "rollups" -> {
                    rollupInsert |= c.op().equals("insert");
                    rollupDelete |= c.op().equals("delete");
                }
                case "leasedReaders", "criticalReaders", "writers", "schemas" -> handles = true;
                case "since" -> since = true;
                default -> { }
            }
        }
        if (diff.seqnoFrom().value() == 0) {
            return "init";
        }
        if (batchInsert && batchDelete) {
            return "merge";
        }
        if (batchInsert) {
            return "append";
        }
        if (rollupDelete) {
            return "gc";
        }
        if (rollupInsert) {
            return "rollup";
        }
        return handles ? "handles" : since ? "since" : "other";
    }

    /** {@code batches +1 −1, writers ~1}: per field, inserts (+), updates (~) and deletes (−). */
    static String summary(ShardApi.DiffView diff) {
        Map<String, int[]> counts = new java.util.LinkedHashMap<>();
        for (ShardApi.Change c : diff.changes()) {
            int[] n = counts.computeIfAbsent(c.field(), f -> new int[3]);
            n[switch (c.op()) {
                case "insert" -> 0;
                case "update" -> 1;
                default -> 2;
            }]++;
        }
        if (counts.isEmpty()) {
            return "no change";
        }
        StringBuilder out = new StringBuilder();
        counts.forEach((field, n) -> {
            out.append(out.isEmpty() ? "" : ", ").append(field);
            String[] signs = {" +", " ~", " −"};
            for (int i = 0; i < 3; i++) {
                if (n[i] > 0) {
                    out.append(signs[i]).append(n[i]);
                }
            }
        });
        return out.toString();
    }
}
