package io.stateversions.config;

import io.stateversions.core.Version;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/** The version of this build (from the Maven project version), which every diff and rollup it writes records. */
public final class BuildInfo {

    private static final String RESOURCE = "/io/stateversions/build.properties";

    /** The version as Maven printed it, e.g. {@code 0.1.0-SNAPSHOT}. */
    public static final String VERSION_STRING = load();

    /** The version the storage format compares; pre-release suffixes do not change what a build can read. */
    public static final Version VERSION = Version.parse(VERSION_STRING);

    private BuildInfo() {}

    private static String load() {
        try (InputStream in = BuildInfo.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the build");
            }
            Properties properties = new Properties();
            properties.load(in);
            String version = properties.getProperty("version", "");
            if (version.isEmpty() || version.contains("${")) {
                throw new IllegalStateException(RESOURCE + " was not filtered by the build: version=" + version);
            }
            return version;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
