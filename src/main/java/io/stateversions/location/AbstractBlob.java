package io.stateversions.location;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The argument checks of the {@link Blob} contract, done once for every backend, with every failure reported
 * through the returned stage (see {@link AbstractConsensus}).
 */
public abstract class AbstractBlob implements Blob {

    @Override
    public final CompletionStage<Optional<byte[]>> get(String key) {
        try {
            checkKey(key);
            return doGet(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<Void> list(String prefix, Consumer<BlobMetadata> consumer) {
        try {
            Objects.requireNonNull(prefix, "prefix");
            Objects.requireNonNull(consumer, "consumer");
            return doList(prefix, consumer);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<Void> set(String key, byte[] value) {
        try {
            checkKey(key);
            Objects.requireNonNull(value, "value");
            return doSet(key, value);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<OptionalLong> delete(String key) {
        try {
            checkKey(key);
            return doDelete(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<Void> restore(String key) {
        try {
            checkKey(key);
            return doRestore(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    protected abstract CompletionStage<Optional<byte[]>> doGet(String key);

    protected abstract CompletionStage<Void> doList(String prefix, Consumer<BlobMetadata> consumer);

    protected abstract CompletionStage<Void> doSet(String key, byte[] value);

    protected abstract CompletionStage<OptionalLong> doDelete(String key);

    protected abstract CompletionStage<Void> doRestore(String key);

    /**
     * Keys are one or more segments separated by {@code /}, none of them empty, {@code .} or {@code ..}:
     * S3-compatible servers (MinIO, S3Proxy) and file systems take a trailing slash for a directory and normalize
     * empty and dot segments like paths, so such keys would not round-trip. Persist's keys
     * ({@code shard/writer/part}, {@code shard/v1/rollup}) always qualify.
     */
    static void checkKey(String key) {
        AbstractConsensus.checkKey(key);
        int start = 0;
        while (start <= key.length()) {
            int end = key.indexOf('/', start);
            if (end < 0) {
                end = key.length();
            }
            int length = end - start;
            if (length == 0 || (length <= 2 && key.startsWith(length == 1 ? "." : "..", start))) {
                throw new ContractViolation("blob key segments must not be empty, '.' or '..': " + key);
            }
            start = end + 1;
        }
    }
}
