package io.stateversions.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardService;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** {@link ShardServiceTest} on in-memory storage, fresh for every test. */
class MemoryShardServiceTest extends ShardServiceTest {

    private final Consensus consensus = new MemoryConsensus();
    private final Blob blob = new MemoryBlob(false);

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    /** Here Consensus holds only this test's shards, so the whole sweep can be checked. */
    @Test
    void a_sweep_of_all_shards_visits_each_and_maintains_only_the_idle_ones() {
        AtomicLong clock = new AtomicLong(System.currentTimeMillis());
        Maintained replica = maintainedReplica(consensus, "replica-a", PersistConfig.defaults(CFG.buildVersion()),
                clock::get);
        ShardService service = replica.service();
        ShardId[] shards = {ShardId.random(), ShardId.random(), ShardId.random()};
        for (ShardId shard : shards) {
            join(service.openShard(shard, CODECS));
            join(service.registerWriter(shard, WriterId.random(), "w", OptionalLong.of(3_600_000)));
        }
        clock.addAndGet(2 * 3_600_000L);
        // A commit on the third shard: it is busy, and that commit itself expired its lapsed writer.
        WriterId busy = WriterId.random();
        join(service.registerWriter(shards[2], busy, "busy", OptionalLong.empty()));

        IdleSweeper.Result result = join(replica.sweeper().sweepAll(60_000, 2));

        assertThat(result.shards()).isEqualTo(3);
        assertThat(result.idle()).isEqualTo(2);
        assertThat(result.handlesExpired()).isEqualTo(2);
        assertThat(result.failed()).isZero();
        assertThat(join(service.getState(shards[2])).collections().writers()).containsOnlyKeys(busy);
    }
}
