package io.stateversions.location.file;

import io.stateversions.location.AbstractBlob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Indeterminate;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * {@link io.stateversions.location.Blob} in one flat local directory (URL {@code file:///dir[?tombstone]}), for
 * single-machine use: the embedded default and laptops.
 *
 * <ul>
 *   <li>Each key is one file whose name is the key, reversibly encoded: {@code [A-Za-z0-9_-]} and non-leading
 *       dots stay, every other UTF-8 byte becomes {@code %XX} (so {@code /} is {@code %2F}). Encoded names
 *       never start with a dot, which leaves dot names to this class: temp files and the tombstone
 *       directory.</li>
 *   <li>{@code set} writes a temp file, forces it to disk, renames it over the key atomically and forces the
 *       directory, so a value is either wholly there or not, also after a crash or power loss.</li>
 *   <li>In tombstone mode a deleted file moves to {@code .tombstones/}, from where {@code restore} moves it
 *       back.</li>
 *   <li>A key's last-modified time is its file's mtime (a restored file keeps it).</li>
 * </ul>
 *
 * <p>All file I/O blocks, so it runs on the given executor, never on the caller's thread.
 */
public final class FileBlob extends AbstractBlob {

    private static final Logger LOG = Logger.getLogger(FileBlob.class);
    private static final String TEMP_PREFIX = ".tmp-";
    private static final String TOMBSTONE_DIR = ".tombstones";
    private static final int MAX_FILE_NAME_BYTES = 255;
    /** Temp files older than this at open are leftovers of a crashed writer; younger ones may be in flight. */
    private static final Duration STALE_TEMP_AGE = Duration.ofHours(1);

    private final Path root;
    private final Path tombstones;
    private final boolean tombstone;
    private final ExecutorService executor;

    private FileBlob(Path root, boolean tombstone, ExecutorService executor) {
        this.root = root;
        this.tombstones = root.resolve(TOMBSTONE_DIR);
        this.tombstone = tombstone;
        this.executor = executor;
    }

    /**
     * Opens (creating if needed) the directory {@code root}; fails with an {@link UncheckedIOException}.
     *
     * @param ioThreads the number of threads doing the blocking I/O; they end with {@link #close()}
     */
    public static FileBlob open(Path root, boolean tombstone, int ioThreads) {
        Path dir = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(dir);
            if (tombstone) {
                Files.createDirectories(dir.resolve(TOMBSTONE_DIR));
            }
            deleteStaleTempFiles(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open file blob directory " + dir + ": " + e.getMessage(), e);
        }
        AtomicInteger threads = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(ioThreads, task -> {
            Thread thread = new Thread(task, "stateversions-file-blob-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        return new FileBlob(dir, tombstone, executor);
    }

    /** Stops the I/O threads once the operations in flight are done. */
    @Override
    public void close() {
        executor.shutdown();
    }

    @Override
    public String toString() {
        return "FileBlob{file://" + root + (tombstone ? "?tombstone" : "") + "}";
    }

    public Path root() {
        return root;
    }

    @Override
    protected CompletionStage<Optional<byte[]>> doGet(String key) {
        Path file = fileOf(key);
        return io("get " + key, false, () -> {
            try {
                return Optional.of(Files.readAllBytes(file));
            } catch (NoSuchFileException e) {
                return Optional.empty();
            }
        });
    }

    @Override
    protected CompletionStage<Void> doList(String prefix, Consumer<BlobMetadata> consumer) {
        return io("list " + prefix, false, () -> {
            List<BlobMetadata> matches = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(root)) {
                for (Path entry : entries) {
                    String name = entry.getFileName().toString();
                    if (name.startsWith(".")) {
                        continue;
                    }
                    String key = decode(name);
                    if (key.startsWith(prefix)) {
                        try {
                            // Size and mtime in one call; the mtime is the temp file's last write, before the rename.
                            BasicFileAttributes attributes = Files.readAttributes(entry, BasicFileAttributes.class);
                            matches.add(new BlobMetadata(key, attributes.size(),
                                    attributes.lastModifiedTime().toMillis()));
                        } catch (NoSuchFileException e) {
                            // Deleted while listing: it is simply not part of the listing.
                        }
                    }
                }
            }
            return matches;
        }).thenAccept(matches -> matches.forEach(consumer));
    }

    @Override
    protected CompletionStage<Void> doSet(String key, byte[] value) {
        Path file = fileOf(key);
        return io("set " + key, false, () -> {
            Path temp = root.resolve(TEMP_PREFIX + UUID.randomUUID());
            try {
                try (FileChannel channel = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    ByteBuffer buffer = ByteBuffer.wrap(value);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                    channel.force(true);
                }
                Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (IOException e) {
                Files.deleteIfExists(temp);
                throw e;
            }
            // From here on the new value may be visible, so a failure is no longer determinate.
            try {
                forceDirectory(root);
            } catch (IOException e) {
                throw new Indeterminate("set " + key + ": renamed but could not sync " + root + ": " + e, e);
            }
            return null;
        });
    }

    @Override
    protected CompletionStage<OptionalLong> doDelete(String key) {
        Path file = fileOf(key);
        return io("delete " + key, true, () -> {
            long size;
            try {
                size = Files.size(file);
            } catch (NoSuchFileException e) {
                return OptionalLong.empty();
            }
            if (tombstone) {
                try {
                    Files.move(file, tombstones.resolve(file.getFileName()), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                } catch (NoSuchFileException e) {
                    // A concurrent delete won; the size is for metrics only.
                }
            } else {
                Files.deleteIfExists(file);
            }
            forceDirectory(root);
            return OptionalLong.of(size);
        });
    }

    @Override
    protected CompletionStage<Void> doRestore(String key) {
        Path file = fileOf(key);
        return io("restore " + key, false, () -> {
            if (Files.exists(file)) {
                return null;
            }
            Path deleted = tombstones.resolve(file.getFileName());
            if (tombstone && Files.exists(deleted)) {
                try {
                    Files.move(deleted, file, StandardCopyOption.ATOMIC_MOVE);
                    forceDirectory(root);
                    return null;
                } catch (NoSuchFileException e) {
                    // A concurrent restore moved it first; the check below decides.
                }
            }
            if (Files.exists(file)) {
                return null;
            }
            throw new Determinate("cannot restore " + key + ": it does not exist"
                    + (tombstone ? " and is not among the deleted files" : " (tombstone mode is off)"));
        });
    }

    private Path fileOf(String key) {
        String name = encode(key);
        if (name.getBytes(StandardCharsets.US_ASCII).length > MAX_FILE_NAME_BYTES) {
            throw new ContractViolation("key is too long for the file blob: its file name would have "
                    + name.length() + " bytes, the limit is " + MAX_FILE_NAME_BYTES + ": " + key);
        }
        return root.resolve(name);
    }

    /**
     * Runs blocking I/O on the executor. An {@link IOException} means the operation did not take effect, except
     * where {@code mayHaveHappened} says a failure part way may have left it done.
     */
    private <T> CompletionStage<T> io(String op, boolean mayHaveHappened, IoTask<T> task) {
        CompletableFuture<T> result = new CompletableFuture<>();
        try {
            executor.execute(() -> {
                try {
                    result.complete(task.run());
                } catch (ExternalError | ContractViolation e) {
                    result.completeExceptionally(e);
                } catch (IOException | UncheckedIOException | SecurityException e) {
                    String message = "file blob " + op + " failed: " + e;
                    result.completeExceptionally(
                            mayHaveHappened ? new Indeterminate(message, e) : new Determinate(message, e));
                } catch (RuntimeException e) {
                    result.completeExceptionally(new Indeterminate("file blob " + op + " failed: " + e, e));
                }
            });
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new Determinate("file blob " + op + ": executor is shut down", e));
        }
        return result;
    }

    @FunctionalInterface
    private interface IoTask<T> {
        T run() throws IOException;
    }

    private static void forceDirectory(Path dir) throws IOException {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            // Some platforms (Windows) cannot open a directory; there the rename is as durable as it gets.
            if (!System.getProperty("os.name", "").startsWith("Windows")) {
                throw e;
            }
        }
    }

    private static void deleteStaleTempFiles(Path dir) throws IOException {
        Instant staleBefore = Instant.now().minus(STALE_TEMP_AGE);
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, TEMP_PREFIX + "*")) {
            for (Path temp : temps) {
                BasicFileAttributes attributes = Files.readAttributes(temp, BasicFileAttributes.class);
                if (attributes.lastModifiedTime().toInstant().isBefore(staleBefore)) {
                    LOG.infof("Deleting %s, left behind by an interrupted write", temp);
                    Files.deleteIfExists(temp);
                }
            }
        }
    }

    static String encode(String key) {
        byte[] bytes = key.getBytes(StandardCharsets.UTF_8);
        StringBuilder name = new StringBuilder(bytes.length + 16);
        for (int i = 0; i < bytes.length; i++) {
            int b = bytes[i] & 0xff;
            boolean plain = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9')
                    || b == '-' || b == '_' || (b == '.' && i > 0);
            if (plain) {
                name.append((char) b);
            } else {
                name.append('%').append(Character.toUpperCase(Character.forDigit(b >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xf, 16)));
            }
        }
        return name.toString();
    }

    /** The inverse of {@link #encode}. A name it did not write (a foreign file) decodes to itself. */
    static String decode(String name) {
        byte[] bytes = name.getBytes(StandardCharsets.UTF_8);
        int length = 0;
        for (int i = 0; i < bytes.length; i++) {
            int high = i + 2 < bytes.length && bytes[i] == '%' ? Character.digit(bytes[i + 1], 16) : -1;
            int low = high >= 0 ? Character.digit(bytes[i + 2], 16) : -1;
            if (low >= 0) {
                bytes[length++] = (byte) (high << 4 | low);
                i += 2;
            } else {
                bytes[length++] = bytes[i];
            }
        }
        return new String(bytes, 0, length, StandardCharsets.UTF_8);
    }
}
