package io.stateversions.stateversions;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;

/** {@link DeploymentIdentityTest} on in-memory storage: a second client of a store is the store itself. */
class MemoryDeploymentIdentityTest extends DeploymentIdentityTest {

    @Override
    protected Consensus openConsensus() {
        return new MemoryConsensus();
    }

    @Override
    protected Consensus peer(Consensus consensus) {
        return consensus;
    }

    @Override
    protected Blob openBlob() {
        return new MemoryBlob(false);
    }

    @Override
    protected Blob peer(Blob blob) {
        return blob;
    }
}
