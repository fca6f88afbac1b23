package io.stateversions.machine;

import io.stateversions.core.Command;
import io.stateversions.core.ShardId;
import java.util.function.LongSupplier;

/**
 * What the machines and their maintenance report, for metrics (spec §18.2). Implementations must be cheap and
 * must not block: they are called on the command path.
 */
public interface MachineMetrics {

    /** How one command ended, as its caller saw it. */
    enum Outcome {
        /** Its work continued and the version holding it committed. */
        COMMITTED,
        /** Its work broke: nothing written for it (an error such as upper_mismatch, or a no-op). */
        NOOP,
        /** It failed: storage, overload, or a bug. */
        FAILED
    }

    /** A command finished {@code nanos} after it was queued. */
    default void command(Command cmd, Outcome outcome, long nanos) {}

    /** A batch of {@code commands} commands (and {@code reads} reads) was applied in one transition. */
    default void batch(int commands, int reads) {}

    /** A batch lost its compare-and-set to another replica and was recomputed. */
    default void casMismatch() {}

    /** A batch's compare-and-set failed indeterminately. */
    default void casIndeterminate() {}

    /** A committed transition expired lapsed handles (spec §14, persist's {@code lease.timeout_read}). */
    default void leasesExpired(int readers, int writers) {}

    /** A GC run finished ({@code result}: ok, noop, failed) after {@code nanos}. */
    default void gc(String result, long nanos, long partsDeleted, long rollupsDeleted, int truncations) {}

    /**
     * A GC kept {@code parts} released batch parts instead of deleting them: a state at or after their truncation
     * point refers to them again (a client appended a part key the shard already held).
     */
    default void gcPartsKept(long parts) {}

    /** A GC request was merged into one already queued for its shard. */
    default void gcCoalesced() {}

    /** A rollup write finished ({@code result}: written, noop, not_applied, failed) after {@code nanos}. */
    default void rollup(String result, long nanos) {}

    /**
     * The machines held ({@link Machines#size}), the bytes queued in them and the estimated heap they hold
     * ({@link Machines#heldBytes}): gauges, registered once.
     */
    default void machines(LongSupplier held, LongSupplier queuedBytes, LongSupplier heldBytes) {}

    /**
     * A shard's machine left memory ({@code cause}: {@code idle}, {@code size} beyond the count, {@code bytes} beyond
     * the heap budget, or {@code sweep} for a machine made for a sweep); the shard reloads on its next use.
     */
    default void machineRetired(ShardId shard, String cause) {}

    MachineMetrics NONE = new MachineMetrics() {};
}
