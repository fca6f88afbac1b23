package io.stateversions.machine;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardApi.ShardPage;
import io.stateversions.api.ShardService;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.DeploymentIdentity;
import io.stateversions.testing.ScanRecordingConsensus;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
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

        IdleSweeper.Result result = join(replica.sweeper().sweepNext(60_000, 2, 1000));

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

        IdleSweeper.Result swept = join(replica.sweeper().sweepNext(0, 2, 1000));
        assertThat(swept.shards()).isEqualTo(3);
        assertThat(swept.failed()).isZero();
    }

    private static final long HOUR_MS = 3_600_000L;

    /**
     * A replica caching at most 5 machines sweeps 40 quiet shards: it maintains every one, through machines it does
     * not cache, and the machines it caches for the shards in use stay.
     */
    @Test
    void a_sweep_over_many_more_shards_than_the_cache_holds_maintains_each_and_leaves_the_cache_alone() {
        AtomicLong clock = new AtomicLong(System.currentTimeMillis());
        PersistConfig cfg = PersistConfig.defaults(CFG.buildVersion());
        Maintained setup = maintainedReplica(consensus, "replica-a", cfg, clock::get);
        List<ShardId> shards = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            ShardId shard = ShardId.random();
            join(setup.service().openShard(shard, CODECS));
            join(setup.service().registerWriter(shard, WriterId.random(), "w", OptionalLong.of(HOUR_MS)));
            shards.add(shard);
        }
        Maintained replica = maintainedReplica(consensus, "replica-b", cfg, clock::get,
                config(256).withCache(5, Duration.ofMinutes(10)));
        List<ShardMachine> inUse = new ArrayList<>();
        for (ShardId shard : shards.subList(0, 3)) {
            inUse.add(join(replica.machines().get(shard)));
        }
        clock.addAndGet(2 * HOUR_MS);

        IdleSweeper.Result result = join(replica.sweeper().sweepNext(60_000, 4, 1000));
        for (ShardId shard : shards) {
            join(replica.maintenance().idle(shard));
        }

        assertThat(result.shards()).isEqualTo(40);
        assertThat(result.idle()).isEqualTo(40);
        assertThat(result.handlesExpired()).isEqualTo(40);
        assertThat(result.failed()).isZero();
        assertThat(replica.machines().size()).isLessThanOrEqualTo(5);
        assertThat(inUse).noneMatch(ShardMachine::retired);
        ShardService fresh = replica(consensus, "replica-c");
        for (ShardId shard : shards) {
            assertThat(join(fresh.getState(shard)).collections().writers()).as("writers of %s", shard).isEmpty();
        }
    }

    /**
     * Each run visits at most its bound, from where the previous run stopped, wrapping around at the end, and never
     * a shard twice; busy shards cost a read of their head, and no machine.
     */
    @Test
    void each_sweep_visits_a_bounded_number_of_shards_from_where_the_last_stopped_and_in_turn_all_of_them() {
        ShardService setup = replica(consensus, "replica-a");
        Set<String> shards = new HashSet<>();
        for (int i = 0; i < 25; i++) {
            ShardId shard = ShardId.random();
            join(setup.openShard(shard, CODECS));
            shards.add(shard.toString());
        }
        ScanRecordingConsensus recorded = new ScanRecordingConsensus(consensus);
        Maintained replica = maintainedReplica(recorded, "replica-b", PersistConfig.defaults(CFG.buildVersion()));

        List<List<String>> runs = new ArrayList<>();
        for (int run = 0; run < 3; run++) {
            IdleSweeper.Result result = join(replica.sweeper().sweepNext(60_000, 4, 10));
            assertThat(result.shards()).isEqualTo(10);
            assertThat(result.idle()).as("all busy").isZero();
            List<String> scanned = recorded.takeScanned();
            assertThat(scanned).as("run %d", run).hasSize(10).doesNotHaveDuplicates();
            runs.add(scanned);
        }
        assertThat(runs.get(1)).doesNotContainAnyElementsOf(runs.get(0));
        Set<String> visited = new HashSet<>();
        runs.forEach(visited::addAll);
        assertThat(visited).isEqualTo(shards);
        List<String> again = new ArrayList<>(runs.get(2));
        again.retainAll(runs.get(0));
        assertThat(again).as("the third run wraps around to the first's shards").hasSize(5);
        assertThat(replica.machines().size()).isZero();
    }

    /** A finalized shard with nothing left to collect is read, counted and left alone, by any replica. */
    @Test
    void a_sweep_skips_a_finalized_shard_with_nothing_left_to_collect() {
        AtomicLong clock = new AtomicLong(System.currentTimeMillis());
        PersistConfig cfg = PersistConfig.defaults(CFG.buildVersion());
        Maintained replica = maintainedReplica(consensus, "replica-a", cfg, clock::get);
        ShardService service = replica.service();
        ShardId shard = ShardId.random();
        join(service.openShard(shard, CODECS));
        join(service.compareAndAppend(shard, WriterId.random(), IdempotencyToken.random(),
                HollowBatch.empty(new Description(Frontier.MIN, Frontier.EMPTY, Frontier.MIN))));
        LeasedReaderId reader = join(service.registerLeasedReader(shard, Optional.empty(), "r",
                OptionalLong.empty())).readerId();
        join(service.downgradeSince(shard, reader, Frontier.EMPTY));
        assertThat(join(service.finalizeShard(shard)).isFinalized()).isTrue();
        join(replica.maintenance().idle(shard));
        clock.addAndGet(2 * HOUR_MS);
        // Sweeps collect what is left (the final rollup, truncation), until there is nothing to do.
        IdleSweeper.Result result = null;
        for (int i = 0; i < 5 && (result == null || result.tombstones() == 0); i++) {
            result = join(replica.sweeper().sweepNext(60_000, 2, 1000));
            join(replica.maintenance().idle(shard));
        }
        assertThat(result.tombstones()).isEqualTo(1);
        SeqNo seqno = join(service.getState(shard)).seqno();

        clock.addAndGet(HOUR_MS);
        Maintained other = maintainedReplica(consensus, "replica-b", cfg, clock::get);
        for (Maintained sweeping : List.of(replica, other)) {
            IdleSweeper.Result skipped = join(sweeping.sweeper().sweepNext(60_000, 2, 1000));
            assertThat(skipped.shards()).isEqualTo(1);
            assertThat(skipped.tombstones()).isEqualTo(1);
            assertThat(skipped.handlesExpired() + skipped.rollupsWritten() + skipped.gcRuns() + skipped.failed())
                    .isZero();
        }
        assertThat(other.machines().size()).as("no machine loaded to skip it").isZero();
        assertThat(join(service.getState(shard)).seqno()).isEqualTo(seqno);
    }
}
