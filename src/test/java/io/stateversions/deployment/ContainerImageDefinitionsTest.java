package io.stateversions.deployment;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The two definitions of the container image agree: {@code src/main/docker/Dockerfile.jvm} (for docker or podman
 * build) and the {@code quarkus.jib.*} keys of {@code application.properties} (the image the Maven build makes with
 * no daemon) name the same base image, user, ports, environment and entrypoint; and that entrypoint makes
 * {@code JAVA_OPTS_APPEND} add to the image's {@code JAVA_OPTS} before the base image's start script, which uses a set
 * {@code JAVA_OPTS} as the whole option list ({@code opts=${JAVA_OPTS-… ${JAVA_OPTS_APPEND}}} in run-java.sh).
 */
class ContainerImageDefinitionsTest {

    private static final String RUN_JAVA = "/opt/jboss/container/java/run/run-java.sh";

    @Test
    void the_dockerfile_and_the_jib_configuration_describe_the_same_image() throws IOException {
        String dockerfile = Files.readString(Path.of("src/main/docker/Dockerfile.jvm"));
        Properties jib = new Properties();
        try (Reader reader = Files.newBufferedReader(Path.of("src/main/resources/application.properties"))) {
            jib.load(reader);
        }

        assertThat(jib.getProperty("quarkus.jib.base-jvm-image")).as("base image")
                .isEqualTo(single(dockerfile, "(?m)^FROM (\\S+)$"));
        assertThat(jib.getProperty("quarkus.jib.user")).as("user").isEqualTo(single(dockerfile, "(?m)^USER (\\S+)$"));
        assertThat(Arrays.asList(jib.getProperty("quarkus.jib.ports").split(","))).as("ports")
                .isEqualTo(Arrays.asList(single(dockerfile, "(?m)^EXPOSE (.+)$").trim().split(" +")));

        Map<String, String> dockerEnvironment = new LinkedHashMap<>();
        Matcher env = Pattern.compile("(?m)^ENV (\\w+)=(?:\"([^\"]*)\"|'([^']*)'|(\\S*))$").matcher(dockerfile);
        while (env.find()) {
            String value = env.group(2) != null ? env.group(2) : env.group(3) != null ? env.group(3) : env.group(4);
            dockerEnvironment.put(env.group(1), value);
        }
        Map<String, String> jibEnvironment = new HashMap<>();
        String prefix = "quarkus.jib.environment-variables.";
        for (String key : jib.stringPropertyNames()) {
            if (key.startsWith(prefix)) {
                jibEnvironment.put(key.substring(prefix.length()).replace("\"", ""), jib.getProperty(key));
            }
        }
        assertThat(dockerEnvironment).as("Dockerfile.jvm ENV").containsKeys("JAVA_OPTS", "JAVA_APP_JAR",
                "STATEVERSIONS_DATA_DIR");
        assertThat(jibEnvironment).as("quarkus.jib.environment-variables").isEqualTo(dockerEnvironment);

        assertThat(Arrays.asList(jib.getProperty("quarkus.jib.jvm-entrypoint").split(","))).as("entrypoint")
                .isEqualTo(dockerEntrypoint(dockerfile));
        assertThat(jib.getProperty("quarkus.jib.working-directory")).as("jib working directory, where the Dockerfile "
                + "copies the application").isEqualTo("/deployments");
        assertThat(dockerEnvironment.get("JAVA_APP_JAR")).startsWith("/deployments/");
    }

    @Test
    void java_opts_append_adds_to_the_image_s_options_and_java_opts_replaces_them(@TempDir Path dir)
            throws IOException {
        String dockerfile = Files.readString(Path.of("src/main/docker/Dockerfile.jvm"));
        String imageOptions = single(dockerfile, "(?m)^ENV JAVA_OPTS=\"([^\"]*)\"$");
        // The start script's stand-in prints the option list the real one would use (its JAVA_OPTS, being set).
        Path runJava = dir.resolve("run-java.sh");
        Files.writeString(runJava, "#!/bin/sh\nprintf '%s|' \"$JAVA_OPTS\" \"$@\"\n");
        assertThat(runJava.toFile().setExecutable(true)).isTrue();
        List<String> entrypoint = new ArrayList<>(dockerEntrypoint(dockerfile));
        assertThat(entrypoint.get(2)).contains(RUN_JAVA);
        entrypoint.set(2, entrypoint.get(2).replace(RUN_JAVA, runJava.toString()));

        assertThat(run(entrypoint, Map.of("JAVA_OPTS", imageOptions), "--some-arg", "two words"))
                .as("no JAVA_OPTS_APPEND").isEqualTo(imageOptions + " |--some-arg|two words|");
        assertThat(run(entrypoint, Map.of("JAVA_OPTS", imageOptions, "JAVA_OPTS_APPEND", "-Xmx512m -Da=b")))
                .as("JAVA_OPTS_APPEND after the image's options").isEqualTo(imageOptions + " -Xmx512m -Da=b|");
        assertThat(run(entrypoint, Map.of("JAVA_OPTS", "-Xmx1g")))
                .as("JAVA_OPTS set by the user replaces the image's").isEqualTo("-Xmx1g |");
    }

    private static List<String> dockerEntrypoint(String dockerfile) throws IOException {
        String[] entrypoint = new ObjectMapper().readValue(single(dockerfile, "(?m)^ENTRYPOINT (\\[.*\\])$"),
                String[].class);
        assertThat(entrypoint).as("entrypoint").hasSize(4).startsWith("/bin/sh", "-c");
        return List.of(entrypoint);
    }

    /** Runs an entrypoint (sh -c script $0) with only the given environment and container arguments. */
    private static String run(List<String> entrypoint, Map<String, String> environment, String... arguments)
            throws IOException {
        List<String> command = new ArrayList<>(entrypoint);
        command.addAll(List.of(arguments));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().clear();
        builder.environment().put("PATH", "/usr/bin:/bin");
        builder.environment().putAll(environment);
        Process process = builder.start();
        try {
            String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("entrypoint finished").isTrue();
            assertThat(process.exitValue()).as("entrypoint exit status; output: %s", out).isZero();
            return out;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static String single(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertThat(m.find()).as("a match of %s", regex).isTrue();
        String found = m.group(1);
        assertThat(m.find()).as("a second match of %s", regex).isFalse();
        return found;
    }
}
