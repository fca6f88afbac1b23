package io.stateversions.location.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class S3LocationTest {

    @Test
    void aPlainUrlUsesTheManagedClient() {
        S3Location location = S3Location.parse("s3://my-bucket/state/prod/");
        assertThat(location.bucket()).isEqualTo("my-bucket");
        assertThat(location.prefix()).isEqualTo("state/prod");
        assertThat(location.needsOwnClient()).isFalse();
        assertThat(S3Location.parse("s3://my-bucket").prefix()).isEmpty();
    }

    @Test
    void clientSettingsComeFromTheUrl() {
        S3Location location = S3Location.parse(
                "s3://AKID:se%2Fcret@my.bucket/p?endpoint=http://minio:9000&region=eu-west-1&path-style=true");
        assertThat(location.bucket()).isEqualTo("my.bucket");
        assertThat(location.endpoint()).contains(URI.create("http://minio:9000"));
        assertThat(location.region()).contains("eu-west-1");
        assertThat(location.pathStyle()).isTrue();
        assertThat(location.accessKeyId()).contains("AKID");
        assertThat(location.secretAccessKey()).contains("se/cret");
        assertThat(location.needsOwnClient()).isTrue();
        assertThat(S3Location.parse("s3://b/p?path-style").pathStyle()).isTrue();
        assertThat(S3Location.parse("s3://b/p?region=us-east-2").endpoint()).isEqualTo(Optional.empty());
    }

    @Test
    void badUrlsAreRejectedWithoutLeakingTheSecret() {
        assertThatThrownBy(() -> S3Location.parse("s3://AKID:topsecret@b/p?role_arn=x"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("unknown parameter 'role_arn'")
                .hasMessageContaining("endpoint, path-style, region")
                .hasMessageNotContaining("topsecret");
        assertThatThrownBy(() -> S3Location.parse("s3://b/p?path-style=yes")).hasMessageContaining("true or false");
        assertThatThrownBy(() -> S3Location.parse("s3:///p")).hasMessageContaining("expected s3://bucket");
        assertThatThrownBy(() -> S3Location.parse("s3://b/p?endpoint=minio:9000")).hasMessageContaining("invalid endpoint");
        assertThatThrownBy(() -> S3Location.parse("s3://AKID@b/p")).hasMessageContaining("access-key:secret-key");
    }
}
