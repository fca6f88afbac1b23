package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.Transition;
import io.stateversions.location.Consensus;
import io.stateversions.machine.ShardMachine;
import io.stateversions.stateversions.StateVersions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongSupplier;

/**
 * Every watch this replica serves (api.md "Watch", spec §20), fed from three sources so that a watcher never
 * depends on which replica committed:
 * <ul>
 *   <li>this replica's commits ({@link ShardMachine.CommitListener}): the diff is in hand, no I/O;</li>
 *   <li>other replicas' commits, announced on the {@link CommitBus} (PostgreSQL {@code NOTIFY}): the versions are
 *       read from Consensus, once per shard however many watchers wait;</li>
 *   <li>polls of each watched shard's head ({@link #tick}): every {@code pollInterval} while notifications arrive,
 *       every {@code fallbackPollInterval} while they do not. Notifications are a latency optimization; the poll
 *       is what makes a lost one harmless.</li>
 * </ul>
 * Versions are always read from Consensus by seqno, so order, no gaps and no duplicates hold by construction:
 * a watcher sends {@code next} and then {@code next + 1}, whatever told it they exist.
 */
public final class Watches implements ShardMachine.CommitListener, CommitBus.Listener {

    private volatile boolean draining;

    /** The knobs, from {@link WatchConfig}. */
    public record Settings(Duration pollInterval, Duration fallbackPollInterval, Duration stallTimeout,
            Duration keepalive, int maxWatchers) {

        public static Settings of(WatchConfig config) {
            return new Settings(config.pollInterval(), config.fallbackPollInterval(), config.stallTimeout(),
                    config.keepalive(), config.maxWatchers());
        }
    }

    private final Consensus consensus;
    private final StateVersions stateVersions;
    private final CommitBus bus;
    private final Settings settings;
    private final LongSupplier nanos;
    private final WatchMetrics metrics;
    private final ConcurrentHashMap<ShardId, ShardFeed> feeds = new ConcurrentHashMap<>();
    private final AtomicInteger active = new AtomicInteger();
    private volatile long lastPollNanos;

    public Watches(StateVersions stateVersions, Consensus consensus, CommitBus bus, Settings settings,
            LongSupplier nanos, WatchMetrics metrics) {
        this.stateVersions = stateVersions;
        this.consensus = consensus;
        this.bus = bus;
        this.settings = settings;
        this.nanos = nanos;
        this.metrics = metrics;
        this.lastPollNanos = nanos.getAsLong();
        bus.addListener(this);
    }

    /**
     * Starts a watch of {@code shard} sending every version after {@code after}; {@code current} is a version known
     * to exist (the caller's linearizable read). The watcher sends nothing until the transport calls
     * {@link Watcher#start()}.
     *
     * @throws TooManyWatchersException if this replica serves {@link Settings#maxWatchers} watches already
     * @throws DrainingException if this replica is shutting down ({@link #shutdown()})
     */
    public Watcher watch(ShardId shard, SeqNo after, SeqNo current, WatchSink sink) {
        if (draining) {
            throw new DrainingException();
        }
        if (active.incrementAndGet() > settings.maxWatchers()) {
            active.decrementAndGet();
            throw new TooManyWatchersException(settings.maxWatchers());
        }
        Watcher[] created = new Watcher[1];
        ShardFeed feed = feeds.compute(shard, (id, existing) -> {
            ShardFeed f = existing != null ? existing : new ShardFeed(id, consensus, stateVersions, metrics);
            created[0] = new Watcher(this, f, after, sink, nanos.getAsLong());
            f.watchers.add(created[0]);
            return f;
        });
        if (draining) {
            // The drain began while this watch registered, after its first check above and perhaps after the drain
            // ended every watch it saw: end this one too (its client hears where to resume once the stream starts).
            created[0].end(Watcher.End.SHUTDOWN);
            return created[0];
        }
        feed.learned(current.value());
        // A commit between the caller's read and the registration above told no feed of this watcher: one look at
        // the head closes that window (later commits find the feed).
        feed.poll();
        metrics.watchStarted(active.get());
        return created[0];
    }

    /** Whether this replica serves a watch of {@code shard} (its machine is kept while it does). */
    public boolean watching(ShardId shard) {
        return feeds.containsKey(shard);
    }

    /** The number of watches being served. */
    public int active() {
        return active.get();
    }

    /** The bus this replica's commits are published on. */
    public CommitBus bus() {
        return bus;
    }

    // ------------------------------------------------------------------------------------------------ sources

    /** A commit of this replica: publish it, and hand its diff to the shard's watchers. */
    @Override
    public void committed(ShardMachine machine, Transition.Committable<Void> commit, int commands) {
        bus.publish(machine.shard(), commit.state().seqno());
        ShardFeed feed = feeds.get(machine.shard());
        if (feed != null) {
            feed.committed(new WatchedVersion(commit.diff()));
        }
    }

    /** Another replica's commit. */
    @Override
    public void committed(ShardId shard, SeqNo seqno) {
        ShardFeed feed = feeds.get(shard);
        if (feed != null) {
            feed.learned(seqno.value());
        }
    }

    /** Notifications may have been missed: poll every watched shard now. */
    @Override
    public void resync() {
        pollAll();
    }

    /**
     * Periodic duties, run every {@code fallbackPollInterval} (at most every second) by the service (tests call it
     * directly): poll the watched shards when due, then let every watcher retry failed reads, keep its stream open
     * and give up on a stalled client.
     */
    public void tick() {
        long now = nanos.getAsLong();
        long interval = (bus.receiving() ? settings.pollInterval() : settings.fallbackPollInterval()).toNanos();
        if (now - lastPollNanos >= interval) {
            lastPollNanos = now;
            pollAll();
        }
        long stall = settings.stallTimeout().toNanos();
        long keepalive = settings.keepalive().toNanos();
        for (ShardFeed feed : feeds.values()) {
            for (Watcher w : feed.watchers) {
                w.tick(now, stall, keepalive);
            }
        }
    }

    private void pollAll() {
        for (ShardFeed feed : feeds.values()) {
            feed.poll();
        }
    }

    /**
     * Ends every watch and refuses new ones from now on (the replica is stopping): clients resume elsewhere from the
     * last version they got. Called when the drain starts, before in-flight requests are waited for, since a watch
     * never finishes by itself and would hold the stop for the whole shutdown timeout. A watch that registers while
     * this runs ends itself ({@link #watch}).
     */
    public void shutdown() {
        draining = true;
        endAll();
    }

    private void endAll() {
        List<Watcher> all = new ArrayList<>();
        feeds.values().forEach(f -> all.addAll(f.watchers));
        for (Watcher w : all) {
            w.end(Watcher.End.SHUTDOWN);
        }
    }

    // -------------------------------------------------------------------------------------------- for Watcher

    long nowNanos() {
        return nanos.getAsLong();
    }

    WatchMetrics metrics() {
        return metrics;
    }

    void removed(Watcher watcher, ShardFeed feed, String reason) {
        feed.watchers.remove(watcher);
        feeds.computeIfPresent(feed.shard, (id, f) -> f == feed && f.watchers.isEmpty() ? null : f);
        metrics.watchEnded(reason, active.decrementAndGet());
    }
}
