package io.stateversions.location.s3;

import io.stateversions.location.UrlQuery;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

/**
 * A parsed {@code s3://[access-key:secret-key@]bucket[/prefix][?endpoint=&region=&path-style=]} URL.
 *
 * <p>Without any client setting (endpoint, region, path style, credentials) the location uses the S3 client that
 * the Quarkus amazon-s3 extension configures from {@code quarkus.s3.*}; with any of them it gets a client of its
 * own built from the URL.
 */
public record S3Location(String bucket, String prefix, Optional<URI> endpoint, Optional<String> region,
        boolean pathStyle, Optional<String> accessKeyId, Optional<String> secretAccessKey) {

    static final Set<String> PARAMETERS = Set.of("endpoint", "region", "path-style");

    public static S3Location parse(String url) {
        String redacted = UrlQuery.redact(url);
        URI uri;
        try {
            uri = new URI(url);
        } catch (Exception e) {
            throw new IllegalArgumentException("invalid blob URL " + redacted + ": " + UrlQuery.failureMessage(url, e));
        }
        if (!"s3".equals(uri.getScheme()) || uri.getRawAuthority() == null) {
            throw new IllegalArgumentException("invalid blob URL " + redacted + ": expected s3://bucket[/prefix]");
        }
        String authority = uri.getRawAuthority();
        int at = authority.lastIndexOf('@');
        String bucket = decode(at < 0 ? authority : authority.substring(at + 1));
        Optional<String> accessKeyId = Optional.empty();
        Optional<String> secretAccessKey = Optional.empty();
        if (at >= 0) {
            String[] userInfo = authority.substring(0, at).split(":", 2);
            if (userInfo.length != 2 || userInfo[0].isEmpty() || userInfo[1].isEmpty()) {
                throw new IllegalArgumentException("invalid blob URL " + redacted + ": credentials must be access-key:secret-key");
            }
            accessKeyId = Optional.of(decode(userInfo[0]));
            secretAccessKey = Optional.of(decode(userInfo[1]));
        }
        if (bucket.isEmpty()) {
            throw new IllegalArgumentException("invalid blob URL " + redacted + ": the bucket is missing");
        }
        String path = uri.getPath() == null ? "" : uri.getPath();
        String prefix = path.replaceAll("^/+", "").replaceAll("/+$", "");
        UrlQuery query = UrlQuery.parse(uri, redacted, PARAMETERS);
        Optional<URI> endpoint = query.get("endpoint").map(value -> {
            try {
                URI parsed = URI.create(value);
                if (parsed.getScheme() == null || parsed.getHost() == null) {
                    throw new IllegalArgumentException("expected http(s)://host[:port]");
                }
                return parsed;
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("invalid endpoint '" + value + "' in " + redacted + ": " + e.getMessage());
            }
        });
        return new S3Location(bucket, prefix, endpoint, query.get("region"), query.flag("path-style", false),
                accessKeyId, secretAccessKey);
    }

    /** Whether the URL sets anything the client must be built with. */
    public boolean needsOwnClient() {
        return endpoint.isPresent() || region.isPresent() || pathStyle || accessKeyId.isPresent();
    }


    @Override
    public String toString() {
        return "s3://" + bucket + "/" + prefix + endpoint.map(e -> " at " + e).orElse("");
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }
}
