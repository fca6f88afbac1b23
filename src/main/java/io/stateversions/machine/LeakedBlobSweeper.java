package io.stateversions.machine;

import io.stateversions.core.BlobKey;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.BlobMetadata;
import io.stateversions.stateversions.BlobInventory;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsIter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.jboss.logging.Logger;

/**
 * Deletes a shard's leaked blobs (spec §11.4, last rule): batch parts and rollups that were written but that no
 * live state refers to, e.g. parts of a writer that crashed before appending them, a rollup whose
 * {@code add_rollup} never committed, or the output of a compaction whose merge was lost. GC never deletes these:
 * it deletes only what a truncated diff removed from state, and a leaked blob was never in state.
 *
 * <h2>What is deleted</h2>
 * In this order:
 * <ol>
 *   <li>List every blob under the shard's prefix (with its last-modified time).</li>
 *   <li>Read the current state linearizably ({@link ShardMachine#read}), then every live state
 *       ({@link StateVersions#fetchAllLiveStates}); <em>referenced</em> is the union of {@link State#blobs} over
 *       all of them, the current one included (computed from the first live state plus each diff's inserts, which
 *       is the same set: see {@link io.stateversions.stateversions.ReferencedBlobValidator}).</li>
 *   <li>Delete each listed key that parses as a blob key of this shard (in its canonical form), is not referenced,
 *       was last modified at or before {@code nowMs - grace}, and, if it is a rollup, is of a seqno below the
 *       earliest live version. A key that is not a blob key of this shard is never deleted, whatever it is; it is
 *       counted in {@link Result#unrecognized} and logged.</li>
 * </ol>
 *
 * <h2>Why this is safe (invariant 10 of {@link StateVersions}: no blob a live state refers to is deleted)</h2>
 * Blob keys are fresh when they are written (each holds a uuid: the service makes rollup keys, and a client that
 * links a part key again must write it again first, see {@link GarbageCollector}), and a blob becomes referenced
 * only by a command that links it: compare_and_append (parts), apply_merge_res (compaction output) and add_rollup
 * (rollups). Every other transition, GC included, only drops references. Take a key {@code k} that this sweep deletes:
 * <ul>
 *   <li>{@code k} existed when the listing finished, which was before the current state was read. If a
 *       transition linked {@code k} before that read, every state from there on refers to it until a later
 *       transition drops it; so either some live state fetched afterwards refers to it (and it is kept), or every
 *       state that referred to it has been truncated, which GC does only below every reader's seqno hold and after
 *       deleting what those states dropped: nobody can read {@code k} any more.</li>
 *   <li>Otherwise {@code k} is linked, if ever, after the read. It was written at or before
 *       {@code nowMs - grace}, so it would be linked more than {@code grace} after it was written. The sweep is
 *       safe as long as every writer links what it writes within {@code grace} (or never): a part uploaded by a
 *       writer that has not appended yet, a rollup written but not yet linked, a compaction output whose merge
 *       is not applied yet are all younger than that and are kept ({@link Result#tooYoung}).</li>
 * </ul>
 * Listing <em>first</em> is what makes the first case independent of clocks: a blob written and linked while
 * the sweep runs is linked before the read, so the read sees it, however the blob store's clock compares with
 * ours. Had the state been read first, such a blob would be listed but not referenced, and only its age would
 * save it. The grace is left to cover blobs written but still unlinked when the state is read; it must exceed
 * the longest time a writer takes from writing a blob to linking it, plus the skew between the blob store's
 * clock (which stamps last-modified times) and this process's ({@code nowMs}). Take {@code nowMs} at the start:
 * a smaller value is only more conservative.
 *
 * <p>Concurrent GC is harmless: GC deletes only blobs that diffs about to be truncated dropped, which no live state
 * keeps referring to; deleting a key twice is a no-op. A concurrent sweep, or a rollup writer deleting its unlinked
 * rollup, deletes the same keys at most. Like GC, a sweep can be killed at any point and run again.
 *
 * <p>Rollups below the earliest live version that a live state still names are kept: they are GC's, and GC deletes
 * them once the diff that removed them from state is truncated.
 *
 * <p>A rollup at or above the earliest live version is never deleted here, however old and unreferenced
 * (spec §11.4): {@link RollupWriter} writes the rollup of a version before {@code add_rollup} links it, and such a
 * rollup may yet become the one a reader or GC starts from. Below earliest a rollup is useless: linked late, it
 * would only be an entry below every live version, which GC removes; the grace still applies to it, so that even
 * that entry does not name a deleted blob unless its writer took longer than the grace. Batch parts have no seqno:
 * the grace alone protects a part written and not yet appended, which is why the API refuses a grace below
 * {@code stateversions.maintenance.leaked-blob-min-grace}.
 */
public final class LeakedBlobSweeper {

    private static final Logger LOG = Logger.getLogger(LeakedBlobSweeper.class);

    /** The most deleted keys a {@link Result} names. */
    public static final int MAX_REPORTED_KEYS = 100;

    /**
     * What one sweep did. Every listed key is counted in exactly one of {@code referenced}, {@code deleted},
     * {@code tooYoung} and {@code unrecognized}.
     *
     * @param seqno        the version the sweep read the shard at
     * @param listed       keys listed under the shard's prefix
     * @param referenced   listed keys that a live state refers to
     * @param deleted      listed keys deleted: unreferenced and at least the grace old
     * @param tooYoung     listed keys not referenced but kept because they may still be linked: younger than the
     *                     grace, or rollups at or above the earliest live version
     * @param unrecognized listed keys that are not blob keys of the shard, never deleted
     * @param deletedKeys  the first {@link #MAX_REPORTED_KEYS} deleted keys, in key order
     */
    public record Result(SeqNo seqno, long listed, long referenced, long deleted, long tooYoung, long unrecognized,
            List<String> deletedKeys) {}

    /** A sweep runs to its end: whoever started it does not cut its refetches short. */
    private static final java.util.concurrent.Future<Void> NO_CALLER = new CompletableFuture<>();

    private final StateVersions stateVersions;
    private final int deleteConcurrency;

    public LeakedBlobSweeper(StateVersions stateVersions, int deleteConcurrency) {
        if (deleteConcurrency < 1) {
            throw new IllegalArgumentException("deleteConcurrency must be >= 1, got " + deleteConcurrency);
        }
        this.stateVersions = stateVersions;
        this.deleteConcurrency = deleteConcurrency;
    }

    /**
     * Deletes {@code machine}'s shard's blobs that no live state refers to and that were last modified at or before
     * {@code nowMs - grace}.
     *
     * @param grace not negative; zero deletes every unreferenced blob not stamped after {@code nowMs}
     * @param nowMs the wall clock when the sweep starts, in milliseconds since the epoch
     */
    public CompletableFuture<Result> sweep(ShardMachine machine, Duration grace, long nowMs) {
        if (grace.isNegative()) {
            return CompletableFuture.failedFuture(new IllegalArgumentException("grace must not be negative: " + grace));
        }
        ShardId shard = machine.shard();
        long cutoffMs = cutoffMs(nowMs, grace);
        // The listing must finish before the state is read: see the class comment.
        return stateVersions.listBlobs(shard)
                .thenCompose(listed -> machine.readForMaintenance()
                        .thenCompose(current -> stateVersions.fetchAllLiveStates(shard,
                                        current.collections().rollups(), NO_CALLER)
                                .thenCompose(states -> stateVersions.offLoop(() -> plan(shard, listed, current,
                                        states.orElseThrow(() -> new IllegalStateException("invariant violated:"
                                                + " shard " + shard + " has no live states, yet its state was read"
                                                + " at " + current.seqno())), cutoffMs)))))
                .thenCompose(plan -> Bounded.forEach(plan.deletes, deleteConcurrency, key -> delete(shard, key)).thenApply(ignored -> {
                    Result result = plan.result();
                    if (result.deleted() > 0) {
                        LOG.infof("Leaked-blob sweep of shard %s at %s: deleted %d of %d listed blobs (%d referenced,"
                                + " %d younger than %s)", shard, result.seqno(), result.deleted(), result.listed(),
                                result.referenced(), result.tooYoung(), grace);
                    }
                    return result;
                }));
    }

    /** {@code nowMs - grace}, saturating: a grace reaching beyond the epoch keeps everything. */
    private static long cutoffMs(long nowMs, Duration grace) {
        try {
            return Math.subtractExact(nowMs, grace.toMillis());
        } catch (ArithmeticException e) {
            return Long.MIN_VALUE;
        }
    }

    private record Plan(SeqNo seqno, long listed, long referenced, long tooYoung, long unrecognized,
            List<BlobKey> deletes) {
        Result result() {
            List<String> keys = deletes.stream().limit(MAX_REPORTED_KEYS).map(BlobKey::toString).toList();
            return new Result(seqno, listed, referenced, deletes.size(), tooYoung, unrecognized, keys);
        }
    }

    private static Plan plan(ShardId shard, List<BlobMetadata> listed, State current, StateVersionsIter states,
            long cutoffMs) {
        SeqNo earliest = states.state().seqno();
        Set<String> referenced = BlobInventory.referencedKeys(shard, states);
        current.blobs().forEach(ref -> BlobInventory.addKeys(shard, ref, referenced));
        if (states.state().seqno().isBefore(current.seqno())) {
            throw new IllegalStateException("invariant violated: the live states of shard " + shard + " end at "
                    + states.state().seqno() + ", before the version " + current.seqno() + " read just before");
        }

        long referencedCount = 0;
        long tooYoung = 0;
        List<String> unrecognized = new ArrayList<>();
        List<BlobKey> deletes = new ArrayList<>();
        for (BlobMetadata blob : listed) {
            Optional<BlobKey> key = blobKeyOf(shard, blob.key());
            if (key.isEmpty()) {
                unrecognized.add(blob.key());
            } else if (referenced.contains(blob.key())) {
                referencedCount++;
            } else if (blob.lastModifiedMs() > cutoffMs
                    || key.get() instanceof BlobKey.Rollup r && !r.key().seqno().isBefore(earliest)) {
                tooYoung++;
            } else {
                deletes.add(key.get());
            }
        }
        if (!unrecognized.isEmpty()) {
            LOG.warnf("Leaked-blob sweep of shard %s: %d keys under its prefix are not blob keys of the shard and"
                    + " are left alone, e.g. %s", shard, unrecognized.size(),
                    unrecognized.subList(0, Math.min(10, unrecognized.size())));
        }
        deletes.sort(Comparator.comparing(BlobKey::toString));
        return new Plan(current.seqno(), listed.size(), referencedCount, tooYoung, unrecognized.size(), deletes);
    }

    /**
     * {@code key} parsed, if it is a blob key of {@code shard} in its canonical spelling: a key that parses but is
     * spelled otherwise (an upper-case uuid) is not the key state would name, so it is not ours to judge.
     */
    static Optional<BlobKey> blobKeyOf(ShardId shard, String key) {
        try {
            BlobKey parsed = BlobKey.parse(key);
            return parsed.shard().equals(shard) && parsed.toString().equals(key) ? Optional.of(parsed)
                    : Optional.empty();
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    private CompletableFuture<Void> delete(ShardId shard, BlobKey key) {
        return key instanceof BlobKey.BatchPart part ? stateVersions.deleteBatchPart(shard, part.key())
                : stateVersions.deleteRollup(shard, ((BlobKey.Rollup) key).key());
    }
}
