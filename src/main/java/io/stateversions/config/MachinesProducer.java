package io.stateversions.config;

import io.stateversions.machine.GarbageCollector;
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

    @Produces
    @Singleton
    GarbageCollector garbageCollector(StateVersions stateVersions) {
        return new GarbageCollector(stateVersions, GC_BLOB_DELETE_CONCURRENCY);
    }

    /** Blob deletes one GC step runs at once (persist's gc_blob_delete_concurrency_limit). */
    static final int GC_BLOB_DELETE_CONCURRENCY = 32;
}
