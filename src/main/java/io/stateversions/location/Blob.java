package io.stateversions.location;

import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A linearizable key-to-bytes store: persist's Blob (spec §8). Holds batch parts and state rollups, each
 * written once under a fresh key.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Linearizable: a completed {@link #set} or {@link #delete} is seen by every later call, from any
 *       client.</li>
 *   <li>{@link #set} is atomic: readers see the whole new value or the old one, never a part.</li>
 *   <li>Keys are one or more segments separated by {@code /}, none of them empty, {@code .} or {@code ..}
 *       (S3-compatible servers and file systems treat those like paths). Values are owned by whoever holds them
 *       and never modified after they are handed over (no defensive copies).</li>
 *   <li>Failures are {@link Determinate}, {@link Indeterminate} or {@link ContractViolation}, as for
 *       {@link Consensus}.</li>
 * </ul>
 */
public interface Blob extends AutoCloseable {

    /** The value of {@code key}, or empty iff it does not exist. */
    CompletionStage<Optional<byte[]>> get(String key);

    /**
     * Calls {@code consumer} once for every key that starts with {@code prefix} ({@code ""} for all), with its size
     * and last-modified time, in no particular order. Calls are sequential, never concurrent; the consumer must not block. The stage
     * completes after the last call.
     */
    CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer);

    /** Stores {@code value} under {@code key} atomically, replacing any previous value. */
    CompletionStage<Void> set(String key, byte[] value);

    /**
     * Deletes {@code key} and returns the size of the value it held, or empty if it did not exist. Idempotent.
     * The size is for metrics only: two concurrent deletes may both report it.
     */
    CompletionStage<OptionalLong> delete(String key);

    /**
     * Makes {@code key} exist again: succeeds iff it exists afterwards (it was present, or the backend could undo
     * its deletion). Fails with {@link Determinate} when it cannot be restored.
     */
    CompletionStage<Void> restore(String key);

    /** Releases the backend's resources. Calls after close may fail. */
    @Override
    default void close() {}
}
