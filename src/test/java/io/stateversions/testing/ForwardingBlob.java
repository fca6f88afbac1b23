package io.stateversions.testing;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/** A {@link Blob} that forwards every call to another: subclasses override the calls they observe or delay. */
public abstract class ForwardingBlob implements Blob {

    protected final Blob delegate;

    protected ForwardingBlob(Blob delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    @Override
    public CompletionStage<Optional<byte[]>> get(String key) {
        return delegate.get(key);
    }

    @Override
    public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
        return delegate.list(prefix, consumer);
    }

    @Override
    public CompletionStage<Void> set(String key, byte[] value) {
        return delegate.set(key, value);
    }

    @Override
    public CompletionStage<OptionalLong> delete(String key) {
        return delegate.delete(key);
    }

    @Override
    public CompletionStage<Void> restore(String key) {
        return delegate.restore(key);
    }
}
