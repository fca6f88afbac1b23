package io.stateversions.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.location.s3.S3Clients;
import java.net.URI;
import java.util.Optional;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsRegionProvider;
import org.junit.jupiter.api.Test;

/** How storage URLs are read before a backend is chosen. */
class StorageUrlTest {

    @Test
    void memUrlsAreAcceptedWithTwoSlashesOrThreeAndKeepTheirQuery() {
        for (String url : new String[] {"mem://", "mem:///"}) {
            URI uri = StorageProducer.parse(url, "blob");
            assertThat(uri.getScheme()).as(url).isEqualTo("mem");
            assertThat(uri.getQuery()).as(url).isNull();
        }
        assertThat(StorageProducer.parse("mem://?tombstone=false", "blob").getQuery()).isEqualTo("tombstone=false");
        assertThat(StorageProducer.parse("mem:///?tombstone=false", "blob").getQuery()).isEqualTo("tombstone=false");
    }

    @Test
    void otherUrlsAreReadAsTheyAreAndBadOnesNameTheStoreWithoutTheirPassword() {
        assertThat(StorageProducer.parse("s3://bucket/prefix?region=eu-west-1", "blob").getHost()).isEqualTo("bucket");
        assertThatThrownBy(() -> StorageProducer.parse("postgres://u:hunter2@db/x y", "consensus"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid consensus URL")
                .hasMessageNotContaining("hunter2");
    }

    @Test
    void fileUrlsNameAnAbsoluteDirectoryAndARelativeOneIsRefusedNotReadAsRoot() {
        assertThat(StorageProducer.fileDirectory(URI.create("file:///var/lib/blobs"), "file:///var/lib/blobs"))
                .isEqualTo(java.nio.file.Path.of("/var/lib/blobs"));
        assertThat(StorageProducer.fileDirectory(URI.create("file://localhost/var/lib/blobs"), "x"))
                .isEqualTo(java.nio.file.Path.of("/var/lib/blobs"));
        assertThatThrownBy(() -> StorageProducer.fileDirectory(URI.create("file://relative/dir"), "file://relative/dir"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("invalid blob URL file://relative/dir")
                .hasMessageContaining("\"relative\" is read as a host name")
                .hasMessageContaining("file:///absolute/directory");
        assertThatThrownBy(() -> StorageProducer.fileDirectory(URI.create("file:relative"), "file:relative"))
                .hasMessageContaining("expected file:///absolute/directory");
    }

    @Test
    void noParseErrorOfAStorageUrlQuotesItsPassword() {
        assertThatThrownBy(() -> io.stateversions.location.postgres.PostgresPools.connectOptions(
                "postgres://u:hunter2@db/x y")).hasMessageContaining("invalid consensus URL")
                .hasMessageNotContaining("hunter2");
        assertThatThrownBy(() -> io.stateversions.location.s3.S3Location.parse("s3://key:hunter2@bucket/a b"))
                .hasMessageContaining("invalid blob URL").hasMessageNotContaining("hunter2");
    }

    @Test
    void anS3UrlThatResolvesNoRegionIsAStartUpErrorNamingTheKeysToSet() {
        AwsRegionProvider none = () -> {
            throw SdkClientException.create("Unable to load region from any of the providers in the chain");
        };
        assertThatThrownBy(() -> S3Clients.requireRegion("s3://bucket", Optional.of("QUARKUS_S3_AWS_REGION"
                + " (quarkus.s3.aws.region)"), none))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("blob URL s3://bucket names no S3 region")
                .hasMessageContaining("QUARKUS_S3_AWS_REGION (quarkus.s3.aws.region) or AWS_REGION")
                .hasMessageContaining("?region=<region>")
                .hasMessageContaining("?endpoint=<url>");
        assertThatThrownBy(() -> S3Clients.requireRegion("s3://bucket", Optional.empty(), () -> null))
                .hasMessageContaining("set AWS_REGION, or add ?region=<region>");
        S3Clients.requireRegion("s3://bucket", Optional.empty(), () -> Region.EU_WEST_1); // found: no error
    }
}
