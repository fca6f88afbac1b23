package io.stateversions.core;

/**
 * A semantic version {@code major.minor.patch}: the version of the code that wrote a diff or rollup (persist's
 * {@code applier_version}, spec §3.2 and §6.6). A pre-release or build suffix ({@code -SNAPSHOT}, {@code +abc}) is
 * accepted on parse and ignored: it never changes what the code can read.
 */
public record Version(int major, int minor, int patch) implements Comparable<Version> {

    /** What an empty version string decodes to (data from before versions were recorded). */
    public static final Version ZERO = new Version(0, 0, 0);

    /** The last string parsed and its version: every diff a replica decodes names nearly always the same one. */
    private record Parsed(String printed, Version version) {}

    private static volatile Parsed lastParsed = new Parsed("", ZERO);

    public Version {
        if (major < 0 || minor < 0 || patch < 0) {
            throw new IllegalArgumentException("version components must be >= 0: " + major + "." + minor + "." + patch);
        }
    }

    /** Parses {@code major.minor.patch[-pre][+build]}; the empty string is {@link #ZERO}. */
    public static Version parse(String printed) {
        if (printed == null) {
            throw new IllegalArgumentException("invalid version null");
        }
        Parsed last = lastParsed;
        if (last.printed().equals(printed)) {
            return last.version();
        }
        Version version = parseUncached(printed);
        lastParsed = new Parsed(printed, version);
        return version;
    }

    private static Version parseUncached(String printed) {
        if (printed.isEmpty()) {
            return ZERO;
        }
        String core = printed;
        int suffix = indexOfAny(core, '-', '+');
        if (suffix >= 0) {
            core = core.substring(0, suffix);
        }
        String[] parts = core.split("\\.", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("invalid version \"" + printed + "\": expected major.minor.patch");
        }
        try {
            return new Version(component(parts[0]), component(parts[1]), component(parts[2]));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("invalid version \"" + printed + "\": expected major.minor.patch", e);
        }
    }

    private static int component(String s) {
        if (s.isEmpty() || !s.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("not a number: \"" + s + "\"");
        }
        return Integer.parseInt(s);
    }

    private static int indexOfAny(String s, char a, char b) {
        for (int i = 0; i < s.length(); i++) {
            if (s.charAt(i) == a || s.charAt(i) == b) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public int compareTo(Version o) {
        int c = Integer.compare(major, o.major);
        if (c == 0) {
            c = Integer.compare(minor, o.minor);
        }
        return c != 0 ? c : Integer.compare(patch, o.patch);
    }

    public Version max(Version other) {
        return compareTo(other) >= 0 ? this : other;
    }

    @Override
    public String toString() {
        return major + "." + minor + "." + patch;
    }
}
