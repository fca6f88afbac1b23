package io.stateversions.location.s3;

import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.nio.netty.NettyNioAsyncHttpClient;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsRegionProvider;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.S3AsyncClientBuilder;

/** Builds the S3 client of a location whose URL carries client settings (see {@link S3Location}). */
public final class S3Clients {

    private S3Clients() {}

    /** Timeouts of one client (persist's defaults, spec §8.2). */
    public record Timeouts(Duration operation, Duration attempt, Duration connect, Duration read) {}

    /**
     * Checks that an S3 client built for {@code redactedUrl} without an explicit region finds one in {@code regions}
     * (the SDK's default chain: {@code AWS_REGION}, {@code aws.region}, the profile, instance metadata), so that a
     * missing region is a start-up error naming the keys to set rather than the SDK's chain of provider messages, or
     * later failures that do not mention the region at all.
     *
     * @param regionKey the configuration key the client reads its region from besides the SDK's chain, if any
     * @throws IllegalArgumentException naming {@code regionKey}, {@code AWS_REGION} and the URL's own {@code region}
     *         and {@code endpoint} parameters
     */
    public static void requireRegion(String redactedUrl, Optional<String> regionKey, AwsRegionProvider regions) {
        Region region;
        try {
            region = regions.getRegion();
        } catch (SdkClientException none) {
            region = null;
        }
        if (region == null) {
            throw new IllegalArgumentException("blob URL " + redactedUrl + " names no S3 region and none is configured:"
                    + " for AWS S3 set " + regionKey.map(key -> key + " or ").orElse("") + "AWS_REGION, or add"
                    + " ?region=<region> to the URL"
                    + " (stateversions.blob.url); for an S3-compatible store add ?endpoint=<url> to the URL"
                    + " (its region then defaults to us-east-1)");
        }
    }

    /** {@link #requireRegion(String, Optional, AwsRegionProvider)} with the SDK's default chain. */
    public static void requireRegion(String redactedUrl, Optional<String> regionKey) {
        requireRegion(redactedUrl, regionKey, DefaultAwsRegionProviderChain.builder().build());
    }

    /**
     * A client for {@code location}. Region: the URL's, else {@code us-east-1} when an endpoint is given (S3-compatible
     * servers ignore it), else the SDK's default chain ({@code AWS_REGION}, profile, instance metadata). Credentials:
     * the URL's, else the SDK's default chain.
     */
    public static S3AsyncClient create(S3Location location, Timeouts timeouts) {
        AwsCredentialsProvider credentials = location.accessKeyId().isPresent()
                ? StaticCredentialsProvider.create(AwsBasicCredentials.create(location.accessKeyId().get(),
                        location.secretAccessKey().orElseThrow()))
                : DefaultCredentialsProvider.builder().build();
        S3AsyncClientBuilder builder = S3AsyncClient.builder()
                .httpClientBuilder(NettyNioAsyncHttpClient.builder()
                        .connectionTimeout(timeouts.connect())
                        .readTimeout(timeouts.read()))
                .credentialsProvider(credentials)
                .forcePathStyle(location.pathStyle())
                .overrideConfiguration(o -> o.apiCallTimeout(timeouts.operation()).apiCallAttemptTimeout(timeouts.attempt()));
        location.endpoint().ifPresent(builder::endpointOverride);
        if (location.region().isPresent()) {
            builder.region(Region.of(location.region().get()));
        } else if (location.endpoint().isPresent()) {
            builder.region(Region.US_EAST_1);
        }
        return builder.build();
    }
}
