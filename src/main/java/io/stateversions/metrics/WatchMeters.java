package io.stateversions.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchMetrics;
import jakarta.inject.Singleton;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** The meters of watches and of the commit notifications between replicas. */
@Singleton
public class WatchMeters implements WatchMetrics {

    private final MeterRegistry registry;
    private final AtomicInteger active = new AtomicInteger();
    private final Map<String, Counter> ended = new ConcurrentHashMap<>();
    private final Counter sent;
    private final Counter fetched;
    private final Counter receivedBehind;
    private final Counter receivedCurrent;
    private final Counter published;
    private final Counter publishFailed;

    public WatchMeters(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("stateversions.watch.active", active, AtomicInteger::get)
                .description("Watches this replica serves now").register(registry);
        sent = Counter.builder("stateversions.watch.versions.sent")
                .description("Versions sent to watchers").register(registry);
        fetched = Counter.builder("stateversions.watch.versions.fetched")
                .description("Versions read from Consensus for watchers (the others came from this replica's commits"
                        + " or the shared recent versions)").register(registry);
        // Every reason from the start, at 0: the dashboard and alerts rate() them, and a counter that appears only
        // at its first increment loses that increment to rate().
        for (String reason : java.util.List.of("cancelled", "truncated", "stalled", "shutdown")) {
            endedCounter(reason);
        }
        receivedBehind = received("behind");
        receivedCurrent = received("current");
        published = Counter.builder("stateversions.notification.published")
                .description("Commit notifications sent to the other replicas").register(registry);
        publishFailed = Counter.builder("stateversions.notification.publish.failed")
                .description("Statements that failed to send commit notifications (watchers poll instead)")
                .register(registry);
    }

    private Counter received(String cache) {
        return Counter.builder("stateversions.notification.received").tag("cache", cache)
                .description("Commit notifications from other replicas, by whether this replica's cached state of"
                        + " the shard was behind (and is refreshed) or current (or not cached)")
                .register(registry);
    }

    /** Reports whether {@code bus} receives notifications now (1) or watchers rely on polling (0). */
    public void bind(CommitBus bus) {
        Gauge.builder("stateversions.notification.receiving", bus, b -> b.receiving() ? 1 : 0)
                .description("1 while commit notifications from other replicas are received, 0 while watchers"
                        + " rely on polling").register(registry);
        Gauge.builder("stateversions.notification.replicas", bus, CommitBus::replicasHeard)
                .description("Other replicas heard on the notification channel within the last 5 s; this replica"
                        + " publishes its commits only while there is one").register(registry);
    }

    @Override
    public void watchStarted(int activeNow) {
        active.set(activeNow);
    }

    @Override
    public void watchEnded(String reason, int activeNow) {
        active.set(activeNow);
        endedCounter(reason).increment();
    }

    private Counter endedCounter(String reason) {
        return ended.computeIfAbsent(reason, r -> Counter.builder("stateversions.watch.ended").tag("reason", r)
                .description("Watches that ended, by reason: cancelled (by the client), truncated, stalled, shutdown")
                .register(registry));
    }

    @Override
    public void versionsSent(int count) {
        sent.increment(count);
    }

    @Override
    public void versionsFetched(int count) {
        fetched.increment(count);
    }

    @Override
    public void notificationReceived(boolean behind) {
        (behind ? receivedBehind : receivedCurrent).increment();
    }

    @Override
    public void notificationsPublished(int count) {
        published.increment(count);
    }

    @Override
    public void notificationPublishFailed() {
        publishFailed.increment();
    }
}
