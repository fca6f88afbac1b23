package io.stateversions.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The time another JVM's JIT compilers have spent compiling so far, read with the JDK's {@code jstat -compiler}
 * (its {@code Time} column: the compile time of all compiler threads, in seconds, from the JVM's performance
 * counters). The service's warm-up runs until this stops growing, so that no workload is measured while the
 * compiler competes with it for the machine's cores.
 */
final class CompilerTime {

    private final Path jstat;
    private final long pid;

    private CompilerTime(Path jstat, long pid) {
        this.jstat = jstat;
        this.pid = pid;
    }

    /** A reader for process {@code pid}, if this JDK has {@code jstat} and the process answers it. */
    static Optional<CompilerTime> of(long pid) {
        Path jstat = Path.of(System.getProperty("java.home"), "bin", "jstat");
        if (!Files.isExecutable(jstat)) {
            return Optional.empty();
        }
        CompilerTime time = new CompilerTime(jstat, pid);
        try {
            time.seconds();
            return Optional.of(time);
        } catch (IOException e) {
            System.out.println("  (the compiler's time cannot be read: " + e.getMessage() + ")");
            return Optional.empty();
        }
    }

    /** Seconds of compilation so far; it never decreases. */
    double seconds() throws IOException {
        Process process = new ProcessBuilder(jstat.toString(), "-compiler", Long.toString(pid))
                .redirectErrorStream(true).start();
        String output;
        try {
            output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
                throw new IOException("jstat -compiler " + pid + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted reading the compiler's time of " + pid, e);
        }
        return parse(output);
    }

    /**
     * The {@code Time} column of {@code jstat -compiler}'s output: a header line
     * ({@code Compiled Failed Invalid Time FailedType FailedMethod}) and one line of values.
     */
    static double parse(String output) throws IOException {
        String[] lines = output.strip().split("\\R");
        if (lines.length < 2) {
            throw new IOException("unexpected jstat -compiler output: " + output.strip());
        }
        String[] header = lines[0].trim().split("\\s+");
        String[] values = lines[1].trim().split("\\s+");
        for (int i = 0; i < header.length && i < values.length; i++) {
            if (header[i].equals("Time")) {
                try {
                    return Double.parseDouble(values[i]);
                } catch (NumberFormatException e) {
                    throw new IOException("unexpected jstat -compiler Time \"" + values[i] + "\"", e);
                }
            }
        }
        throw new IOException("no Time column in jstat -compiler output: " + output.strip());
    }
}
