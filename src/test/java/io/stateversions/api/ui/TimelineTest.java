package io.stateversions.api.ui;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.NullNode;
import io.stateversions.api.ShardApi;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the timeline says of a diff: its kind (the bar's colour) and its summary (the tooltip). */
class TimelineTest {

    private static ShardApi.DiffView diff(long to, String... fieldOps) {
        List<ShardApi.Change> changes = new java.util.ArrayList<>();
        for (String fieldOp : fieldOps) {
            String[] parts = fieldOp.split(":");
            changes.add(new ShardApi.Change(parts[0], parts[1], NullNode.getInstance(), NullNode.getInstance(),
                    NullNode.getInstance()));
        }
        return new ShardApi.DiffView(SeqNo.of(to - 1), SeqNo.of(to), 0, new PartialRollupKey(SeqNo.of(1),
                RollupId.random()), changes);
    }

    @Test
    void kinds() {
        assertThat(Timeline.kind(diff(5, "batches:insert", "writers:update"))).isEqualTo("append");
        assertThat(Timeline.kind(diff(5, "batches:insert", "batches:delete", "batches:delete"))).isEqualTo("merge");
        assertThat(Timeline.kind(diff(5, "rollups:insert"))).isEqualTo("rollup");
        assertThat(Timeline.kind(diff(5, "rollups:delete", "lastGcReq:update"))).isEqualTo("gc");
        assertThat(Timeline.kind(diff(5, "leasedReaders:insert"))).isEqualTo("handles");
        assertThat(Timeline.kind(diff(5, "since:update"))).isEqualTo("since");
        assertThat(Timeline.kind(diff(5, "hostname:update"))).isEqualTo("other");
        assertThat(Timeline.kind(diff(1, "rollups:insert"))).isEqualTo("init");
    }

    @Test
    void summaries() {
        assertThat(Timeline.summary(diff(5, "batches:insert", "batches:delete", "batches:delete", "writers:update")))
                .isEqualTo("batches +1 −2, writers ~1");
        assertThat(Timeline.summary(diff(5))).isEqualTo("no change");
    }
}
