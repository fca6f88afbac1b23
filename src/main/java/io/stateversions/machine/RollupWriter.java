package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.stateversions.StateVersions;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * Writes a rollup of a shard's current state and links it into state (spec §12.2): write the blob, then
 * {@code add_rollup}; if the rollup is not applied (another one is at that seqno, or it is below the oldest rollup
 * in state, see {@link Commands#addRollup}), delete the blob.
 * A blob whose {@code add_rollup} failed for an unknown reason is kept: it may be linked, and a leaked blob is
 * recoverable where a deleted, referenced one is not.
 */
public final class RollupWriter {

    /** What one write did: the version after it, and the key linked ({@code empty}: nothing was written). */
    public record Result(SeqNo seqno, Optional<PartialRollupKey> rollupKey) {}

    private final StateVersions stateVersions;
    private final MachineMetrics metrics;

    public RollupWriter(StateVersions stateVersions) {
        this(stateVersions, MachineMetrics.NONE);
    }

    public RollupWriter(StateVersions stateVersions, MachineMetrics metrics) {
        this.stateVersions = stateVersions;
        this.metrics = metrics;
    }

    public CompletableFuture<Result> write(ShardMachine machine) {
        long start = System.nanoTime();
        String[] result = {"failed"};
        return writeSteps(machine, result).whenComplete((r, error) ->
                metrics.rollup(error == null ? result[0] : "failed", System.nanoTime() - start));
    }

    private CompletableFuture<Result> writeSteps(ShardMachine machine, String[] outcome) {
        return machine.readForMaintenance().thenCompose(state -> stateVersions
                .writeRollupForState(state, RollupId.random())
                .thenCompose(written -> {
                    if (written.isEmpty()) {
                        outcome[0] = "noop";
                        return CompletableFuture.completedFuture(new Result(state.seqno(), Optional.empty()));
                    }
                    var rollup = written.get();
                    return machine.applyForMaintenance(Command.ADD_ROLLUP,
                                    Commands.addRollup(rollup.seqno(), rollup.toHollow()))
                            .thenCompose(applied -> {
                                if (applied.value().applied()) {
                                    outcome[0] = "written";
                                    return CompletableFuture.completedFuture(
                                            new Result(applied.seqno(), Optional.of(rollup.key())));
                                }
                                outcome[0] = "not_applied";
                                if (applied.sawIndeterminate()) {
                                    // An earlier attempt may have linked it, and GC removed it from state since:
                                    // versions still live may name it until GC truncates them and deletes the
                                    // blob itself. Keep it: a leaked blob is recoverable (the leaked-blob sweep),
                                    // a deleted referenced one is not (spec §4.4).
                                    return CompletableFuture.completedFuture(
                                            new Result(applied.seqno(), Optional.empty()));
                                }
                                // Never linked: another rollup is at that seqno, or ours is below the oldest in
                                // state (below earliest, so no current or future state refers to it).
                                return stateVersions.deleteRollup(machine.shard(), rollup.key())
                                        .thenApply(ignored -> new Result(applied.seqno(), Optional.empty()));
                            });
                }));
    }
}
