package io.stateversions.config;

import io.stateversions.location.Consensus;
import io.stateversions.machine.GarbageCollector;
import io.stateversions.machine.IdleSweeper;
import io.stateversions.machine.LeakedBlobSweeper;
import io.stateversions.metrics.MachineMeters;
import io.stateversions.machine.MachineConfig;
import io.stateversions.machine.Maintenance;
import io.stateversions.machine.RollupWriter;
import io.stateversions.machine.ShardMachine;
import io.stateversions.metrics.WatchMeters;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchConfig;
import io.stateversions.watch.Watches;
import io.stateversions.machine.Machines;
import io.stateversions.stateversions.StateVersions;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.util.concurrent.ForkJoinPool;

/** Wires the per-shard machines over the state layer. */
@ApplicationScoped
public class MachinesProducer {

    @Produces
    @Singleton
    Machines machines(StateVersions stateVersions, MachineConfig config, Maintenance maintenance, Watches watches,
            CommitBus bus, MachineMeters metrics, WatchMeters watchMeters) {
        Machines machines = new Machines(stateVersions, config, System::currentTimeMillis,
                StateVersionsProducer.hostname(), ShardMachine.CommitListener.both(maintenance, watches), metrics,
                Machines.Settings.DEFAULT.withWatched(watches::watching));
        // Other replicas' commits refresh the cached states here (persist's PubSub), as they wake watchers.
        bus.addListener((shard, seqno) -> watchMeters.notificationReceived(machines.learned(shard, seqno)));
        return machines;
    }

    @Produces
    @Singleton
    Watches watches(StateVersions stateVersions, Consensus consensus, CommitBus bus, WatchConfig config,
            WatchMeters metrics) {
        return new Watches(stateVersions, consensus, bus, Watches.Settings.of(config), System::nanoTime, metrics);
    }

    @Produces
    @Singleton
    RollupWriter rollupWriter(StateVersions stateVersions, MachineMeters metrics) {
        return new RollupWriter(stateVersions, metrics);
    }

    /** Routine maintenance runs on the common pool: its tasks only start I/O and never block. */
    @Produces
    @Singleton
    Maintenance maintenance(RollupWriter rollups, GarbageCollector gc, MachineMeters metrics) {
        return new Maintenance(rollups, gc, ForkJoinPool.commonPool(), metrics);
    }

    @Produces
    @Singleton
    IdleSweeper idleSweeper(Machines machines, Consensus consensus, RollupWriter rollups, GarbageCollector gc) {
        return new IdleSweeper(machines, consensus, rollups, gc, System::currentTimeMillis);
    }

    @Produces
    @Singleton
    GarbageCollector garbageCollector(StateVersions stateVersions, MachineMeters metrics) {
        return new GarbageCollector(stateVersions, GC_BLOB_DELETE_CONCURRENCY, metrics);
    }

    @Produces
    @Singleton
    LeakedBlobSweeper leakedBlobSweeper(StateVersions stateVersions) {
        return new LeakedBlobSweeper(stateVersions, GC_BLOB_DELETE_CONCURRENCY);
    }

    /** Blob deletes one GC step (or leaked-blob sweep) runs at once (persist's gc_blob_delete_concurrency_limit). */
    static final int GC_BLOB_DELETE_CONCURRENCY = 32;
}
