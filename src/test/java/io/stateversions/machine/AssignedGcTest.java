package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.batch;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static io.stateversions.machine.ShardServiceTest.watchesOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardService;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.ForwardingConsensus;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A GC that maintenance runs for a commit that assigned it ({@link GarbageCollector#run}) decides from the machine's
 * cached state whether there is anything to collect: with fewer than two rollups at or below its seqno there is
 * not, and it reads nothing from Consensus. With two it reads, truncates and removes the older rollup, as before.
 */
class AssignedGcTest {

    private final PersistConfig cfg = StateVersionsScriptDriver.defaultConfig();
    private final AtomicInteger scans = new AtomicInteger();
    private final Consensus consensus = new ForwardingConsensus(new MemoryConsensus()) {
        @Override
        public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
            scans.incrementAndGet();
            return super.scan(key, from, limit);
        }
    };
    private final StateVersions sv = new StateVersions(cfg, consensus, new MemoryBlob(false),
            new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
            StateVersionsMetrics.NONE, System::currentTimeMillis, "h");
    private final RollupWriter rollups = new RollupWriter(sv);
    private final GarbageCollector gc = new GarbageCollector(sv, 4);
    /** Maintenance that never runs, so that this test decides when rollups are written and GC runs. */
    private final Machines machines = new Machines(sv, config(256), System::currentTimeMillis, "h",
            new Maintenance(rollups, gc, task -> {}));
    private final ShardService service = new ShardService(machines, rollups, gc, new LeakedBlobSweeper(sv, 4),
            consensus, config(256), MAINTENANCE_DEFAULTS, watchesOf(sv, consensus));
    private final ShardId shard = ShardId.random();
    private final WriterId writer = WriterId.random();

    private ShardMachine appended(int appends) {
        join(service.openShard(shard, CODECS));
        for (int i = 0; i < appends; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
        }
        return join(machines.get(shard));
    }

    @Test
    void anAssignedGcWithFewerThanTwoRollupsAtOrBelowItsSeqnoReadsNothing() {
        ShardMachine machine = appended(5);
        State cached = machine.cached();
        assertThat(cached.collections().rollups().headMap(cached.seqnoSince(), true)).hasSizeLessThan(2);
        int scansBefore = scans.get();

        GarbageCollector.Result result = join(gc.run(machine, cached.seqnoSince()));

        assertThat(result.didWork()).isFalse();
        assertThat(result.seqno()).isEqualTo(cached.seqno());
        assertThat(scans.get()).as("Consensus scans of a GC with nothing to collect").isEqualTo(scansBefore);
    }

    @Test
    void anAssignedGcWithTwoRollupsAtOrBelowItsSeqnoReadsTruncatesAndRemovesTheOlder() {
        ShardMachine machine = appended(3);
        join(rollups.write(machine));
        for (int i = 3; i < 6; i++) {
            join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
        }
        join(rollups.write(machine));
        State before = machine.cached();
        assertThat(before.collections().rollups().headMap(before.seqnoSince(), true)).hasSizeGreaterThanOrEqualTo(2);
        int scansBefore = scans.get();

        GarbageCollector.Result result = join(gc.run(machine, before.seqnoSince()));

        assertThat(scans.get()).isGreaterThan(scansBefore);
        assertThat(result.didWork()).isTrue();
        assertThat(result.truncated()).isNotEmpty();
        assertThat(machine.cached().collections().rollups()).hasSizeLessThan(
                before.collections().rollups().size());
    }

    @Test
    void maintenanceRunsNoTaskForAnAssignedGcWithNothingToCollectAndCountsItAsANoop() {
        PersistConfig noRollups = cfg.withRollupThreshold(Long.MAX_VALUE); // every task would be a GC
        Consensus quietConsensus = new MemoryConsensus();
        StateVersions quiet = new StateVersions(noRollups, quietConsensus, new MemoryBlob(false),
                new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE),
                StateVersionsMetrics.NONE, System::currentTimeMillis, "h");
        AtomicInteger tasks = new AtomicInteger();
        List<String> gcResults = new java.util.concurrent.CopyOnWriteArrayList<>();
        MachineMetrics metrics = new MachineMetrics() {
            @Override
            public void gc(String result, long nanos, long partsDeleted, long rollupsDeleted, int truncations) {
                gcResults.add(result);
            }
        };
        Maintenance maintenance = new Maintenance(new RollupWriter(quiet), new GarbageCollector(quiet, 4), task -> {
            tasks.incrementAndGet();
            task.run();
        }, metrics);
        Machines quietMachines = new Machines(quiet, config(256), System::currentTimeMillis, "h", maintenance);
        ShardService quietService = new ShardService(quietMachines, new RollupWriter(quiet),
                new GarbageCollector(quiet, 4), new LeakedBlobSweeper(quiet, 4), quietConsensus, config(256),
                MAINTENANCE_DEFAULTS, watchesOf(quiet, quietConsensus));

        join(quietService.openShard(shard, CODECS));
        for (int i = 0; i < 20; i++) {
            join(quietService.compareAndAppend(shard, writer, IdempotencyToken.random(), batch(i, i + 1, writer)));
        }

        assertThat(gcResults).as("GCs assigned by 20 appends (every log2(seqno) versions)").hasSizeGreaterThan(3)
                .containsOnly("noop");
        assertThat(tasks.get()).as("maintenance tasks").isZero();
    }
}
