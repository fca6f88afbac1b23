package io.stateversions.testing;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * A {@link Blob} whose calls go through a {@link Chaos}: they may fail determinately, fail indeterminately after
 * taking effect, or hang. Closing it does not close the delegate, which the test owns.
 */
public final class ChaosBlob implements Blob {

    private final Blob delegate;
    private final Chaos chaos;

    public ChaosBlob(Blob delegate, Chaos chaos) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.chaos = Objects.requireNonNull(chaos, "chaos");
    }

    @Override
    public CompletionStage<Optional<byte[]>> get(String key) {
        return chaos.call(Chaos.Op.BLOB_GET, key, () -> delegate.get(key));
    }

    @Override
    public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
        return chaos.call(Chaos.Op.BLOB_LIST, prefix, () -> delegate.list(prefix, consumer));
    }

    @Override
    public CompletionStage<Void> set(String key, byte[] value) {
        return chaos.call(Chaos.Op.BLOB_SET, key, () -> delegate.set(key, value));
    }

    @Override
    public CompletionStage<OptionalLong> delete(String key) {
        return chaos.call(Chaos.Op.BLOB_DELETE, key, () -> delegate.delete(key));
    }

    @Override
    public CompletionStage<Void> restore(String key) {
        return chaos.call(Chaos.Op.BLOB_RESTORE, key, () -> delegate.restore(key));
    }
}
