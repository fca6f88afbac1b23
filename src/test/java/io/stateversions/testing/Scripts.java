package io.stateversions.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * A tiny runner for datadriven test scripts, in the format of persist's {@code tests/machine/*} (cockroach's
 * datadriven): a directive line {@code name key=value ...}, optional input lines, a {@code ----} line and the
 * expected output, which ends at a blank line. Lines starting with {@code #} between blocks are comments.
 *
 * <pre>
 * # Initializing writes the first version.
 * init shard=a
 * ----
 * v1 since={0} upper={0} rollups=[v1/r1]
 * </pre>
 *
 * <p>Directives run in order against one {@link Handler}, and a script stops at its first mismatch (later
 * output depends on earlier state). With {@code -Dscripts.rewrite=true} nothing is compared: the actual output
 * is written back into the script under {@code src/test/resources}, so a new scenario costs only its directives.
 * Review the rewritten file as you would review code: it is the expectation from then on.
 */
public final class Scripts {

    /** The system property that turns on rewrite mode. */
    public static final String REWRITE = "scripts.rewrite";

    private static final String SEPARATOR = "----";

    private Scripts() {}

    /** One directive of a script. */
    public record Directive(String name, Map<String, String> args, List<String> input, Path file, int line) {

        /** The value of {@code key}; fails the script if it is missing. */
        public String arg(String key) {
            String value = args.get(key);
            if (value == null) {
                throw new ScriptError(this, "missing argument " + key + "=");
            }
            return value;
        }

        public Optional<String> optional(String key) {
            return Optional.ofNullable(args.get(key));
        }

        public String arg(String key, String defaultValue) {
            return args.getOrDefault(key, defaultValue);
        }

        public long longArg(String key) {
            return parseLong(key, arg(key));
        }

        public long longArg(String key, long defaultValue) {
            return args.containsKey(key) ? parseLong(key, args.get(key)) : defaultValue;
        }

        private long parseLong(String key, String value) {
            try {
                return Long.parseLong(value);
            } catch (NumberFormatException e) {
                throw new ScriptError(this, key + "=" + value + " is not a number");
            }
        }

        /** {@code file:line: directive}, for messages. */
        public String where() {
            return file + ":" + line + ": " + text();
        }

        public String text() {
            StringBuilder s = new StringBuilder(name);
            args.forEach((k, v) -> s.append(' ').append(k).append('=').append(v));
            return s.toString();
        }
    }

    /** A script is malformed or uses a directive wrongly (not a failure of the code under test). */
    public static final class ScriptError extends RuntimeException {
        public ScriptError(Directive d, String message) {
            super(d.where() + ": " + message);
        }

        ScriptError(Path file, int line, String message) {
            super(file + ":" + line + ": " + message);
        }
    }

    /** Runs one directive and returns its output: lines without a trailing newline and without blank lines. */
    @FunctionalInterface
    public interface Handler {
        String run(Directive directive) throws Exception;
    }

    /** The directory of the scripts of {@code suite} in the source tree (which rewrite mode edits). */
    public static Path directory(String suite) {
        Path dir = Path.of(System.getProperty("user.dir"), "src", "test", "resources", "scripts", suite);
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no script directory " + dir + " (tests must run from the project root)");
        }
        return dir;
    }

    /** The names of the {@code *.txt} scripts of {@code suite}, sorted. */
    public static List<String> list(String suite) {
        try (Stream<Path> files = Files.list(directory(suite))) {
            return files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".txt")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static boolean rewriting() {
        return Boolean.getBoolean(REWRITE);
    }

    /**
     * Runs the script {@code file} through {@code handler}: compares each directive's output with the expected
     * one and fails at the first difference, or, in rewrite mode, writes the actual outputs back to the file.
     */
    public static void run(Path file, Handler handler) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path shown = Path.of(System.getProperty("user.dir")).relativize(file.toAbsolutePath());
        boolean rewrite = rewriting();
        List<String> rewritten = new ArrayList<>();
        int i = 0;
        while (i < lines.size()) {
            String line = lines.get(i);
            if (line.isBlank() || line.startsWith("#")) {
                rewritten.add(line);
                i++;
                continue;
            }
            int directiveLine = i + 1;
            List<String> input = new ArrayList<>();
            i++;
            while (i < lines.size() && !lines.get(i).equals(SEPARATOR)) {
                if (lines.get(i).isBlank()) {
                    throw new ScriptError(shown, i + 1, "expected " + SEPARATOR + " after the directive on line "
                            + directiveLine);
                }
                input.add(lines.get(i));
                i++;
            }
            if (i == lines.size()) {
                throw new ScriptError(shown, directiveLine, "the directive has no " + SEPARATOR + " line");
            }
            i++;
            List<String> expected = new ArrayList<>();
            while (i < lines.size() && !lines.get(i).isBlank()) {
                expected.add(lines.get(i));
                i++;
            }
            Directive d = parse(line, input, shown, directiveLine);
            List<String> actual;
            try {
                actual = execute(handler, d);
            } catch (RuntimeException | AssertionError e) {
                if (rewrite) { // keep what ran, so the output up to the failure can be read in the script
                    List<String> partial = new ArrayList<>(rewritten);
                    partial.addAll(lines.subList(directiveLine - 1, lines.size()));
                    write(file, partial);
                }
                throw e;
            }
            if (!rewrite && !actual.equals(expected)) {
                throw new AssertionError(mismatch(d, expected, actual));
            }
            rewritten.add(line);
            rewritten.addAll(input);
            rewritten.add(SEPARATOR);
            rewritten.addAll(actual);
        }
        if (rewrite && !rewritten.equals(lines)) {
            write(file, rewritten);
        }
    }

    private static void write(Path file, List<String> lines) {
        try {
            Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> execute(Handler handler, Directive d) {
        String output;
        try {
            output = handler.run(d);
        } catch (ScriptError e) {
            throw e;
        } catch (Exception | AssertionError e) {
            throw new AssertionError(d.where() + ": failed: " + e, e);
        }
        if (output.isEmpty()) {
            return List.of();
        }
        List<String> out = List.of(output.split("\n", -1));
        for (String l : out) {
            if (l.isBlank()) {
                throw new AssertionError(d.where() + ": the output has a blank line, which would end it early:\n"
                        + output);
            }
        }
        return out;
    }

    static Directive parse(String line, List<String> input, Path file, int lineNumber) {
        String[] words = line.trim().split("\\s+");
        Map<String, String> args = new LinkedHashMap<>();
        for (int w = 1; w < words.length; w++) {
            int eq = words[w].indexOf('=');
            if (eq <= 0) {
                throw new ScriptError(file, lineNumber, "expected key=value, got \"" + words[w] + "\"");
            }
            if (args.put(words[w].substring(0, eq), words[w].substring(eq + 1)) != null) {
                throw new ScriptError(file, lineNumber, "argument " + words[w].substring(0, eq) + " given twice");
            }
        }
        return new Directive(words[0], Collections.unmodifiableMap(args), List.copyOf(input), file, lineNumber);
    }

    /** The failure message: where, the directive, both outputs and a unified diff of them. */
    static String mismatch(Directive d, List<String> expected, List<String> actual) {
        StringBuilder s = new StringBuilder();
        s.append(d.file()).append(':').append(d.line()).append(": output of \"").append(d.text())
                .append("\" differs\n");
        s.append("expected:\n");
        expected.forEach(l -> s.append("  ").append(l).append('\n'));
        s.append("actual:\n");
        actual.forEach(l -> s.append("  ").append(l).append('\n'));
        s.append("--- expected\n+++ actual\n");
        diff(expected, actual).forEach(l -> s.append(l).append('\n'));
        s.append("(if the new output is right, rerun with -D").append(REWRITE).append("=true and review the change)");
        return s.toString();
    }

    /** A line diff by longest common subsequence: {@code " "} common, {@code "-"} expected only, {@code "+"} actual only. */
    static List<String> diff(List<String> a, List<String> b) {
        int[][] lcs = new int[a.size() + 1][b.size() + 1];
        for (int i = a.size() - 1; i >= 0; i--) {
            for (int j = b.size() - 1; j >= 0; j--) {
                lcs[i][j] = a.get(i).equals(b.get(j)) ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
            }
        }
        List<String> out = new ArrayList<>();
        int i = 0;
        int j = 0;
        while (i < a.size() || j < b.size()) {
            if (i < a.size() && j < b.size() && a.get(i).equals(b.get(j))) {
                out.add(" " + a.get(i++));
                j++;
            } else if (i < a.size() && (j == b.size() || lcs[i + 1][j] >= lcs[i][j + 1])) {
                out.add("-" + a.get(i++));
            } else {
                out.add("+" + b.get(j++));
            }
        }
        return out;
    }
}
