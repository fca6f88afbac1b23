package io.stateversions.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Where a run happened: cores, memory, CPU model, JDK, the commit of the work tree, and the storage versions. */
final class MachineFacts {

    private final int cores;
    private final long memoryBytes;
    private final String cpu;
    private final String jdk;
    private final String commit;
    private String storage = "(not started)";

    private MachineFacts(int cores, long memoryBytes, String cpu, String jdk, String commit) {
        this.cores = cores;
        this.memoryBytes = memoryBytes;
        this.cpu = cpu;
        this.jdk = jdk;
        this.commit = commit;
    }

    static MachineFacts collect() {
        return new MachineFacts(Runtime.getRuntime().availableProcessors(), memTotal(), cpuModel(),
                System.getProperty("java.vm.name") + " " + System.getProperty("java.version"), gitCommit());
    }

    void storage(String description) {
        this.storage = description;
    }

    String storageLine() {
        return storage;
    }

    String commit() {
        return commit;
    }

    String oneLine() {
        return String.format("%d cores, %.0f GiB RAM, %s, %s, commit %s", cores, memoryBytes / (1024.0 * 1024 * 1024),
                cpu, jdk, commit);
    }

    private static long memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return Runtime.getRuntime().maxMemory();
    }

    private static String cpuModel() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    return line.substring(line.indexOf(':') + 1).trim();
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux
        }
        return System.getProperty("os.arch");
    }

    /** {@code git describe}-like: the short commit, with {@code +changes} if the work tree differs from it. */
    private static String gitCommit() {
        try {
            String head = run("git", "rev-parse", "--short=12", "HEAD");
            String status = run("git", "status", "--porcelain", "--untracked-files=no");
            return head.isEmpty() ? "(unknown)" : head + (status.isEmpty() ? "" : "+changes");
        } catch (IOException | InterruptedException | RuntimeException e) {
            return "(unknown: " + e.getMessage() + ")";
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes()).trim();
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            return "";
        }
        return output;
    }
}
