package io.stateversions.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.bench.BenchSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The JVM options the service ships with are the same in every way of running it: each {@code java … -jar} command
 * of the README, the container image's {@code JAVA_OPTS} (README "Memory") and the benchmark's service processes; the
 * Kubernetes ConfigMap adds to them with {@code JAVA_OPTS_APPEND} and does not replace them with a {@code JAVA_OPTS}
 * of its own. (That the image's entrypoint appends {@code JAVA_OPTS_APPEND}, and that jib builds the same image, is
 * ContainerImageDefinitionsTest's.)
 */
class ShippedJvmOptionsTest {

    static final List<String> SHIPPED = List.of("-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Xmx512m",
            "-XX:+ExitOnOutOfMemoryError");

    @Test
    void the_readme_the_image_and_the_manifests_run_the_service_with_the_same_jvm_options() throws IOException {
        List<String> readmeCommands = matches(Files.readString(Path.of("README.md")),
                "java((?: -[^ `]+)*) -jar target/quarkus-app/quarkus-run\\.jar");
        assertThat(readmeCommands).as("java commands in README.md").hasSizeGreaterThanOrEqualTo(3);
        for (String options : readmeCommands) {
            assertThat(jvmOptions(options)).as("README: java%s -jar", options).isEqualTo(SHIPPED);
        }
        String image = single(Files.readString(Path.of("src/main/docker/Dockerfile.jvm")),
                "(?m)^ENV JAVA_OPTS=\"([^\"]*)\"$");
        assertThat(jvmOptions(image)).as("Dockerfile.jvm JAVA_OPTS").isEqualTo(SHIPPED);
        String configMap = Files.readString(Path.of("k8s/configmap.yaml"));
        assertThat(matches(configMap, "(?m)^  (JAVA_OPTS):")).as("k8s/configmap.yaml JAVA_OPTS, which would replace "
                + "the image's options").isEmpty();
        assertThat(single(configMap, "(?m)^  JAVA_OPTS_APPEND: \"([^\"]*)\"$")).as("k8s/configmap.yaml "
                + "JAVA_OPTS_APPEND, added to the image's options").isEmpty();
        assertThat(BenchSettings.defaults().serviceJvmOptions()).as("the benchmark's service processes")
                .isEqualTo(SHIPPED);
    }

    /** The JVM options among {@code options} (system properties aside), in order. */
    private static List<String> jvmOptions(String options) {
        return Arrays.stream(options.trim().split(" +")).filter(o -> o.startsWith("-X")).toList();
    }

    private static List<String> matches(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        List<String> found = new ArrayList<>();
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    private static String single(String text, String regex) {
        List<String> found = matches(text, regex);
        assertThat(found).as("matches of %s", regex).hasSize(1);
        return found.get(0);
    }
}
