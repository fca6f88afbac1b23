package io.stateversions.location.memory;

import io.stateversions.location.AbstractBlob;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.Determinate;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * {@link Blob} in process memory (URL {@code mem://[?tombstone=true|false]}). In tombstone mode (the default, as
 * in persist) deleted values are kept so that {@link #restore} can bring them back; they are never freed, so a
 * long-running {@code mem://} service should turn it off.
 */
public final class MemoryBlob extends AbstractBlob {

    private final boolean tombstone;
    // One monitor for both maps: a delete or restore moves a value between them atomically.
    private final Object lock = new Object();
    private final Map<String, byte[]> values = new HashMap<>();
    private final Map<String, byte[]> tombstones = new HashMap<>();

    public MemoryBlob(boolean tombstone) {
        this.tombstone = tombstone;
    }

    @Override
    protected CompletionStage<Optional<byte[]>> doGet(String key) {
        synchronized (lock) {
            return CompletableFuture.completedFuture(Optional.ofNullable(values.get(key)));
        }
    }

    @Override
    protected CompletionStage<Void> doList(String prefix, Consumer<BlobMetadata> consumer) {
        BlobMetadata[] matches;
        synchronized (lock) {
            matches = values.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(prefix))
                    .map(e -> new BlobMetadata(e.getKey(), e.getValue().length))
                    .toArray(BlobMetadata[]::new);
        }
        // The consumer runs outside the monitor: it may call back into this blob.
        for (BlobMetadata metadata : matches) {
            consumer.accept(metadata);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    protected CompletionStage<Void> doSet(String key, byte[] value) {
        synchronized (lock) {
            values.put(key, value);
            tombstones.remove(key);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    protected CompletionStage<OptionalLong> doDelete(String key) {
        synchronized (lock) {
            byte[] old = values.remove(key);
            if (old == null) {
                return CompletableFuture.completedFuture(OptionalLong.empty());
            }
            if (tombstone) {
                tombstones.put(key, old);
            }
            return CompletableFuture.completedFuture(OptionalLong.of(old.length));
        }
    }

    @Override
    protected CompletionStage<Void> doRestore(String key) {
        synchronized (lock) {
            if (values.containsKey(key)) {
                return CompletableFuture.completedFuture(null);
            }
            byte[] deleted = tombstones.remove(key);
            if (deleted == null) {
                return CompletableFuture.failedFuture(new Determinate("cannot restore " + key + ": it does not exist"
                        + (tombstone ? " and was not deleted from this blob" : " (tombstone mode is off)")));
            }
            values.put(key, deleted);
            return CompletableFuture.completedFuture(null);
        }
    }
}
