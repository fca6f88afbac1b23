package io.stateversions.metrics;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.metrics.Metrics.BlobOp;
import io.stateversions.metrics.Metrics.Outcome;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/** Times every {@link Blob} operation by outcome, and counts the bytes it moves. */
public final class MeteredBlob implements Blob {

    private final Blob delegate;
    private final Metrics metrics;

    public MeteredBlob(Blob delegate, Metrics metrics) {
        this.delegate = delegate;
        this.metrics = metrics;
    }

    /** The backend behind the meters. */
    public Blob delegate() {
        return delegate;
    }

    @Override
    public CompletionStage<Optional<byte[]>> get(String key) {
        long start = System.nanoTime();
        return delegate.get(key).whenComplete((value, error) -> {
            metrics.blob(BlobOp.GET, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start);
            if (value != null && value.isPresent()) {
                metrics.blobBytesRead(value.get().length);
            }
        });
    }

    @Override
    public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
        long start = System.nanoTime();
        return delegate.list(prefix, consumer).whenComplete((done, error) ->
                metrics.blob(BlobOp.LIST, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start));
    }

    @Override
    public CompletionStage<Void> set(String key, byte[] value) {
        long start = System.nanoTime();
        return delegate.set(key, value).whenComplete((done, error) -> {
            metrics.blob(BlobOp.SET, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start);
            if (error == null) {
                metrics.blobBytesWritten(value.length);
            }
        });
    }

    @Override
    public CompletionStage<OptionalLong> delete(String key) {
        long start = System.nanoTime();
        return delegate.delete(key).whenComplete((size, error) ->
                metrics.blob(BlobOp.DELETE, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start));
    }

    @Override
    public CompletionStage<Void> restore(String key) {
        long start = System.nanoTime();
        return delegate.restore(key).whenComplete((done, error) ->
                metrics.blob(BlobOp.RESTORE, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start));
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
