package io.stateversions.machine;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;

/** {@link ClientSafetyTest} on in-memory storage, fresh for every test. */
class MemoryClientSafetyTest extends ClientSafetyTest {

    private final Consensus consensus = new MemoryConsensus();
    private final Blob blob = new MemoryBlob(false);

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }
}
