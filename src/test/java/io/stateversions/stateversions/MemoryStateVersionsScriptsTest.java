package io.stateversions.stateversions;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;

/** The StateVersions scripts on in-memory storage, fresh for every script. */
class MemoryStateVersionsScriptsTest extends StateVersionsScriptsTest {

    @Override
    protected Consensus consensus() {
        return new MemoryConsensus();
    }

    @Override
    protected Blob blob() {
        return new MemoryBlob(false);
    }

    @Override
    protected Retries retries() {
        return new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
    }
}
