package io.stateversions.machine;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import java.time.Duration;

/** {@link GcFaultsTest} on in-memory storage, fresh for every test. */
class MemoryGcFaultsTest extends GcFaultsTest {

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

    /** The memory store stamps a blob with the time of its write: a short grace keeps the sweeps busy. */
    @Override
    protected Duration workloadMinGrace() {
        return Duration.ofMillis(50);
    }
}
