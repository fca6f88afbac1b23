package io.stateversions.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.stateversions.core.ActiveMarker;
import io.stateversions.core.BatchPart;
import io.stateversions.core.CriticalReaderState;
import io.stateversions.core.DiffValue;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.FieldDiff;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.StateDiff;
import io.stateversions.core.WriterState;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A decoded {@link StateDiff} as the API shows it (api.md {@code /diffs}): one change per changed field or map
 * entry, {@code {"field", "op", "key", "old", "new"}}, with values in the same JSON shapes as the shard state.
 */
public final class DiffChanges {

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    private DiffChanges() {}

    public static ShardApi.DiffView view(StateDiff diff) {
        List<ShardApi.Change> changes = new ArrayList<>();
        values(changes, "hostname", diff.hostname(), JSON::textNode);
        values(changes, "lastGcReq", diff.lastGcReq(), DiffChanges::seqno);
        values(changes, "activeRollup", diff.activeRollup(), DiffChanges::marker);
        values(changes, "activeGc", diff.activeGc(), DiffChanges::marker);
        fields(changes, "rollups", diff.rollups(), DiffChanges::seqno, DiffChanges::rollup);
        fields(changes, "leasedReaders", diff.leasedReaders(), id -> JSON.textNode(id.toString()),
                DiffChanges::leasedReader);
        fields(changes, "criticalReaders", diff.criticalReaders(), id -> JSON.textNode(id.toString()),
                DiffChanges::criticalReader);
        fields(changes, "writers", diff.writers(), id -> JSON.textNode(id.toString()), DiffChanges::writer);
        fields(changes, "schemas", diff.schemas(), DiffChanges::schemaId, DiffChanges::schemas);
        values(changes, "since", diff.since(), DiffChanges::frontier);
        values(changes, "batches", diff.batches(), DiffChanges::batch);
        fields(changes, "releasedParts", diff.releasedParts(), key -> JSON.textNode(key.toString()),
                DiffChanges::seqno);
        return new ShardApi.DiffView(diff.seqnoFrom(), diff.seqnoTo(), diff.walltimeMs(), diff.latestRollupKey(),
                changes);
    }

    private static <V> void values(List<ShardApi.Change> out, String field, List<DiffValue<V>> diffs,
            Function<V, JsonNode> render) {
        for (DiffValue<V> d : diffs) {
            out.add(change(field, NullNode.getInstance(), d, render));
        }
    }

    private static <K, V> void fields(List<ShardApi.Change> out, String field, List<FieldDiff<K, V>> diffs,
            Function<K, JsonNode> key, Function<V, JsonNode> render) {
        for (FieldDiff<K, V> d : diffs) {
            out.add(change(field, key.apply(d.key()), d.value(), render));
        }
    }

    private static <V> ShardApi.Change change(String field, JsonNode key, DiffValue<V> d, Function<V, JsonNode> render) {
        if (d instanceof DiffValue.Insert<V> i) {
            return new ShardApi.Change(field, "insert", key, NullNode.getInstance(), render.apply(i.after()));
        }
        if (d instanceof DiffValue.Update<V> u) {
            return new ShardApi.Change(field, "update", key, render.apply(u.before()), render.apply(u.after()));
        }
        DiffValue.Delete<V> del = (DiffValue.Delete<V>) d;
        return new ShardApi.Change(field, "delete", key, render.apply(del.before()), NullNode.getInstance());
    }

    // ----------------------------------------------------------------------------- value shapes (api.md)

    public static JsonNode seqno(SeqNo seqno) {
        return JSON.numberNode(seqno.value());
    }

    public static JsonNode frontier(Frontier f) {
        ArrayNode array = JSON.arrayNode();
        if (!f.isEmpty()) {
            array.add(f.element());
        }
        return array;
    }

    private static JsonNode schemaId(SchemaId id) {
        return JSON.numberNode(id.value());
    }

    private static JsonNode marker(ActiveMarker m) {
        return JSON.objectNode().put("seqno", m.seqno().value()).put("startMs", m.startMs());
    }

    private static JsonNode rollup(HollowRollup r) {
        ObjectNode node = JSON.objectNode().put("key", r.key().toString());
        if (r.encodedSizeBytes().isPresent()) {
            node.put("encodedSizeBytes", r.encodedSizeBytes().getAsLong());
        } else {
            node.putNull("encodedSizeBytes");
        }
        return node;
    }

    private static JsonNode leasedReader(LeasedReaderState r) {
        ObjectNode node = JSON.objectNode().put("seqno", r.seqno().value());
        node.set("since", frontier(r.since()));
        return node.put("lastHeartbeatMs", r.lastHeartbeatTimestampMs()).put("leaseDurationMs", r.leaseDurationMs())
                .put("purpose", r.debug().purpose());
    }

    private static JsonNode criticalReader(CriticalReaderState r) {
        ObjectNode node = JSON.objectNode();
        node.set("since", frontier(r.since()));
        return node.put("opaque", r.opaque()).put("opaqueCodec", r.opaqueCodec()).put("purpose", r.debug().purpose());
    }

    private static JsonNode writer(WriterState w) {
        ObjectNode node = JSON.objectNode().put("lastHeartbeatMs", w.lastHeartbeatTimestampMs())
                .put("leaseDurationMs", w.leaseDurationMs())
                .put("mostRecentWriteToken", w.mostRecentWriteToken().toString());
        node.set("mostRecentWriteUpper", frontier(w.mostRecentWriteUpper()));
        return node.put("purpose", w.debug().purpose());
    }

    private static JsonNode schemas(EncodedSchemas s) {
        return JSON.objectNode().put("keySchema", s.key().toBase64())
                .put("valSchema", s.val().toBase64());
    }

    /** A batch: {@code {"lower", "upper", "since", "len", "parts", "runSplits"}}. */
    public static JsonNode batch(HollowBatch b) {
        ObjectNode node = JSON.objectNode();
        node.set("lower", frontier(b.desc().lower()));
        node.set("upper", frontier(b.desc().upper()));
        node.set("since", frontier(b.desc().since()));
        node.put("len", b.len());
        ArrayNode parts = node.putArray("parts");
        for (BatchPart part : b.parts()) {
            if (part instanceof BatchPart.Hollow h) {
                ObjectNode p = parts.addObject().put("key", h.key().toString())
                        .put("encodedSizeBytes", h.encodedSizeBytes());
                if (h.keyLower().size() > 0) {
                    p.put("keyLower", h.keyLower().toBase64());
                }
                if (h.stats().size() > 0) {
                    p.put("stats", h.stats().toBase64());
                }
            } else {
                parts.addObject().put("inline", ((BatchPart.Inline) part).updates().toBase64());
            }
        }
        ArrayNode splits = node.putArray("runSplits");
        b.runSplits().forEach(splits::add);
        return node;
    }
}
