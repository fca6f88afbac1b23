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
