package io.stateversions.location;

/** A key reported by {@link Blob#list}, with the size of its value. */
public record BlobMetadata(String key, long sizeBytes) {}
