package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;

/**
 * Commit notifications between the replicas that share one Consensus (persist's PubSub, spec §20): each replica
 * publishes the versions it commits and hears of the others'. Purely a latency optimization: a notification may be
 * lost (a replica dies between its commit and the publish, the connection drops), so every user also polls, more
 * often while {@link #receiving()} is false. Correctness never depends on it.
 */
public interface CommitBus extends AutoCloseable {

    /** Hears of versions committed by other replicas. Called on I/O threads: must not block. */
    interface Listener {
        void committed(ShardId shard, SeqNo seqno);

        /** Notifications may have been missed (the subscription was just (re)established): catch up by polling. */
        default void resync() {}
    }

    /** Announces a version this replica committed. Never blocks or fails; coalesced per shard. */
    void publish(ShardId shard, SeqNo seqno);

    void addListener(Listener listener);

    /** Notifications from other replicas are being received now. */
    boolean receiving();

    /** Other replicas heard from recently; commits are published only while there is one. */
    default int replicasHeard() {
        return 0;
    }

    @Override
    void close();

    /** No other replica to hear from (one process, or notifications turned off). */
    CommitBus NONE = new CommitBus() {
        @Override
        public void publish(ShardId shard, SeqNo seqno) {}

        @Override
        public void addListener(Listener listener) {}

        @Override
        public boolean receiving() {
            return false;
        }

        @Override
        public void close() {}

        @Override
        public String toString() {
            return "CommitBus.NONE";
        }
    };
}
