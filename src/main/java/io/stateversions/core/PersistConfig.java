package io.stateversions.core;

import java.util.Objects;

/**
 * The knobs of the state machine (spec §19), as plain values: the core takes no configuration framework.
 *
 * @param buildVersion                  the version of this code, recorded in every diff and rollup it writes
 * @param readableMinorVersionsAhead    how many minor versions (same major) newer than this build a shard may have
 *                                      been written by and still be read (spec §6.6: classic persist allows 1)
 * @param rollupThreshold               seqnos between rollups: the least a shard goes from one rollup to the next
 * @param rollupDiffFraction            besides, the encoded diffs since the latest rollup must reach this fraction of
 *                                      its encoded size before the next is assigned (0: versions alone decide);
 *                                      see {@link State#needRollup}
 * @param rollupUseActiveRollup         whether one handle at a time is assigned a rollup (active-rollup mode)
 * @param rollupFallbackThresholdMs     after this long an active rollup is presumed dead and reassigned
 * @param gcUseActiveGc                 whether one handle at a time is assigned GC (active-GC mode)
 * @param gcMinVersions                 the GC threshold in active-GC mode
 * @param gcMaxVersions                 the most seqnos one GC request covers
 * @param gcFallbackThresholdMs         after this long an active GC is presumed dead and reassigned
 * @param readerLeaseDurationMs         the lease of a leased reader unless it asks for another
 * @param writerLeaseDurationMs         the lease of a writer unless it asks for another
 * @param writerLeaseMinMs              the shortest writer lease a client may ask for: a writer's idempotency token
 *                                      lives only as long as its lease, so the lease must outlive every retry of an
 *                                      append (the API raises it to 3 request timeouts if it is lower)
 * @param recentLiveDiffsLimit          the fast-path scan limit of {@code fetchRecentLiveDiffs}
 * @param inlineWritesTotalMaxBytes     inline bytes in state at which appends with inline parts are pushed back
 * @param maxHandles                    the most handles (leased readers, critical readers and writers together) a
 *                                      shard holds: a command that would add one beyond it changes nothing (not in
 *                                      persist, whose handles live in the processes that open them)
 * @param validateTransitions           check every transition's diff by applying it and by an encode/decode
 *                                      round trip (persist does this in debug builds; the tests turn it on)
 * @param staleRollupRefetchBudgetMs    how long a fetch of state keeps refetching when a rollup its diffs name is
 *                                      missing from Blob before it gives up (persist refetches forever)
 */
public record PersistConfig(
        Version buildVersion,
        int readableMinorVersionsAhead,
        long rollupThreshold,
        double rollupDiffFraction,
        boolean rollupUseActiveRollup,
        long rollupFallbackThresholdMs,
        boolean gcUseActiveGc,
        long gcMinVersions,
        long gcMaxVersions,
        long gcFallbackThresholdMs,
        long readerLeaseDurationMs,
        long writerLeaseDurationMs,
        long writerLeaseMinMs,
        int recentLiveDiffsLimit,
        long inlineWritesTotalMaxBytes,
        int maxHandles,
        boolean validateTransitions,
        long staleRollupRefetchBudgetMs) {

    public PersistConfig {
        Objects.requireNonNull(buildVersion, "buildVersion");
        positive("rollupThreshold", rollupThreshold);
        if (!(rollupDiffFraction >= 0) || Double.isInfinite(rollupDiffFraction)) {
            throw new IllegalArgumentException("rollupDiffFraction must be a finite number >= 0, got "
                    + rollupDiffFraction);
        }
        positive("gcMinVersions", gcMinVersions);
        positive("gcMaxVersions", gcMaxVersions);
        positive("readerLeaseDurationMs", readerLeaseDurationMs);
        positive("writerLeaseDurationMs", writerLeaseDurationMs);
        positive("writerLeaseMinMs", writerLeaseMinMs);
        if (writerLeaseDurationMs < writerLeaseMinMs) {
            throw new IllegalArgumentException("the default writer lease (" + writerLeaseDurationMs + " ms) is below the"
                    + " minimum writer lease (" + writerLeaseMinMs + " ms)");
        }
        positive("recentLiveDiffsLimit", recentLiveDiffsLimit);
        positive("inlineWritesTotalMaxBytes", inlineWritesTotalMaxBytes);
        positive("maxHandles", maxHandles);
        positive("staleRollupRefetchBudgetMs", staleRollupRefetchBudgetMs);
        if (readableMinorVersionsAhead < 0 || rollupFallbackThresholdMs < 0 || gcFallbackThresholdMs < 0) {
            throw new IllegalArgumentException("readableMinorVersionsAhead and fallback thresholds must be >= 0");
        }
    }

    /**
     * The default {@link #rollupDiffFraction}: a shard whose state is under about 1,280 diffs' worth of bytes (its
     * diffs since a rollup reach a tenth of it within the 128 versions of the threshold) rolls up every 128 versions
     * as persist does; a larger one pays about ten times its diff bytes per version in rollups, and a read replays
     * at most a tenth of its state's bytes in diffs.
     */
    public static final double DEFAULT_ROLLUP_DIFF_FRACTION = 0.1;

    /** Persist's defaults (spec §19), and the size-aware rollups of this service, for code at {@code buildVersion}. */
    public static PersistConfig defaults(Version buildVersion) {
        return new PersistConfig(buildVersion, 1, 128, DEFAULT_ROLLUP_DIFF_FRACTION, true, 5_000, false, 32, 128_000,
                900_000,
                15 * 60_000L, 60 * 60_000L, 60_000L, 30 * 128, 1024 * 1024, DEFAULT_MAX_HANDLES, false, 5_000);
    }

    /**
     * The default {@link #maxHandles}: far above what a shard's readers and writers need (persist's shards have
     * dozens), low enough that a client leaking registrations cannot grow a shard's state, its rollups and every
     * replica's copy of it without bound.
     */
    public static final int DEFAULT_MAX_HANDLES = 10_000;

    public PersistConfig withMaxHandles(int value) {
        return toBuilder().maxHandles(value).build();
    }

    public PersistConfig withRollupThreshold(long value) {
        return toBuilder().rollupThreshold(value).build();
    }

    public PersistConfig withRollupDiffFraction(double value) {
        return toBuilder().rollupDiffFraction(value).build();
    }

    public PersistConfig withRollupUseActiveRollup(boolean value) {
        return toBuilder().rollupUseActiveRollup(value).build();
    }

    public PersistConfig withGcUseActiveGc(boolean value) {
        return toBuilder().gcUseActiveGc(value).build();
    }

    public PersistConfig withGcMaxVersions(long value) {
        return toBuilder().gcMaxVersions(value).build();
    }

    public PersistConfig withRecentLiveDiffsLimit(int value) {
        return toBuilder().recentLiveDiffsLimit(value).build();
    }

    public PersistConfig withValidateTransitions(boolean value) {
        return toBuilder().validateTransitions(value).build();
    }

    public PersistConfig withStaleRollupRefetchBudgetMs(long value) {
        return toBuilder().staleRollupRefetchBudgetMs(value).build();
    }

    public PersistConfig withBuildVersion(Version value) {
        return toBuilder().buildVersion(value).build();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    /** A copy with some knobs changed; {@link #build} validates like the constructor. */
    public static final class Builder {
        private Version buildVersion;
        private int readableMinorVersionsAhead;
        private long rollupThreshold;
        private double rollupDiffFraction;
        private boolean rollupUseActiveRollup;
        private long rollupFallbackThresholdMs;
        private boolean gcUseActiveGc;
        private long gcMinVersions;
        private long gcMaxVersions;
        private long gcFallbackThresholdMs;
        private long readerLeaseDurationMs;
        private long writerLeaseDurationMs;
        private long writerLeaseMinMs;
        private int recentLiveDiffsLimit;
        private long inlineWritesTotalMaxBytes;
        private int maxHandles;
        private boolean validateTransitions;
        private long staleRollupRefetchBudgetMs;

        private Builder(PersistConfig c) {
            buildVersion = c.buildVersion;
            readableMinorVersionsAhead = c.readableMinorVersionsAhead;
            rollupThreshold = c.rollupThreshold;
            rollupDiffFraction = c.rollupDiffFraction;
            rollupUseActiveRollup = c.rollupUseActiveRollup;
            rollupFallbackThresholdMs = c.rollupFallbackThresholdMs;
            gcUseActiveGc = c.gcUseActiveGc;
            gcMinVersions = c.gcMinVersions;
            gcMaxVersions = c.gcMaxVersions;
            gcFallbackThresholdMs = c.gcFallbackThresholdMs;
            readerLeaseDurationMs = c.readerLeaseDurationMs;
            writerLeaseDurationMs = c.writerLeaseDurationMs;
            writerLeaseMinMs = c.writerLeaseMinMs;
            recentLiveDiffsLimit = c.recentLiveDiffsLimit;
            inlineWritesTotalMaxBytes = c.inlineWritesTotalMaxBytes;
            maxHandles = c.maxHandles;
            validateTransitions = c.validateTransitions;
            staleRollupRefetchBudgetMs = c.staleRollupRefetchBudgetMs;
        }

        public Builder buildVersion(Version value) {
            buildVersion = value;
            return this;
        }

        public Builder readableMinorVersionsAhead(int value) {
            readableMinorVersionsAhead = value;
            return this;
        }

        public Builder rollupThreshold(long value) {
            rollupThreshold = value;
            return this;
        }

        public Builder rollupDiffFraction(double value) {
            rollupDiffFraction = value;
            return this;
        }

        public Builder rollupUseActiveRollup(boolean value) {
            rollupUseActiveRollup = value;
            return this;
        }

        public Builder rollupFallbackThresholdMs(long value) {
            rollupFallbackThresholdMs = value;
            return this;
        }

        public Builder gcUseActiveGc(boolean value) {
            gcUseActiveGc = value;
            return this;
        }

        public Builder gcMinVersions(long value) {
            gcMinVersions = value;
            return this;
        }

        public Builder gcMaxVersions(long value) {
            gcMaxVersions = value;
            return this;
        }

        public Builder gcFallbackThresholdMs(long value) {
            gcFallbackThresholdMs = value;
            return this;
        }

        public Builder readerLeaseDurationMs(long value) {
            readerLeaseDurationMs = value;
            return this;
        }

        public Builder writerLeaseDurationMs(long value) {
            writerLeaseDurationMs = value;
            return this;
        }

        public Builder writerLeaseMinMs(long value) {
            writerLeaseMinMs = value;
            return this;
        }

        public Builder recentLiveDiffsLimit(int value) {
            recentLiveDiffsLimit = value;
            return this;
        }

        public Builder inlineWritesTotalMaxBytes(long value) {
            inlineWritesTotalMaxBytes = value;
            return this;
        }

        public Builder validateTransitions(boolean value) {
            validateTransitions = value;
            return this;
        }

        public Builder maxHandles(int value) {
            maxHandles = value;
            return this;
        }

        public Builder staleRollupRefetchBudgetMs(long value) {
            staleRollupRefetchBudgetMs = value;
            return this;
        }

        public PersistConfig build() {
            return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, rollupDiffFraction,
                    rollupUseActiveRollup,
                    rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                    readerLeaseDurationMs, writerLeaseDurationMs, writerLeaseMinMs, recentLiveDiffsLimit,
                    inlineWritesTotalMaxBytes, maxHandles, validateTransitions, staleRollupRefetchBudgetMs);
        }
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
