package io.stateversions.core;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The state of one shard at one seqno (spec §3.1): immutable. The derived quantities of spec §3.6 are methods.
 *
 * @param walltimeMs the wall clock of the writer of this version; strictly increasing across versions
 * @param hostname   the host that wrote this version (for operators only)
 * @param codecs     fixed for the shard's lifetime; stored in rollups, never in diffs
 */
public record State(ShardId shardId, SeqNo seqno, long walltimeMs, String hostname, Codecs codecs,
        StateCollections collections) {

    public State {
        Objects.requireNonNull(shardId, "shardId");
        Objects.requireNonNull(seqno, "seqno");
        Objects.requireNonNull(hostname, "hostname");
        Objects.requireNonNull(codecs, "codecs");
        Objects.requireNonNull(collections, "collections");
    }

    /** The never-committed state at seqno 0 from which a shard's first version is computed. */
    public static State empty(ShardId shard, Codecs codecs, Version version, String hostname, long walltimeMs) {
        return new State(shard, SeqNo.MIN, walltimeMs, hostname, codecs, StateCollections.empty(version));
    }

    public Frontier since() {
        return collections.trace().since();
    }

    public Frontier upper() {
        return collections.trace().upper();
    }

    /**
     * {@code min(seqno, every leased reader's seqno hold)}; critical readers hold no seqno. O(log readers), from the
     * readers' index of holds: every commit asks (GC assignment).
     */
    public SeqNo seqnoSince() {
        return collections.leastSeqnoHold().filter(hold -> hold.isBefore(seqno)).orElse(seqno);
    }

    /** {@code seqno - seqnoSince}: how many versions readers keep alive. */
    public long seqnosHeld() {
        return seqno.value() - seqnoSince().value();
    }

    /** The rollup with the greatest seqno. Fails on an uninitialized state: an initialized one always has one. */
    public Map.Entry<SeqNo, HollowRollup> latestRollup() {
        Map.Entry<SeqNo, HollowRollup> latest = collections.rollups().lastEntry();
        if (latest == null) {
            throw new IllegalStateException("invariant violated: shard " + shardId + " at " + seqno
                    + " has no rollup (an initialized state always has at least one)");
        }
        return latest;
    }

    public boolean isTombstone() {
        return collections.isTombstone();
    }

    /** At most one batch, and every batch empty. */
    public boolean isSingleEmptyBatch() {
        List<HollowBatch> batches = collections.trace().batches();
        return batches.size() <= 1 && batches.stream().allMatch(HollowBatch::isEmpty);
    }

    /** Finalized as clients see it: a tombstone holding a single empty batch. */
    public boolean isFinalized() {
        return isTombstone() && isSingleEmptyBatch();
    }

    /** Every blob this state refers to: its batches, then its rollups. */
    public List<HollowBlobRef> blobs() {
        List<HollowBlobRef> blobs = new ArrayList<>();
        for (HollowBatch batch : collections.trace().batches()) {
            blobs.add(new HollowBlobRef.Batch(batch));
        }
        for (HollowRollup rollup : collections.rollups().values()) {
            blobs.add(new HollowBlobRef.Rollup(rollup));
        }
        return blobs;
    }

    /** The sizes of spec §3.6, for metrics and the API. */
    public ShardStats stats() {
        return ShardStats.of(this);
    }

    /** {@link #needRollup(PersistConfig, long, DiffSizes)} not knowing the sizes of the diffs. */
    public Optional<SeqNo> needRollup(PersistConfig cfg, long nowMs) {
        return needRollup(cfg, nowMs, DiffSizes.UNKNOWN);
    }

    /**
     * The seqno to write a rollup of, if this state needs one (spec §12.1, and the size-aware extension of §12.1).
     * {@code R} is the latest rollup's seqno, {@code d = seqno - R}, {@code T} the threshold, {@code f} the
     * {@linkplain PersistConfig#rollupDiffFraction diff fraction}, {@code B} the encoded diff bytes of the versions
     * after {@code R} up to this one's predecessor ({@code diffSizes}: as far as the caller knows them) and
     * {@code S} the encoded size of the rollup at {@code R}.
     * <ul>
     *   <li>A tombstone with more than one diff since {@code R} needs one final rollup (whatever the sizes).</li>
     *   <li>The rollup is <em>due by size</em> when {@code B >= f * S}, or when {@code B} or {@code S} is unknown
     *       (a machine that has not seen every diff since {@code R}, the initial rollup, a rollup older than its
     *       size field): then versions alone decide, as in persist, so that nothing rolls up later than it did.
     *       A rollup of {@code S} bytes is thus written once per {@code f * S} bytes of diffs at most: O(diff) per
     *       version amortized, where a fixed interval makes a large shard pay O(state / T) per version.</li>
     *   <li>Active-rollup mode: {@code d > T}, due by size, and no rollup is being written or the one being
     *       written started more than the fallback threshold ago (a lost rollup is rewritten).</li>
     *   <li>Classic mode: due by size and {@code d} a positive multiple of {@code T}; or {@code d > 3 * T} with
     *       {@code B >= 3 * f * S} (or unknown), so that a lost rollup is eventually rewritten.</li>
     * </ul>
     */
    public Optional<SeqNo> needRollup(PersistConfig cfg, long nowMs, DiffSizes diffSizes) {
        Map.Entry<SeqNo, HollowRollup> latest = latestRollup();
        long d = seqno.value() - latest.getKey().value();
        if (isTombstone() && latest.getKey().value() + 1 < seqno.value()) {
            return Optional.of(seqno);
        }
        long threshold = cfg.rollupThreshold();
        OptionalLong rollupBytes = latest.getValue().encodedSizeBytes();
        OptionalLong diffBytesSinceRollup = diffSizes.bytesAfter(latest.getKey());
        boolean sized = diffBytesSinceRollup.isPresent() && rollupBytes.isPresent();
        double budget = cfg.rollupDiffFraction() * (sized ? rollupBytes.getAsLong() : 0);
        long diffBytes = sized ? diffBytesSinceRollup.getAsLong() : 0;
        boolean dueBySize = !sized || diffBytes >= budget;
        if (cfg.rollupUseActiveRollup()) {
            if (d <= threshold || !dueBySize) {
                return Optional.empty();
            }
            Optional<ActiveMarker> active = collections.activeRollup();
            if (active.isEmpty() || nowMs - active.get().startMs() > cfg.rollupFallbackThresholdMs()) {
                return Optional.of(seqno);
            }
            return Optional.empty();
        }
        if ((dueBySize && d > 0 && d % threshold == 0) || (d > threshold * 3 && (!sized || diffBytes >= 3 * budget))) {
            return Optional.of(seqno);
        }
        return Optional.empty();
    }

    /**
     * The GC threshold of classic mode: {@code max(1, log2(nextPowerOfTwo(seqno)))}, which grows logarithmically
     * (seqno 100 gives 7).
     */
    static long classicGcThreshold(SeqNo seqno) {
        long v = seqno.value();
        long nextPowerOfTwo = v <= 1 ? 1 : Long.highestOneBit(v - 1) << 1;
        return Math.max(1, Long.numberOfTrailingZeros(nextPowerOfTwo));
    }

    @Override
    public String toString() {
        return "State{" + shardId + " " + seqno + ", walltime=" + walltimeMs + ", since=" + since() + ", upper="
                + upper() + ", " + collections + "}";
    }
}
