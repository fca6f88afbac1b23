package io.stateversions.core;

import java.util.Objects;

/**
 * The knobs of the state machine (spec §19), as plain values: the core takes no configuration framework.
 *
 * @param buildVersion                  the version of this code, recorded in every diff and rollup it writes
 * @param readableMinorVersionsAhead    how many minor versions (same major) newer than this build a shard may have
 *                                      been written by and still be read (spec §6.6: classic persist allows 1)
 * @param rollupThreshold               seqnos between rollups
 * @param rollupUseActiveRollup         whether one handle at a time is assigned a rollup (active-rollup mode)
 * @param rollupFallbackThresholdMs     after this long an active rollup is presumed dead and reassigned
 * @param gcUseActiveGc                 whether one handle at a time is assigned GC (active-GC mode)
 * @param gcMinVersions                 the GC threshold in active-GC mode
 * @param gcMaxVersions                 the most seqnos one GC request covers
 * @param gcFallbackThresholdMs         after this long an active GC is presumed dead and reassigned
 * @param readerLeaseDurationMs         the lease of a leased reader unless it asks for another
 * @param writerLeaseDurationMs         the lease of a writer unless it asks for another
 * @param recentLiveDiffsLimit          the fast-path scan limit of {@code fetchRecentLiveDiffs}
 * @param inlineWritesTotalMaxBytes     inline bytes in state at which appends with inline parts are pushed back
 * @param validateTransitions           check every transition's diff by applying it and by an encode/decode
 *                                      round trip (persist does this in debug builds; the tests turn it on)
 */
public record PersistConfig(
        Version buildVersion,
        int readableMinorVersionsAhead,
        long rollupThreshold,
        boolean rollupUseActiveRollup,
        long rollupFallbackThresholdMs,
        boolean gcUseActiveGc,
        long gcMinVersions,
        long gcMaxVersions,
        long gcFallbackThresholdMs,
        long readerLeaseDurationMs,
        long writerLeaseDurationMs,
        int recentLiveDiffsLimit,
        long inlineWritesTotalMaxBytes,
        boolean validateTransitions) {

    public PersistConfig {
        Objects.requireNonNull(buildVersion, "buildVersion");
        positive("rollupThreshold", rollupThreshold);
        positive("gcMinVersions", gcMinVersions);
        positive("gcMaxVersions", gcMaxVersions);
        positive("readerLeaseDurationMs", readerLeaseDurationMs);
        positive("writerLeaseDurationMs", writerLeaseDurationMs);
        positive("recentLiveDiffsLimit", recentLiveDiffsLimit);
        positive("inlineWritesTotalMaxBytes", inlineWritesTotalMaxBytes);
        if (readableMinorVersionsAhead < 0 || rollupFallbackThresholdMs < 0 || gcFallbackThresholdMs < 0) {
            throw new IllegalArgumentException("readableMinorVersionsAhead and fallback thresholds must be >= 0");
        }
    }

    /** Persist's defaults (spec §19) for code at {@code buildVersion}. */
    public static PersistConfig defaults(Version buildVersion) {
        return new PersistConfig(buildVersion, 1, 128, true, 5_000, false, 32, 128_000, 900_000,
                15 * 60_000L, 60 * 60_000L, 30 * 128, 1024 * 1024, false);
    }

    public PersistConfig withRollupThreshold(long value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, value, rollupUseActiveRollup,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes,
                validateTransitions);
    }

    public PersistConfig withRollupUseActiveRollup(boolean value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, value,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes,
                validateTransitions);
    }

    public PersistConfig withGcUseActiveGc(boolean value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, rollupUseActiveRollup,
                rollupFallbackThresholdMs, value, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes,
                validateTransitions);
    }

    public PersistConfig withGcMaxVersions(long value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, rollupUseActiveRollup,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, value, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes,
                validateTransitions);
    }

    public PersistConfig withRecentLiveDiffsLimit(int value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, rollupUseActiveRollup,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, value, inlineWritesTotalMaxBytes, validateTransitions);
    }

    public PersistConfig withValidateTransitions(boolean value) {
        return new PersistConfig(buildVersion, readableMinorVersionsAhead, rollupThreshold, rollupUseActiveRollup,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes, value);
    }

    public PersistConfig withBuildVersion(Version value) {
        return new PersistConfig(value, readableMinorVersionsAhead, rollupThreshold, rollupUseActiveRollup,
                rollupFallbackThresholdMs, gcUseActiveGc, gcMinVersions, gcMaxVersions, gcFallbackThresholdMs,
                readerLeaseDurationMs, writerLeaseDurationMs, recentLiveDiffsLimit, inlineWritesTotalMaxBytes,
                validateTransitions);
    }

    private static void positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(name + " must be > 0, got " + value);
        }
    }
}
