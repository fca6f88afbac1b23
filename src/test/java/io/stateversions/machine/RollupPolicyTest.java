package io.stateversions.machine;

import static io.stateversions.machine.ShardServiceTest.CODECS;
import static io.stateversions.machine.ShardServiceTest.MAINTENANCE_DEFAULTS;
import static io.stateversions.machine.ShardServiceTest.config;
import static io.stateversions.machine.ShardServiceTest.join;
import static io.stateversions.machine.ShardServiceTest.watchesOf;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.ShardService;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.StateVersionsScriptDriver;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ForkJoinPool;
import org.junit.jupiter.api.Test;

/**
 * The size-aware rollup policy in the service, with its defaults (a rollup at most every 128 versions, and once
 * the diffs since the latest reach a tenth of its size): a small shard rolls up every 128 versions as persist does;
 * a large one with small diffs waits until its diffs reach a tenth of its latest rollup. The machine knows the
 * diffs' sizes because it committed each of them.
 */
class RollupPolicyTest {

    /** The defaults, but no GC: its commits would make the version a rollup is written at depend on timing. */
    private final PersistConfig cfg = PersistConfig.defaults(StateVersionsScriptDriver.BUILD).toBuilder()
            .gcUseActiveGc(true).gcMinVersions(Long.MAX_VALUE).build();
    private final Consensus consensus = new MemoryConsensus();
    private final Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT,
            Retries.Listener.NONE);
    private final StateVersions sv = new StateVersions(cfg, consensus, new MemoryBlob(false), retries,
            StateVersionsMetrics.NONE, System::currentTimeMillis, "h");
    private final Maintenance maintenance = new Maintenance(new RollupWriter(sv), new GarbageCollector(sv, 4),
            ForkJoinPool.commonPool());
    private final ShardService service = new ShardService(
            new Machines(sv, config(256), System::currentTimeMillis, "h", maintenance), new RollupWriter(sv),
            new GarbageCollector(sv, 4), new LeakedBlobSweeper(sv, 4), consensus, config(256), MAINTENANCE_DEFAULTS,
            watchesOf(sv, consensus));
    private final ShardId shard = ShardId.random();
    private final WriterId writer = WriterId.random();
    private long upper;

    /** Appends one batch of one part with {@code statsBytes} of statistics; waits for its maintenance. */
    private State append(int statsBytes) {
        PartialBatchKey key = new PartialBatchKey(WriterKey.of(writer), PartId.random());
        BatchPart part = new BatchPart.Hollow(key, 100, Bytes.EMPTY, Optional.empty(), OptionalLong.empty(),
                OptionalLong.empty(), Bytes.wrap(new byte[statsBytes]));
        HollowBatch batch = HollowBatch.of(new Description(Frontier.of(upper), Frontier.of(upper + 1), Frontier.MIN),
                1, List.of(part));
        join(service.compareAndAppend(shard, writer, IdempotencyToken.random(), batch));
        upper++;
        join(maintenance.idle(shard));
        return join(service.getState(shard));
    }

    /** The seqnos the shard's latest rollup had while {@code appends} small batches were appended. */
    private List<SeqNo> latestRollupsDuring(int appends) {
        List<SeqNo> latest = new ArrayList<>();
        for (int i = 0; i < appends; i++) {
            SeqNo rollup = append(0).latestRollup().getKey();
            if (latest.isEmpty() || !latest.get(latest.size() - 1).equals(rollup)) {
                latest.add(rollup);
            }
        }
        return latest;
    }

    /** The encoded bytes of the live diffs {@code (after, through]}. */
    private long diffBytes(SeqNo after, SeqNo through) {
        return join(consensus.scan(shard.toString(), after.next(), through.value() - after.value())).stream()
                .mapToLong(d -> d.data().length).sum();
    }

    @Test
    void aSmallShardRollsUpEvery128VersionsAsPersistDoes() {
        join(service.openShard(shard, CODECS));

        // v1 is the initial rollup; each later one is assigned at 129 versions past the latest and written then.
        assertThat(latestRollupsDuring(300)).containsExactly(SeqNo.of(1), SeqNo.of(130), SeqNo.of(259));
    }

    @Test
    void aLargeShardWithSmallDiffsWaitsPast128VersionsUntilItsDiffsReachATenthOfItsRollup() {
        join(service.openShard(shard, CODECS));
        append(2_000_000); // v2: two megabytes of statistics in state
        SeqNo big = join(service.writeRollup(shard)).rollupKey().orElseThrow().seqno();
        long rollupBytes = join(service.getState(shard)).collections().rollups().get(big).encodedSizeBytes()
                .orElseThrow();
        assertThat(rollupBytes).isGreaterThan(2_000_000);

        List<SeqNo> latest = latestRollupsDuring(2_000);

        assertThat(latest).hasSizeGreaterThanOrEqualTo(2).startsWith(big);
        SeqNo next = latest.get(1);
        assertThat(next.value() - big.value()).as("versions from the large rollup to the next").isGreaterThan(500);
        // Assigned (and written) at the first version whose predecessors' diffs reached a tenth of the rollup.
        double budget = cfg.rollupDiffFraction() * rollupBytes;
        System.out.printf("a rollup of %d bytes at %s, the next at %s: %d diffs of %d bytes since%n", rollupBytes,
                big, next, next.value() - big.value() - 1, diffBytes(big, SeqNo.of(next.value() - 1)));
        assertThat((double) diffBytes(big, SeqNo.of(next.value() - 1))).isGreaterThanOrEqualTo(budget);
        assertThat((double) diffBytes(big, SeqNo.of(next.value() - 2))).isLessThan(budget);
    }
}
