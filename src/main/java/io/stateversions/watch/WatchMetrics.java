package io.stateversions.watch;

/** What watches and commit notifications report (implemented over Micrometer in the metrics package). */
public interface WatchMetrics {

    /** A watch started; {@code active} watches are being served now. */
    default void watchStarted(int active) {}

    /** A watch ended ({@code reason}: cancelled, truncated, stalled, shutdown). */
    default void watchEnded(String reason, int active) {}

    /** Versions sent to watchers. */
    default void versionsSent(int count) {}

    /** Versions read from Consensus for watchers (the rest came from local commits or the shared recent ones). */
    default void versionsFetched(int count) {}

    /** A notification of another replica's commit arrived ({@code behind}: this replica had not seen it yet). */
    default void notificationReceived(boolean behind) {}

    /** Notifications sent (one statement may carry many). */
    default void notificationsPublished(int count) {}

    /** A publish statement failed (its notifications are retried with the next ones). */
    default void notificationPublishFailed() {}

    WatchMetrics NONE = new WatchMetrics() {};
}
