package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.testing.ServiceProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storage configuration that cannot work stops the packaged service at start-up, with a message naming what to set,
 * instead of a process that runs (liveness UP) and fails every request.
 */
class StorageConfigIT {

    /** A refusal needs one JVM start: seconds. The bound leaves room for a loaded machine. */
    private static final Duration EXIT_WITHIN = Duration.ofSeconds(60);

    @TempDir
    Path temp;

    @Test
    void anS3UrlWithoutARegionExitsNamingTheRegionKeys() throws Exception {
        Map<String, String> noRegion = new HashMap<>();
        noRegion.put("AWS_REGION", null);
        noRegion.put("AWS_DEFAULT_REGION", null);
        noRegion.put("QUARKUS_S3_AWS_REGION", null);
        noRegion.put("AWS_CONFIG_FILE", temp.resolve("no-aws-config").toString());
        noRegion.put("AWS_EC2_METADATA_DISABLED", "true"); // no instance metadata to ask on a test machine
        ServiceProcess service = new ServiceProcess("s3-without-region", ServiceProcess.freePort(), temp.resolve("logs"),
                List.of("-Dstateversions.data-dir=" + temp.resolve("data"), "-Dstateversions.consensus.url=mem://",
                        "-Dstateversions.blob.url=s3://state-bucket/prefix"), noRegion);
        try {
            int exit = service.awaitExit(EXIT_WITHIN);
            assertThat(exit).as(service.logExcerpt()).isNotZero();
            assertThat(Files.readString(service.log)).as(service.logExcerpt())
                    .contains("blob URL s3://state-bucket/prefix names no S3 region and none is configured: for AWS S3"
                            + " set QUARKUS_S3_AWS_REGION (quarkus.s3.aws.region) or AWS_REGION, or add"
                            + " ?region=<region> to the URL (stateversions.blob.url); for an S3-compatible store add"
                            + " ?endpoint=<url>")
                    .doesNotContain("UseArnRegion");
        } finally {
            service.stop();
        }
    }
}
