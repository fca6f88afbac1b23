package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.join;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * {@link LeakedBlobSweepTest} on in-memory storage, fresh for every test, with a blob clock the test can turn back
 * to plant blobs written long ago.
 */
class MemoryLeakedBlobSweepTest extends LeakedBlobSweepTest {

    /** Added to the real time by the blob's clock. */
    private final AtomicLong clockOffsetMs = new AtomicLong();
    private final Consensus consensus = new MemoryConsensus();
    private final Blob blob = new MemoryBlob(false, () -> System.currentTimeMillis() + clockOffsetMs.get());

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    private String plantWrittenAgo(String key, Duration age) {
        clockOffsetMs.set(-age.toMillis());
        try {
            return plant(key);
        } finally {
            clockOffsetMs.set(0);
        }
    }

    @Test
    void one_sweep_deletes_the_old_orphan_parts_and_keeps_the_young_ones_and_rollups_not_below_earliest() {
        Replica r = replica();
        ShardId shard = ShardId.random();
        join(r.service().openShard(shard, CODECS));
        String oldPart = plantWrittenAgo(leakedPart(shard), Duration.ofHours(3));
        String oldRollup = plantWrittenAgo(leakedRollup(shard, SeqNo.of(5)), Duration.ofHours(2));
        String youngPart = plantWrittenAgo(leakedPart(shard), Duration.ofMinutes(30));
        String youngRollup = plant(leakedRollup(shard, SeqNo.of(1)));

        LeakedBlobSweeper.Result result = r.sweep(shard, Duration.ofHours(1), System.currentTimeMillis());

        // The old rollup is at or above the earliest live version (v1): it may still be linked, so it is kept.
        assertThat(result.deletedKeys()).containsExactly(oldPart);
        assertThat(result.tooYoung()).isEqualTo(3);
        assertThat(result.referenced()).isEqualTo(1); // the initial rollup
        assertThat(result.listed()).isEqualTo(5);
        for (String kept : List.of(youngPart, youngRollup, oldRollup)) {
            assertThat(join(blob.get(kept))).as(kept).isPresent();
        }
        assertThat(join(blob.get(oldPart))).isEmpty();
        assertEveryLiveVersionIsWhole(r, shard);
    }
}
