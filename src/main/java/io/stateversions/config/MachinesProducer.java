package io.stateversions.config;

import io.stateversions.machine.MachineConfig;
import io.stateversions.machine.Machines;
import io.stateversions.machine.ShardMachine;
import io.stateversions.stateversions.StateVersions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/** Wires the per-shard machines over the state layer. */
@ApplicationScoped
public class MachinesProducer {

    @Produces
    @Singleton
    Machines machines(StateVersions stateVersions, MachineConfig config) {
        return new Machines(stateVersions, config, System::currentTimeMillis, StateVersionsProducer.hostname(),
                ShardMachine.CommitListener.NONE);
    }
}
