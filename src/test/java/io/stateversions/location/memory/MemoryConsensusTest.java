package io.stateversions.location.memory;

import io.stateversions.location.Consensus;
import io.stateversions.location.ConsensusContractTest;

/** The contract on the in-memory backend. Its data lives as long as the instance, so re-opening is the instance. */
class MemoryConsensusTest extends ConsensusContractTest {

    @Override
    protected Consensus open() {
        return new MemoryConsensus();
    }

    @Override
    protected Consensus reopen(Consensus consensus) {
        return consensus;
    }

    @Override
    protected Consensus peer(Consensus consensus) {
        return consensus;
    }
}
