package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.watch.CommitBus;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ForkJoinPool;

/**
 * Commit notifications between replicas in one JVM (for tests over memory storage, where there is no PostgreSQL to
 * carry them): every member of a {@link Network} hears the others' publishes, asynchronously, as over a network.
 */
public final class LocalCommitBus implements CommitBus {

    /** The replicas that hear each other. */
    public static final class Network {
        private final List<LocalCommitBus> members = new CopyOnWriteArrayList<>();

        public LocalCommitBus join() {
            LocalCommitBus bus = new LocalCommitBus(this);
            members.add(bus);
            return bus;
        }
    }

    private final Network network;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    private LocalCommitBus(Network network) {
        this.network = network;
    }

    @Override
    public void publish(ShardId shard, SeqNo seqno) {
        for (LocalCommitBus member : network.members) {
            if (member != this && !member.closed) {
                for (Listener l : member.listeners) {
                    ForkJoinPool.commonPool().execute(() -> l.committed(shard, seqno));
                }
            }
        }
    }

    @Override
    public void addListener(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public boolean receiving() {
        return !closed;
    }

    @Override
    public void close() {
        closed = true;
        network.members.remove(this);
    }
}
