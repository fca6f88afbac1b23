package io.stateversions.metrics;

import io.opentelemetry.api.trace.Span;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.metrics.Metrics.BlobOp;
import io.stateversions.metrics.Metrics.Outcome;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/** Times every {@link Blob} operation by outcome, counts the bytes it moves, and traces it ({@link StorageSpans}). */
public final class MeteredBlob implements Blob {

    private static final String STORE = "blob";

    private final Blob delegate;
    private final Metrics metrics;
    private final StorageSpans spans;

    public MeteredBlob(Blob delegate, Metrics metrics) {
        this(delegate, metrics, StorageSpans.OFF);
    }

    public MeteredBlob(Blob delegate, Metrics metrics, StorageSpans spans) {
        this.delegate = delegate;
        this.metrics = metrics;
        this.spans = spans;
    }

    /** The backend behind the meters. */
    public Blob delegate() {
        return delegate;
    }

    @Override
    public CompletionStage<Optional<byte[]>> get(String key) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "get", key);
        return delegate.get(key).whenComplete((value, error) -> {
            Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
            metrics.blob(BlobOp.GET, outcome, System.nanoTime() - start);
            StorageSpans.end(span, outcome, error);
            if (value != null && value.isPresent()) {
                metrics.blobBytesRead(value.get().length);
            }
        });
    }

    @Override
    public CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "list", prefix);
        return delegate.list(prefix, consumer).whenComplete((done, error) -> done(BlobOp.LIST, start, span, error));
    }

    @Override
    public CompletionStage<Void> set(String key, byte[] value) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "set", key);
        return delegate.set(key, value).whenComplete((done, error) -> {
            done(BlobOp.SET, start, span, error);
            if (error == null) {
                metrics.blobBytesWritten(value.length);
            }
        });
    }

    @Override
    public CompletionStage<OptionalLong> delete(String key) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "delete", key);
        return delegate.delete(key).whenComplete((size, error) -> done(BlobOp.DELETE, start, span, error));
    }

    @Override
    public CompletionStage<Void> restore(String key) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "restore", key);
        return delegate.restore(key).whenComplete((done, error) -> done(BlobOp.RESTORE, start, span, error));
    }

    private void done(BlobOp op, long start, Span span, Throwable error) {
        Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
        metrics.blob(op, outcome, System.nanoTime() - start);
        StorageSpans.end(span, outcome, error);
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
