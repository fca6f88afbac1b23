package io.stateversions.api.ui;

import io.stateversions.api.rest.Views;
import io.stateversions.core.ActiveMarker;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.core.WriterState;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One version of a shard's state as the inspector shows it (the shard page shows the current one, the time-travel
 * page an older one): the summary, counts and sizes, codecs, rollups, handles with their leases, and the trace.
 * Built from a {@link State} the API returned; nothing here reads storage.
 *
 * @param earliest the earliest live version ({@link io.stateversions.api.ShardApi#earliestSeqno}, as the API
 *                 reports it)
 * @param nowMs    when the page was rendered: the expiry countdowns start from it
 */
public record StateModel(String shardId, long seqno, long earliest, long seqnoSince, long seqnosHeld, long lastGcReq,
        String since, String upper, boolean tombstone, Views.CodecsView codecs, String walltime, String hostname,
        String applierVersion, Views.StatsView stats, String activeRollup, String activeGc, List<RollupRow> rollups,
        List<LeasedRow> leasedReaders, List<CriticalRow> criticalReaders, List<WriterRow> writers, TraceChart trace,
        long nowMs) {

    public record RollupRow(long seqno, String key, String size, boolean atEarliest) {}

    public record LeasedRow(String readerId, String purpose, long seqno, String since, String lastHeartbeat, String lease,
            long expiresAtMs, String expiry) {}

    public record CriticalRow(String readerId, String purpose, String since, long opaque, String opaqueCodec) {}

    public record WriterRow(String writerId, String purpose, String lastHeartbeat, String lease, long expiresAtMs,
            String expiry, String mostRecentWriteUpper, String mostRecentWriteToken) {}

    static StateModel of(State state, SeqNo earliest, long nowMs) {
        var c = state.collections();
        List<RollupRow> rollups = new ArrayList<>();
        for (Map.Entry<SeqNo, HollowRollup> r : c.rollups().entrySet()) {
            rollups.add(new RollupRow(r.getKey().value(), r.getValue().key().toString(),
                    r.getValue().encodedSizeBytes().isPresent()
                            ? Format.bytes(r.getValue().encodedSizeBytes().getAsLong()) : "unknown",
                    r.getKey().equals(earliest)));
        }
        List<LeasedRow> leased = new ArrayList<>();
        c.leasedReaders().forEach((id, r) -> leased.add(leased(id.toString(), r, nowMs)));
        List<CriticalRow> critical = new ArrayList<>();
        c.criticalReaders().forEach((id, r) -> critical.add(critical(id.toString(), r)));
        List<WriterRow> writers = new ArrayList<>();
        c.writers().forEach((id, w) -> writers.add(writer(id.toString(), w, nowMs)));
        return new StateModel(state.shardId().toString(), state.seqno().value(), earliest.value(),
                state.seqnoSince().value(), state.seqnosHeld(), c.lastGcReq().value(), Format.frontier(state.since()),
                Format.frontier(state.upper()), state.isTombstone(), Views.CodecsView.of(state.codecs()),
                Format.time(state.walltimeMs()), state.hostname(), c.version().toString(),
                Views.StatsView.of(state.stats()), marker(c.activeRollup()), marker(c.activeGc()), rollups, leased,
                critical, writers, TraceChart.of(c.trace().batches(), c.trace().mergeRequests()), nowMs);
    }

    private static String marker(Optional<ActiveMarker> marker) {
        return marker.map(m -> "at " + m.seqno() + " since " + Format.time(m.startMs())).orElse("none");
    }

    private static LeasedRow leased(String id, LeasedReaderState r, long nowMs) {
        long expiresAt = Format.expiresAtMs(r.lastHeartbeatTimestampMs(), r.leaseDurationMs());
        return new LeasedRow(id, r.debug().purpose(), r.seqno().value(), Format.frontier(r.since()),
                Format.time(r.lastHeartbeatTimestampMs()), Format.duration(r.leaseDurationMs()), expiresAt,
                Format.expiry(expiresAt, nowMs));
    }

    private static CriticalRow critical(String id, CriticalReaderState r) {
        return new CriticalRow(id, r.debug().purpose(), Format.frontier(r.since()), r.opaque(), r.opaqueCodec());
    }

    private static WriterRow writer(String id, WriterState w, long nowMs) {
        long expiresAt = Format.expiresAtMs(w.lastHeartbeatTimestampMs(), w.leaseDurationMs());
        return new WriterRow(id, w.debug().purpose(), Format.time(w.lastHeartbeatTimestampMs()),
                Format.duration(w.leaseDurationMs()), expiresAt, Format.expiry(expiresAt, nowMs),
                Format.frontier(w.mostRecentWriteUpper()), w.mostRecentWriteToken().toString());
    }
}
