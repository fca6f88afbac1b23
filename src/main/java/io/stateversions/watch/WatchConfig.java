package io.stateversions.watch;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** Watches (api.md "Watch") and the commit notifications between replicas that serve them. */
@ConfigMapping(prefix = "stateversions.watch")
public interface WatchConfig {

    /**
     * Publish every commit with PostgreSQL {@code NOTIFY} and {@code LISTEN} for the other replicas' commits, so that
     * their watchers and cached states learn of it at once. Only on PostgreSQL (CockroachDB has no
     * {@code LISTEN}); without it, watchers poll.
     */
    @WithDefault("true")
    boolean notifications();

    /**
     * The least time between the starts of two statements that publish commit notifications. A commit made sooner
     * after the last statement waits for the rest of it, and goes with every other commit made meanwhile (per shard,
     * only the highest seqno); one made later goes at once. Under a steady stream of commits this is one statement
     * per interval instead of one per commit, at the cost of up to this much latency for the other replicas. 0:
     * one statement at a time, each as soon as the previous one is answered.
     */
    @WithDefault("5ms")
    Duration notificationInterval();

    /** How often each watched shard is checked for versions whose notification was missed. */
    @WithDefault("5s")
    Duration pollInterval();

    /** The same while notifications are not being received (connection down, turned off, CockroachDB). */
    @WithDefault("500ms")
    Duration fallbackPollInterval();

    /**
     * A watcher whose connection has taken no event for this long while versions wait for it is disconnected
     * with the resumable error {@code watch_stalled}.
     */
    @WithDefault("30s")
    Duration stallTimeout();

    /** An idle event stream (SSE) gets a comment line this often, so that proxies keep it open. */
    @WithDefault("15s")
    Duration keepalive();

    /** The most watches one replica serves at once; more are refused with {@code too_many_watchers}. */
    @WithDefault("10000")
    int maxWatchers();
}
