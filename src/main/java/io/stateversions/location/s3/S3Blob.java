package io.stateversions.location.s3;

import io.stateversions.location.AbstractBlob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jboss.logging.Logger;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.DeleteMarkerEntry;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectVersionsResponse;
import software.amazon.awssdk.services.s3.model.ObjectVersion;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * {@link io.stateversions.location.Blob} on S3 or an S3-compatible server (URL
 * {@code s3://bucket/prefix?endpoint=&region=&path-style=}), through the AWS SDK v2 async client (spec §8.2).
 *
 * <ul>
 *   <li>A blob key {@code k} is the object {@code <prefix>/k} (just {@code k} without a prefix); listings strip the
 *       prefix, so locations with different prefixes are isolated.</li>
 *   <li>Values above 8 MiB are uploaded in parts of 8 MiB (larger when needed to stay within 10,000 parts),
 *       concurrently; a failed upload is aborted.</li>
 *   <li>A get asks for the first 8 MiB; if the object is larger it fetches the remaining byte ranges concurrently,
 *       each conditional on the first answer's ETag, so a concurrent overwrite restarts the read instead of mixing
 *       two values. (Ranges rather than persist's part numbers: every S3-compatible server supports them.)</li>
 *   <li>A delete is a HEAD for the size, then a DELETE. A restore removes delete markers of a versioned bucket
 *       until a version is current again.</li>
 *   <li>A key's last-modified time is the object's {@code LastModified} as listed: whole seconds, by the server's
 *       clock (for a multipart upload, when the upload started).</li>
 * </ul>
 */
public final class S3Blob extends AbstractBlob {

    private static final Logger LOG = Logger.getLogger(S3Blob.class);

    static final int MULTIPART_THRESHOLD_BYTES = 8 << 20;
    static final int MIN_PART_BYTES = 8 << 20;
    static final int MAX_PARTS = 10_000;
    private static final int RANGE_BYTES = 8 << 20;
    private static final int MAX_READ_ATTEMPTS = 5;
    private static final int MAX_RESTORE_STEPS = 100;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+)");

    private final S3AsyncClient client;
    private final boolean ownsClient;
    private final String bucket;
    /** The prefix of every object key: {@code "<prefix>/"}, or {@code ""}. */
    private final String keyPrefix;

    /**
     * @param prefix the location's prefix without leading or trailing slashes, or {@code ""}
     * @param ownsClient whether {@link #close()} closes the client
     */
    public S3Blob(S3AsyncClient client, boolean ownsClient, String bucket, String prefix) {
        this.client = client;
        this.ownsClient = ownsClient;
        this.bucket = bucket;
        this.keyPrefix = prefix.isEmpty() ? "" : prefix + "/";
    }

    @Override
    protected CompletionStage<Optional<byte[]>> doGet(String key) {
        return read(objectKey(key), 1);
    }

    private CompletableFuture<Optional<byte[]>> read(String objectKey, int attempt) {
        return client.getObject(b -> b.bucket(bucket).key(objectKey).range("bytes=0-" + (RANGE_BYTES - 1)),
                        AsyncResponseTransformer.toBytes())
                .thenCompose(first -> rest(objectKey, first, attempt))
                .exceptionallyCompose(error -> switch (S3Errors.status(error)) {
                    case 404 -> CompletableFuture.completedFuture(Optional.empty());
                    // A range of an empty object is unsatisfiable: ask for the whole (empty) object.
                    case 416 -> client.getObject(b -> b.bucket(bucket).key(objectKey), AsyncResponseTransformer.toBytes())
                            .thenApply(whole -> Optional.of(whole.asByteArrayUnsafe()))
                            .exceptionallyCompose(wholeError -> S3Errors.status(wholeError) == 404
                                    ? CompletableFuture.completedFuture(Optional.empty())
                                    : CompletableFuture.failedFuture(S3Errors.classify("get " + objectKey, wholeError)));
                    default -> CompletableFuture.failedFuture(S3Errors.classify("get " + objectKey, error));
                });
    }

    /** Completes a read whose first range is {@code first}: fetches the other ranges, if any, concurrently. */
    private CompletableFuture<Optional<byte[]>> rest(String objectKey, ResponseBytes<GetObjectResponse> first,
            int attempt) {
        byte[] head = first.asByteArrayUnsafe();
        String contentRange = first.response().contentRange();
        if (contentRange == null) {
            return CompletableFuture.completedFuture(Optional.of(head)); // the server answered with the whole object
        }
        Matcher range = CONTENT_RANGE.matcher(contentRange);
        if (!range.matches()) {
            return CompletableFuture.failedFuture(
                    new Indeterminate("s3 get " + objectKey + ": unexpected Content-Range " + contentRange));
        }
        long total = Long.parseLong(range.group(3));
        if (total == head.length) {
            return CompletableFuture.completedFuture(Optional.of(head));
        }
        if (total > Integer.MAX_VALUE - 8) {
            return CompletableFuture.failedFuture(new ContractViolation(
                    "s3 get " + objectKey + ": " + total + " bytes do not fit in one value"));
        }
        byte[] value = new byte[(int) total];
        System.arraycopy(head, 0, value, 0, head.length);
        String eTag = first.response().eTag();
        List<CompletableFuture<Void>> ranges = new ArrayList<>();
        for (long start = head.length; start < total; start += RANGE_BYTES) {
            long end = Math.min(total, start + RANGE_BYTES) - 1;
            int offset = (int) start;
            int length = (int) (end - start + 1);
            ranges.add(client.getObject(b -> b.bucket(bucket).key(objectKey).range("bytes=" + offset + "-" + end)
                                    .ifMatch(eTag), AsyncResponseTransformer.toBytes())
                    .thenAccept(part -> {
                        byte[] bytes = part.asByteArrayUnsafe();
                        if (bytes.length != length) {
                            throw new Indeterminate("s3 get " + objectKey + ": range at " + offset + " returned "
                                    + bytes.length + " bytes, expected " + length);
                        }
                        System.arraycopy(bytes, 0, value, offset, length);
                    }));
        }
        return CompletableFuture.allOf(ranges.toArray(CompletableFuture[]::new))
                .thenApply(done -> Optional.of(value))
                .exceptionallyCompose(error -> {
                    int status = S3Errors.status(error);
                    // 412: overwritten since the first range; 404: deleted since. Either way, read it anew.
                    if ((status == 412 || status == 404) && attempt < MAX_READ_ATTEMPTS) {
                        return read(objectKey, attempt + 1);
                    }
                    return CompletableFuture.failedFuture(S3Errors.classify("get " + objectKey, error));
                });
    }

    @Override
    protected CompletionStage<Void> doList(String prefix, Consumer<BlobMetadata> consumer) {
        String listPrefix = keyPrefix + prefix;
        // A failure of the consumer is the caller's, not S3's: it is passed on as it is, never classified.
        AtomicReference<RuntimeException> consumerFailure = new AtomicReference<>();
        return client.listObjectsV2Paginator(b -> b.bucket(bucket).prefix(listPrefix))
                .subscribe(page -> {
                    for (S3Object object : page.contents()) {
                        if (!object.key().startsWith(keyPrefix)) {
                            throw new Indeterminate("s3 list " + listPrefix + ": server returned " + object.key()
                                    + ", which lacks the prefix " + keyPrefix);
                        }
                        if (object.lastModified() == null || object.size() == null) {
                            throw new Indeterminate("s3 list " + listPrefix + ": server returned " + object.key()
                                    + " without its size or last-modified time");
                        }
                        try {
                            consumer.accept(new BlobMetadata(object.key().substring(keyPrefix.length()), object.size(),
                                    object.lastModified().toEpochMilli()));
                        } catch (RuntimeException e) {
                            consumerFailure.set(e);
                            throw e;
                        }
                    }
                })
                .exceptionallyCompose(error -> CompletableFuture.failedFuture(consumerFailure.get() != null
                        ? consumerFailure.get() : S3Errors.classify("list " + listPrefix, error)));
    }

    @Override
    protected CompletionStage<Void> doSet(String key, byte[] value) {
        String objectKey = objectKey(key);
        CompletableFuture<Void> upload = value.length <= MULTIPART_THRESHOLD_BYTES
                ? client.putObject(b -> b.bucket(bucket).key(objectKey).contentLength((long) value.length),
                        AsyncRequestBody.fromBytesUnsafe(value)).thenApply(response -> null)
                : multipartUpload(objectKey, value);
        return upload.exceptionallyCompose(error ->
                CompletableFuture.failedFuture(S3Errors.classify("set " + objectKey, error)));
    }

    private CompletableFuture<Void> multipartUpload(String objectKey, byte[] value) {
        long partBytes = Math.max(MIN_PART_BYTES, (value.length + MAX_PARTS - 1L) / MAX_PARTS);
        return client.createMultipartUpload(b -> b.bucket(bucket).key(objectKey)).thenCompose(created -> {
            String uploadId = created.uploadId();
            List<CompletableFuture<CompletedPart>> parts = new ArrayList<>();
            for (int number = 1; (number - 1L) * partBytes < value.length; number++) {
                int offset = (int) ((number - 1L) * partBytes);
                int length = (int) Math.min(partBytes, value.length - offset);
                int partNumber = number;
                parts.add(client.uploadPart(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId)
                                        .partNumber(partNumber).contentLength((long) length),
                                AsyncRequestBody.fromRemainingByteBufferUnsafe(ByteBuffer.wrap(value, offset, length)))
                        .thenApply(uploaded -> CompletedPart.builder().partNumber(partNumber).eTag(uploaded.eTag())
                                .build()));
            }
            return CompletableFuture.allOf(parts.toArray(CompletableFuture[]::new))
                    .thenCompose(uploaded -> client.completeMultipartUpload(b -> b.bucket(bucket).key(objectKey)
                            .uploadId(uploadId)
                            .multipartUpload(m -> m.parts(parts.stream().map(CompletableFuture::join)
                                    .sorted(Comparator.comparing(CompletedPart::partNumber)).toList()))))
                    .<Void>thenApply(completed -> null)
                    .exceptionallyCompose(error -> {
                        // Free the uploaded parts now rather than leaving them to a bucket lifecycle rule.
                        client.abortMultipartUpload(b -> b.bucket(bucket).key(objectKey).uploadId(uploadId))
                                .whenComplete((aborted, abortError) -> {
                                    if (abortError != null) {
                                        LOG.debugf("Could not abort upload %s of %s: %s", uploadId, objectKey, abortError);
                                    }
                                });
                        return CompletableFuture.failedFuture(error);
                    });
        });
    }

    @Override
    protected CompletionStage<OptionalLong> doDelete(String key) {
        String objectKey = objectKey(key);
        return client.headObject(b -> b.bucket(bucket).key(objectKey))
                .thenCompose(head -> client.deleteObject(b -> b.bucket(bucket).key(objectKey))
                        .thenApply(deleted -> OptionalLong.of(head.contentLength())))
                .exceptionallyCompose(error -> S3Errors.status(error) == 404
                        ? CompletableFuture.completedFuture(OptionalLong.empty())
                        : CompletableFuture.failedFuture(S3Errors.classify("delete " + objectKey, error)));
    }

    @Override
    protected CompletionStage<Void> doRestore(String key) {
        String objectKey = objectKey(key);
        return restoreStep(objectKey, 1)
                .exceptionallyCompose(error -> {
                    if (S3Errors.status(error) == 501) {
                        // The server keeps no versions: restoring succeeds iff the object exists.
                        return client.headObject(b -> b.bucket(bucket).key(objectKey)).<Void>thenApply(head -> null)
                                .exceptionallyCompose(headError -> CompletableFuture.failedFuture(S3Errors.status(headError) == 404
                                        ? new Determinate("cannot restore " + objectKey + ": it does not exist and the"
                                                + " server keeps no versions")
                                        : S3Errors.classify("restore " + objectKey, headError)));
                    }
                    return CompletableFuture.failedFuture(S3Errors.classify("restore " + objectKey, error));
                });
    }

    /** Removes the latest delete marker of the object, repeatedly, until a version is current. */
    private CompletableFuture<Void> restoreStep(String objectKey, int step) {
        return client.listObjectVersions(b -> b.bucket(bucket).prefix(objectKey)).thenCompose(listing -> {
            if (latestVersion(listing, objectKey) != null) {
                return CompletableFuture.completedFuture(null);
            }
            DeleteMarkerEntry marker = latestDeleteMarker(listing, objectKey);
            if (marker == null) {
                return CompletableFuture.failedFuture(new Determinate("cannot restore " + objectKey
                        + ": it has neither a current version nor a delete marker"));
            }
            if (step > MAX_RESTORE_STEPS) {
                return CompletableFuture.failedFuture(new Determinate("cannot restore " + objectKey + ": still deleted"
                        + " after removing " + MAX_RESTORE_STEPS + " delete markers"));
            }
            return client.deleteObject(b -> b.bucket(bucket).key(objectKey).versionId(marker.versionId()))
                    .thenCompose(removed -> restoreStep(objectKey, step + 1));
        });
    }

    private static ObjectVersion latestVersion(ListObjectVersionsResponse listing, String objectKey) {
        for (ObjectVersion version : listing.versions()) {
            if (version.key().equals(objectKey) && Boolean.TRUE.equals(version.isLatest())) {
                return version;
            }
        }
        return null;
    }

    private static DeleteMarkerEntry latestDeleteMarker(ListObjectVersionsResponse listing, String objectKey) {
        for (DeleteMarkerEntry marker : listing.deleteMarkers()) {
            if (marker.key().equals(objectKey) && Boolean.TRUE.equals(marker.isLatest())) {
                return marker;
            }
        }
        return null;
    }

    private String objectKey(String key) {
        return keyPrefix + key;
    }

    @Override
    public void close() {
        if (ownsClient) {
            client.close();
        }
    }

    @Override
    public String toString() {
        return "S3Blob{s3://" + bucket + "/" + keyPrefix + "}";
    }
}
