package io.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The container image of {@code src/main/docker/Dockerfile.jvm}, built as it is on a stand-in for its base image, runs
 * as the README says: {@code src/main/docker/standin/build-and-run.sh} builds the stand-in from Debian packages, builds
 * our image on it, runs it and checks readiness, an append, the JVM options with and without
 * {@code JAVA_OPTS_APPEND}, the user, and a clean stop on SIGTERM (README "The container image on a stand-in base").
 * Opt-in with {@code -Dstateversions.it.container-image=true}: it needs root, podman, runc, debootstrap and a Debian
 * mirror, and takes minutes; without the property or the tools it is skipped, saying which.
 */
class ContainerImageStandInIT {

    private static final String OPT_IN = "stateversions.it.container-image";

    /** A first run bootstraps Debian (a few minutes); later ones reuse it and take one to three minutes. */
    private static final long FINISH_WITHIN_MINUTES = 30;

    @Test
    void theImageBuiltOnTheStandInBasePassesTheScriptsChecks() throws Exception {
        assumeTrue(Boolean.getBoolean(OPT_IN), "opt-in: run with -D" + OPT_IN + "=true (needs root, podman, runc, "
                + "debootstrap and a Debian mirror)");
        for (String tool : List.of("podman", "runc", "debootstrap", "curl")) {
            assumeTrue(onPath(tool), tool + " is not installed (apt-get install -y podman buildah runc debootstrap curl)");
        }
        Path log = Path.of("target/container-image-standin.log");
        Process script = new ProcessBuilder("src/main/docker/standin/build-and-run.sh").redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        boolean finished = script.waitFor(FINISH_WITHIN_MINUTES, TimeUnit.MINUTES);
        if (!finished) {
            script.destroy();
        }
        String output = Files.readString(log);
        assertThat(finished).as("build-and-run.sh finished within %d min; its output so far:%n%s",
                FINISH_WITHIN_MINUTES, output).isTrue();
        assertThat(script.exitValue()).as("build-and-run.sh exit status; its output:%n%s", output).isZero();
        assertThat(output).contains("ok: append committed", "ok: the embedded PostgreSQL had been shut down cleanly",
                "ok: heap max 2.68435456E8 = 256 MiB: the appended -Xmx wins", "=== all checks passed");
    }

    private static boolean onPath(String command) {
        for (String directory : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            if (Files.isExecutable(Path.of(directory, command))) {
                return true;
            }
        }
        return false;
    }
}
