package io.stateversions.location;

/**
 * A key reported by {@link Blob#list}, with the size of its value and when that value was written.
 *
 * @param lastModifiedMs when the value was stored, in milliseconds since the epoch, by the backend's clock and at its
 *                       resolution (S3 reports whole seconds, file systems stamp with a clock that may lag the JVM's
 *                       by a tick): never later than the {@link Blob#set} returned, at most about a second earlier
 *                       than it was called. A restored value keeps the time it was written.
 */
public record BlobMetadata(String key, long sizeBytes, long lastModifiedMs) {}
