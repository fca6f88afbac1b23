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
import java.util.function.LongSupplier;

/**
 * {@link Blob} in process memory (URL {@code mem://[?tombstone=true|false]}). In tombstone mode (the default, as
 * in persist) deleted values are kept so that {@link #restore} can bring them back; they are never freed, so a
 * long-running {@code mem://} service should turn it off. A value's last-modified time is the clock's reading when
 * it was set (tests pass a clock they control).
 */
public final class MemoryBlob extends AbstractBlob {

    private final boolean tombstone;
    private final LongSupplier nowMs;
    // One monitor for both maps: a delete or restore moves a value between them atomically.
    private final Object lock = new Object();
    private final Map<String, Stored> values = new HashMap<>();
    private final Map<String, Stored> tombstones = new HashMap<>();

    private record Stored(byte[] value, long lastModifiedMs) {}

    public MemoryBlob(boolean tombstone) {
        this(tombstone, System::currentTimeMillis);
    }

    /** @param nowMs the clock that stamps each value's last-modified time */
    public MemoryBlob(boolean tombstone, LongSupplier nowMs) {
        this.tombstone = tombstone;
        this.nowMs = nowMs;
    }

    @Override
    protected CompletionStage<Optional<byte[]>> doGet(String key) {
        synchronized (lock) {
            Stored stored = values.get(key);
            return CompletableFuture.completedFuture(Optional.ofNullable(stored == null ? null : stored.value()));
        }
    }

    @Override
    protected CompletionStage<Void> doList(String prefix, Consumer<BlobMetadata> consumer) {
        BlobMetadata[] matches;
        synchronized (lock) {
            matches = values.entrySet().stream()
                    .filter(e -> e.getKey().startsWith(prefix))
                    .map(e -> new BlobMetadata(e.getKey(), e.getValue().value().length, e.getValue().lastModifiedMs()))
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
            values.put(key, new Stored(value, nowMs.getAsLong()));
            tombstones.remove(key);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    protected CompletionStage<OptionalLong> doDelete(String key) {
        synchronized (lock) {
            Stored old = values.remove(key);
            if (old == null) {
                return CompletableFuture.completedFuture(OptionalLong.empty());
            }
            if (tombstone) {
                tombstones.put(key, old);
            }
            return CompletableFuture.completedFuture(OptionalLong.of(old.value().length));
        }
    }

    @Override
    protected CompletionStage<Void> doRestore(String key) {
        synchronized (lock) {
            if (values.containsKey(key)) {
                return CompletableFuture.completedFuture(null);
            }
            Stored deleted = tombstones.remove(key);
            if (deleted == null) {
                return CompletableFuture.failedFuture(new Determinate("cannot restore " + key + ": it does not exist"
                        + (tombstone ? " and was not deleted from this blob" : " (tombstone mode is off)")));
            }
            values.put(key, deleted);
            return CompletableFuture.completedFuture(null);
        }
    }
}
