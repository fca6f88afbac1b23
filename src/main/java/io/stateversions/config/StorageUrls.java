package io.stateversions.config;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.UrlQuery;
import io.stateversions.location.file.FileBlob;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.location.s3.S3Blob;
import io.stateversions.location.s3.S3Clients;
import io.stateversions.location.s3.S3Location;
import io.vertx.core.Vertx;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The one mapping of storage URLs to backends (spec §7.6): {@code postgres://} / {@code postgresql://} and
 * {@code mem://} for Consensus, {@code s3://}, {@code file://} and {@code mem://} for Blob. The service's producer
 * opens its stores through it, and so does the command-line tool's offline mode, which runs without Quarkus.
 * Unknown URL parameters are errors, and no error quotes a password.
 */
public final class StorageUrls {

    private StorageUrls() {}

    /**
     * An opened store.
     *
     * @param location  where it is, for logs and messages (passwords redacted)
     * @param inProcess it lives in this process only ({@code mem://})
     */
    public record Opened<T>(T store, String location, boolean inProcess) {}

    /**
     * The Consensus of {@code url}. A PostgreSQL pool runs on {@code vertx} with {@code settings};
     * {@code afterClose} runs once it is closed.
     */
    public static Opened<Consensus> consensus(String url, Vertx vertx, PostgresPools.Settings settings,
            Runnable afterClose) {
        String redacted = UrlQuery.redact(url);
        URI uri = parse(url, "consensus");
        return switch (scheme(uri)) {
            case "mem" -> {
                UrlQuery.parse(uri, redacted, Set.of());
                yield new Opened<>(new MemoryConsensus(), redacted, true);
            }
            case "postgres", "postgresql" ->
                    new Opened<>(PostgresPools.consensus(vertx, url, settings, afterClose), redacted, false);
            default -> throw new IllegalArgumentException("unsupported consensus URL " + redacted
                    + ": expected postgres://, postgresql:// or mem://");
        };
    }

    /**
     * The Blob of {@code url}. An {@code s3://} URL with client settings (endpoint, region, credentials) gets a client
     * of its own with {@code s3Timeouts}; one without uses {@code managedS3}.
     */
    public static Opened<Blob> blob(String url, S3Clients.Timeouts s3Timeouts, int fileIoThreads,
            Supplier<S3AsyncClient> managedS3) {
        String redacted = UrlQuery.redact(url);
        URI uri = parse(url, "blob");
        return switch (scheme(uri)) {
            case "mem" -> {
                boolean tombstone = UrlQuery.parse(uri, redacted, Set.of("tombstone")).flag("tombstone", true);
                yield new Opened<>(new MemoryBlob(tombstone), redacted, true);
            }
            case "file" -> {
                boolean tombstone = UrlQuery.parse(uri, redacted, Set.of("tombstone")).flag("tombstone", false);
                yield fileBlob(fileDirectory(uri, redacted), tombstone, fileIoThreads);
            }
            case "s3" -> {
                S3Location location = S3Location.parse(url);
                S3AsyncClient client;
                if (location.needsOwnClient()) {
                    if (location.region().isEmpty() && location.endpoint().isEmpty()) {
                        S3Clients.requireRegion(redacted, Optional.empty());
                    }
                    client = S3Clients.create(location, s3Timeouts);
                } else {
                    client = managedS3.get();
                }
                yield new Opened<>(new S3Blob(client, location.needsOwnClient(), location.bucket(),
                        location.prefix()), redacted, false);
            }
            default -> throw new IllegalArgumentException("unsupported blob URL " + redacted
                    + ": expected s3://, file:// or mem://");
        };
    }

    /** A file store in {@code dir} (created if missing). */
    public static Opened<Blob> fileBlob(Path dir, boolean tombstone, int fileIoThreads) {
        FileBlob blob = FileBlob.open(dir, tombstone, fileIoThreads);
        return new Opened<>(blob, "file://" + blob.root() + (tombstone ? " (tombstone mode)" : ""), false);
    }

    /**
     * The directory of a {@code file://} blob URL, which must be absolute: {@code file:///var/lib/blobs}. In
     * {@code file://relative/dir} the first segment is the URL's host, so the directory would silently be
     * {@code /dir}; such a URL is refused, naming what to write instead.
     */
    static Path fileDirectory(URI uri, String redacted) {
        String host = uri.getRawAuthority();
        if (host != null && !host.isEmpty() && !host.equals("localhost")) {
            throw new IllegalArgumentException("invalid blob URL " + redacted + ": \"" + host + "\" is read as a host"
                    + " name, and file URLs name an absolute directory on this machine; write file:///absolute/directory"
                    + " (three slashes), e.g. file://" + Path.of(host + uri.getRawPath()).toAbsolutePath());
        }
        if (uri.getPath() == null || !uri.getPath().startsWith("/")) {
            throw new IllegalArgumentException("invalid blob URL " + redacted + ": expected file:///absolute/directory");
        }
        return Path.of(URI.create("file://" + uri.getRawPath()));
    }

    /**
     * {@code url} as a URI. {@code mem://}, as the configuration documents it, has no authority, which
     * {@code java.net.URI} refuses; it is read as {@code mem:///} (with its query, if any).
     */
    public static URI parse(String url, String what) {
        String normalized = url.startsWith("mem://") && !url.startsWith("mem:///")
                ? "mem:///" + url.substring("mem://".length()) : url;
        try {
            return new URI(normalized);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("invalid " + what + " URL " + UrlQuery.redact(url) + ": "
                    + UrlQuery.failureMessage(url, e));
        }
    }

    /** The URL's scheme in lower case, or empty. */
    public static String scheme(URI uri) {
        return uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    }
}
