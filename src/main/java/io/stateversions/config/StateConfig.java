package io.stateversions.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.stateversions.core.PersistConfig;
import java.time.Duration;

/** The knobs of the shard state machine (spec §19), with persist's defaults. */
@ConfigMapping(prefix = "stateversions.state")
public interface StateConfig {

    /**
     * Seqnos between rollups: a rollup is assigned when the latest one is more than this many versions old (and the
     * diffs since reach {@link #rollupDiffFraction} of its size).
     */
    @WithDefault("128")
    long rollupThreshold();

    /**
     * A rollup is assigned only once the encoded diffs since the latest one reach this fraction of its encoded size
     * (as well as {@link #rollupThreshold} versions), so that a large shard rolls up less often: rollups cost about
     * {@code 1 / fraction} times the diff bytes per version, and reading a state replays at most this fraction of it
     * in diffs. 0 turns it off (every {@code rollup-threshold} versions, as persist).
     */
    @WithDefault("0.1")
    double rollupDiffFraction();

    /** Assign a rollup to one handle at a time, recorded in state, so that replicas do not write the same one. */
    @WithDefault("true")
    boolean rollupUseActiveRollup();

    /** An assigned rollup not linked after this long is presumed lost and assigned again. */
    @WithDefault("5s")
    Duration rollupFallbackThreshold();

    /** Assign GC to one handle at a time, recorded in state (persist's active-GC mode; off as in persist). */
    @WithDefault("false")
    boolean gcUseActiveGc();

    /** The GC threshold in active-GC mode, in versions. */
    @WithDefault("32")
    long gcMinVersions();

    /** The most versions one GC request covers. */
    @WithDefault("128000")
    long gcMaxVersions();

    /** An assigned GC not finished after this long is presumed lost and assigned again (active-GC mode). */
    @WithDefault("15m")
    Duration gcFallbackThreshold();

    /** The lease of a leased reader that does not ask for another. */
    @WithDefault("15m")
    Duration readerLeaseDuration();

    /** The lease of a writer that does not ask for another. */
    @WithDefault("60m")
    Duration writerLeaseDuration();

    /**
     * The shortest writer lease a client may ask for (registering a writer, or an append that registers it): an
     * append's idempotency token lives only as long as its writer's lease, so the lease must outlive the client's
     * retries. Never less than 3 request timeouts ({@code stateversions.machine.request-timeout}), whatever is set.
     */
    @WithDefault("60s")
    Duration writerLeaseMin();

    /** How many diffs one bounded scan reads when fetching a shard's state before the slow path is taken. */
    @WithDefault("3840")
    int recentLiveDiffsLimit();

    /** Inline bytes in a shard's state at which appends with inline parts are pushed back. */
    @WithDefault("1048576")
    long inlineWritesTotalMaxBytes();

    /**
     * The most handles (leased readers, critical readers and writers together) one shard holds. A registration, or
     * an append of a new writer, that would add one beyond it is {@code 429 too_many_handles} and changes nothing;
     * handles whose lease lapsed do not count.
     */
    @WithDefault("10000")
    int maxHandles();

    /**
     * How many minor versions newer than this build (same major) the writer of a shard may be for this build to
     * still read it. 1 lets a rolling upgrade run old and new replicas side by side; 0 is strictest.
     */
    @WithDefault("1")
    int readableMinorVersionsAhead();

    /** Check every transition by applying its diff (persist's debug-build checks). Costs CPU; for tests. */
    @WithDefault("false")
    boolean validateTransitions();

    /**
     * How long a fetch of a shard's state keeps refetching when a rollup its versions name is missing from Blob,
     * before it fails with an internal error. A missing rollup normally means GC moved on, and one refetch resolves
     * it; one that stays missing means the blob store does not hold what Consensus names. Keep it well below
     * {@code stateversions.machine.request-timeout}, so that API calls get that error rather than a timeout.
     */
    @WithDefault("5s")
    Duration staleRollupRefetchBudget();

    /** As the core's plain configuration, for this build. */
    default PersistConfig toPersistConfig() {
        return new PersistConfig(BuildInfo.VERSION, readableMinorVersionsAhead(), rollupThreshold(),
                rollupDiffFraction(), rollupUseActiveRollup(), rollupFallbackThreshold().toMillis(), gcUseActiveGc(),
                gcMinVersions(), gcMaxVersions(), gcFallbackThreshold().toMillis(), readerLeaseDuration().toMillis(),
                writerLeaseDuration().toMillis(), writerLeaseMin().toMillis(), recentLiveDiffsLimit(),
                inlineWritesTotalMaxBytes(), maxHandles(), validateTransitions(), staleRollupRefetchBudget().toMillis());
    }
}
