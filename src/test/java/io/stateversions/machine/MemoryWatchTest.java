package io.stateversions.machine;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.testing.LocalCommitBus;
import io.stateversions.watch.CommitBus;

/** {@link WatchTest} on memory storage, replicas notified through an in-JVM bus. */
class MemoryWatchTest extends WatchTest {

    private final Consensus consensus = new MemoryConsensus();
    private final Blob blob = new MemoryBlob(true);
    private final LocalCommitBus.Network network = new LocalCommitBus.Network();

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    @Override
    protected CommitBus newBus() {
        return network.join();
    }
}
