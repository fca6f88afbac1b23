package io.stateversions.location.file;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobContractTest;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The contract on the file backend (a directory per location), with and without tombstones. */
class FileBlobTest extends BlobContractTest {

    @TempDir
    Path temp;

    private final Map<Blob, Path> directoryOf = new IdentityHashMap<>();
    private int locations;

    private FileBlob at(Path dir, boolean tombstone) {
        FileBlob blob = FileBlob.open(dir, tombstone, 4);
        directoryOf.put(blob, dir);
        return blob;
    }

    @Override
    protected Blob open() {
        return at(temp.resolve("location-" + ++locations), false);
    }

    @Override
    protected Blob reopen(Blob blob) {
        blob.close();
        return at(directoryOf.get(blob), false);
    }

    @Override
    protected boolean restoresDeletedKeys() {
        return false;
    }

    /** Linux stamps mtimes with a coarse clock, up to a tick behind; some file systems keep whole seconds. */
    @Override
    protected long lastModifiedResolutionMs() {
        return 1000;
    }

    @Test
    void keysEncodeToSafeFileNamesAndBack() {
        Random random = new Random(7);
        for (int i = 0; i < 2000; i++) {
            String key = random.ints(1 + random.nextInt(40), 0, 0x2FFFF)
                    .map(c -> c >= Character.MIN_SURROGATE && c <= Character.MAX_SURROGATE ? 'x' : c)
                    .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
            String name = FileBlob.encode(key);
            assertThat(name).matches("[A-Za-z0-9_%-][A-Za-z0-9_%.-]*");
            assertThat(FileBlob.decode(name)).isEqualTo(key);
        }
        assertThat(FileBlob.encode("s1/v2/r3")).isEqualTo("s1%2Fv2%2Fr3");
        assertThat(FileBlob.encode(".x")).isEqualTo("%2Ex");
    }

    @Test
    void writesLeaveNoTemporaryFilesAndStaleOnesAreCleanedUp() throws IOException {
        await(blob.set("k", bytes("v")));
        Path dir = directoryOf.get(blob);
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("k");
        }
        Path stale = Files.writeString(dir.resolve(".tmp-stale"), "half a value");
        Files.setLastModifiedTime(stale, FileTime.from(Instant.now().minus(2, ChronoUnit.HOURS)));
        Path fresh = Files.writeString(dir.resolve(".tmp-in-flight"), "being written");
        reopen(blob).close();
        assertThat(stale).doesNotExist();
        assertThat(fresh).as("a recent temp file may belong to a write in flight").exists();
    }

    @Nested
    class WithTombstones extends BlobContractTest {

        @Override
        protected Blob open() {
            return at(temp.resolve("tombstone-location-" + ++locations), true);
        }

        @Override
        protected Blob reopen(Blob blob) {
            blob.close();
            return at(directoryOf.get(blob), true);
        }

        @Override
        protected boolean restoresDeletedKeys() {
            return true;
        }

        @Override
        protected long lastModifiedResolutionMs() {
            return 1000;
        }
    }
}
