package io.stateversions.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardApi.ShardPage;
import io.stateversions.api.ShardService;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.DeploymentIdentity;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
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

    /**
     * The deployment identity is the one key in Consensus that is not a shard id. It sorts after every shard id, so
     * shard listings neither show it nor end a page early or late because of it (a page that takes the last shard
     * has no next page); the sweep of quiet shards passes it by.
     */
    @Test
    void the_deployment_identity_key_is_neither_listed_nor_swept() {
        new DeploymentIdentity(consensus, blob, new DeploymentIdentity.Locations("mem:///", "mem:///"), true)
                .establish(Duration.ofSeconds(10));
        assertThat(DeploymentIdentity.CONSENSUS_KEY).isGreaterThan(new ShardId(new UUID(-1, -1)).toString());
        Maintained replica = maintainedReplica(consensus, "replica-a", PersistConfig.defaults(CFG.buildVersion()));
        ShardService service = replica.service();
        List<ShardId> shards = new ArrayList<>(List.of(ShardId.random(), ShardId.random(), ShardId.random()));
        for (ShardId shard : shards) {
            join(service.openShard(shard, CODECS));
        }
        shards.sort(null);

        for (int limit = 1; limit <= 4; limit++) {
            List<ShardId> listed = new ArrayList<>();
            List<Integer> pageSizes = new ArrayList<>();
            Optional<ShardId> after = Optional.empty();
            do {
                ShardPage page = join(service.listShards(after, limit));
                listed.addAll(page.shards());
                pageSizes.add(page.shards().size());
                after = page.next();
            } while (after.isPresent());
            assertThat(listed).as("limit %d", limit).isEqualTo(shards);
            assertThat(pageSizes).as("limit %d: no empty last page", limit).doesNotContain(0);
        }

        IdleSweeper.Result swept = join(replica.sweeper().sweepAll(0, 2));
        assertThat(swept.shards()).isEqualTo(3);
        assertThat(swept.failed()).isZero();
    }
}
