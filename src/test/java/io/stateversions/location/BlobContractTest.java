package io.stateversions.location;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Blob} contract (spec §8), once for every backend. A backend's test says how to open a fresh, isolated
 * location, how to re-open one, and whether it can undo deletes.
 */
public abstract class BlobContractTest extends LocationContractTest<Blob> {


    /** A fresh, empty location with its own client. */
    protected abstract Blob open();

    /** Closes {@code blob} and opens a new client of the same location. */
    protected abstract Blob reopen(Blob blob);

    /** Whether {@link Blob#restore} can bring back a deleted key (tombstones, bucket versioning). */
    protected abstract boolean restoresDeletedKeys();

    /**
     * How much earlier than the JVM's clock a backend may stamp a value it stores: its clock's resolution (S3's whole
     * seconds, a file system's coarse clock). Zero for a backend stamped by the JVM's own clock.
     */
    protected long lastModifiedResolutionMs() {
        return 0;
    }

    /**
     * A fresh, empty location for the tests of reads during overwrites: that of {@link #open} unless a backend's test
     * server needs another (S3Proxy's versioned buckets do not overwrite atomically; see {@code S3BlobTest}).
     */
    protected Blob openForOverwrites() {
        return open();
    }

    protected Blob blob;

    @BeforeEach
    void openLocation() {
        blob = track(open());
    }



    @Test
    void missingKeysAreEmpty() {
        assertThat(await(blob.get("s1/v1/r1"))).isEmpty();
        assertThat(await(blob.delete("s1/v1/r1"))).isEmpty();
        assertThat(list("")).isEmpty();
    }

    @Test
    void emptyStringIsNotAKey() {
        assertViolation(blob.get(""), "key must not be empty");
        assertViolation(blob.set("", bytes("x")), "key must not be empty");
        assertViolation(blob.delete(""), "key must not be empty");
        assertViolation(blob.restore(""), "key must not be empty");
    }

    @Test
    void keysWithEmptyOrDotSegmentsAreRejected() {
        for (String key : List.of("s1/", "/s1", "s1//v1", "/", ".", "..", "s1/./v1", "s1/..", "../s1")) {
            assertViolation(blob.set(key, bytes("x")), "segments must not be empty, '.' or '..'");
            assertViolation(blob.get(key), "segments must not be empty, '.' or '..'");
        }
        assertThat(list("")).isEmpty();
    }

    @Test
    void valuesRoundTripExactly() {
        byte[] tenKib = random(10 * 1024, 1);
        await(blob.set("s1/n0013000/p1", tenKib));
        await(blob.set("s1/empty", new byte[0]));
        assertThat(await(blob.get("s1/n0013000/p1"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(tenKib));
        assertThat(await(blob.get("s1/empty"))).hasValueSatisfying(v -> assertThat(v).isEmpty());
    }

    @Test
    void keysMayHoldAnyCharacters() {
        List<String> keys = List.of("s00000000-0000-0000-0000-000000000000/v123/r11111111-1111-1111-1111-111111111111",
                "with space/and%percent", "ключ/ü/😀", ".leading-dot", "a/.../b..", "LIVENESS-ish");
        for (String key : keys) {
            await(blob.set(key, bytes(key)));
        }
        for (String key : keys) {
            assertThat(await(blob.get(key))).as(key).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes(key)));
        }
        assertThat(list("").keySet()).containsExactlyInAnyOrderElementsOf(keys);
    }

    @Test
    void setOverwrites() {
        await(blob.set("k", bytes("first")));
        await(blob.set("k", bytes("second, longer")));
        assertThat(await(blob.get("k"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("second, longer")));
        assertThat(list("")).containsExactly(Map.entry("k", 14L));
    }

    @Test
    void concurrentOverwritesLeaveOneWholeValue() {
        List<byte[]> values = IntStream.range(0, 8).mapToObj(i -> random(4096 + i, 100 + i)).toList();
        CompletableFuture<?>[] writes = values.stream()
                .map(v -> blob.set("k", v).toCompletableFuture()).toArray(CompletableFuture[]::new);
        await(CompletableFuture.allOf(writes));
        byte[] stored = await(blob.get("k")).orElseThrow();
        assertThat(values).anySatisfy(v -> assertThat(stored).isEqualTo(v));
    }

    /**
     * Above S3's 8 MiB range size a read takes several requests; an overwrite between them must not mix values. An
     * overwrite that lands during a read restarts it, and a backend may bound the restarts (S3Blob reads five times):
     * four overwrites can restart no read more than four times.
     */
    @Test
    void readsOfALargeValueBeingOverwrittenSeeOneWholeValue() {
        Blob location = track(openForOverwrites());
        byte[] a = random(9 * 1024 * 1024 + 1, 11);
        byte[] b = random(9 * 1024 * 1024 + 2, 12);
        await(location.set("large", a));
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
            for (int i = 0; i < 4; i++) {
                await(location.set("large", i % 2 == 0 ? b : a));
            }
        });
        List<CompletableFuture<Optional<byte[]>>> reads = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            reads.add(location.get("large").toCompletableFuture());
        }
        await(writer);
        for (CompletableFuture<Optional<byte[]>> read : reads) {
            byte[] value = await(read).orElseThrow();
            assertThat(Arrays.equals(value, a) || Arrays.equals(value, b))
                    .as("a whole value of %d bytes", value.length).isTrue();
        }
    }

    /**
     * A read of a key being overwritten finds the old value or the new one, never none: at start-up a replica reads
     * its deployment's marker while others rewrite it, and takes a missing marker for a blob store of another
     * deployment.
     */
    @Test
    void readsOfAKeyBeingOverwrittenNeverFindItAbsent() {
        Blob location = track(openForOverwrites());
        byte[] pending = bytes("state=pending");
        byte[] created = bytes("state=created");
        await(location.set("marker", pending));
        List<CompletableFuture<?>> writes = new ArrayList<>();
        List<CompletableFuture<Optional<byte[]>>> reads = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            writes.add(location.set("marker", i % 2 == 0 ? created : pending).toCompletableFuture());
            reads.add(location.get("marker").toCompletableFuture());
        }
        await(CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new)));
        List<Optional<byte[]>> read = reads.stream().map(r -> await(r)).toList();
        assertThat(read.stream().filter(Optional::isEmpty).count())
                .as("reads of 300 that found the key absent while it was overwritten").isZero();
        for (Optional<byte[]> found : read) {
            byte[] value = found.orElseThrow();
            assertThat(Arrays.equals(value, pending) || Arrays.equals(value, created))
                    .as("a whole value: %s", new String(value, StandardCharsets.UTF_8)).isTrue();
        }
    }

    @Test
    void deleteReportsTheSizeOnceAndIsIdempotent() {
        await(blob.set("k", random(1234, 2)));
        await(blob.set("empty", new byte[0]));
        assertThat(await(blob.delete("k"))).isEqualTo(OptionalLong.of(1234));
        assertThat(await(blob.get("k"))).isEmpty();
        assertThat(await(blob.delete("k"))).isEmpty();
        assertThat(await(blob.delete("empty"))).isEqualTo(OptionalLong.of(0));
        assertThat(list("")).isEmpty();
    }

    @Test
    void listFiltersByPrefixAndReportsSizes() {
        await(blob.set("s1/w1/p1", random(10, 3)));
        await(blob.set("s1/w1/p2", random(20, 4)));
        await(blob.set("s1/v7/r1", random(30, 5)));
        await(blob.set("s10/w1/p1", random(40, 6)));
        await(blob.set("s2/v1/r1", random(50, 7)));
        assertThat(list("s1/")).containsExactlyInAnyOrderEntriesOf(
                Map.of("s1/w1/p1", 10L, "s1/w1/p2", 20L, "s1/v7/r1", 30L));
        assertThat(list("s1")).containsOnlyKeys("s1/w1/p1", "s1/w1/p2", "s1/v7/r1", "s10/w1/p1");
        assertThat(list("s1/v")).containsOnlyKeys("s1/v7/r1");
        assertThat(list("s1/w1/p1")).containsOnlyKeys("s1/w1/p1");
        assertThat(list("s3")).isEmpty();
        assertThat(list("")).hasSize(5);
    }

    @Test
    void listReportsWhenEachValueWasWritten() {
        long before = System.currentTimeMillis();
        await(blob.set("s1/w1/p1", bytes("first")));
        long after = System.currentTimeMillis();
        assertWrittenWithin(listMetadata("s1/w1/p1"), before, after);

        long beforeOverwrite = System.currentTimeMillis();
        await(blob.set("s1/w1/p1", bytes("second")));
        long afterOverwrite = System.currentTimeMillis();
        assertWrittenWithin(listMetadata("s1/w1/p1"), beforeOverwrite, afterOverwrite);
    }

    @Test
    void aRestoredValueKeepsItsTime() {
        long before = System.currentTimeMillis();
        await(blob.set("s1/v1/r1", bytes("rollup")));
        long after = System.currentTimeMillis();
        await(blob.delete("s1/v1/r1"));
        if (restoresDeletedKeys()) {
            await(blob.restore("s1/v1/r1"));
            assertWrittenWithin(listMetadata("s1/v1/r1"), before, after);
        }
    }

    private BlobMetadata listMetadata(String key) {
        List<BlobMetadata> listed = new ArrayList<>();
        await(blob.list(key, listed::add));
        assertThat(listed).extracting(BlobMetadata::key).containsExactly(key);
        return listed.get(0);
    }

    private void assertWrittenWithin(BlobMetadata metadata, long beforeMs, long afterMs) {
        assertThat(metadata.lastModifiedMs()).as("last-modified time of %s", metadata.key())
                .isBetween(beforeMs - lastModifiedResolutionMs(), afterMs);
    }

    @Test
    void aFailingConsumerFailsTheListingWithItsOwnError() {
        await(blob.set("k1", bytes("x")));
        IllegalStateException bug = new IllegalStateException("consumer bug");
        assertThatThrownBy(() -> await(blob.list("", metadata -> {
            throw bug;
        }))).isInstanceOf(CompletionException.class).cause().isSameAs(bug);
    }

    @Test
    void largeValuesRoundTrip() {
        // Above S3's 8 MiB part size: a multipart upload and a ranged, concurrent read.
        byte[] large = random(17 * 1024 * 1024 + 5, 8);
        await(blob.set("large", large));
        assertThat(await(blob.get("large"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(large));
        assertThat(list("")).containsExactly(Map.entry("large", (long) large.length));
        assertThat(await(blob.delete("large"))).isEqualTo(OptionalLong.of(large.length));
    }

    @Test
    void restoreSucceedsIffTheKeyExistsAfterwards() {
        await(blob.set("present", bytes("here")));
        await(blob.restore("present"));
        assertThat(await(blob.get("present"))).isPresent();

        assertThatThrownBy(() -> await(blob.restore("never-written")))
                .cause().isInstanceOf(Determinate.class);
        assertThat(await(blob.get("never-written"))).isEmpty();

        await(blob.set("deleted", bytes("gone?")));
        await(blob.delete("deleted"));
        if (restoresDeletedKeys()) {
            await(blob.restore("deleted"));
            assertThat(await(blob.get("deleted"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("gone?")));
            assertThat(list("")).containsKey("deleted");
        } else {
            assertThatThrownBy(() -> await(blob.restore("deleted"))).cause().isInstanceOf(Determinate.class);
            assertThat(await(blob.get("deleted"))).isEmpty();
        }
    }

    @Test
    void dataSurvivesReopening() {
        await(blob.set("s1/v1/r1", bytes("rollup")));
        await(blob.set("s1/w1/p1", bytes("part")));
        await(blob.delete("s1/w1/p1"));
        Blob reopened = track(reopen(blob));
        assertThat(await(reopened.get("s1/v1/r1"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("rollup")));
        assertThat(await(reopened.get("s1/w1/p1"))).isEmpty();
        assertThat(listOf(reopened, "")).containsOnlyKeys("s1/v1/r1");
    }

    @Test
    void locationsAreIsolated() {
        Blob other = track(open());
        await(blob.set("k", bytes("mine")));
        assertThat(await(other.get("k"))).isEmpty();
        assertThat(listOf(other, "")).isEmpty();
        await(other.set("k", bytes("theirs")));
        await(other.delete("k"));
        assertThat(await(blob.get("k"))).hasValueSatisfying(v -> assertThat(v).isEqualTo(bytes("mine")));
    }

    // ---------------------------------------------------------------------------------------------------------

    private Map<String, Long> list(String prefix) {
        return listOf(blob, prefix);
    }

    private static Map<String, Long> listOf(Blob blob, String prefix) {
        Map<String, Long> listed = new TreeMap<>();
        await(blob.list(prefix, metadata -> {
            Long previous = listed.put(metadata.key(), metadata.sizeBytes());
            assertThat(previous).as("listed twice: %s", metadata.key()).isNull();
        }));
        return listed;
    }

    protected static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] random(int size, long seed) {
        byte[] value = new byte[size];
        new Random(seed).nextBytes(value);
        return value;
    }


    private static void assertViolation(CompletionStage<?> stage, String message) {
        assertThatThrownBy(() -> await(stage))
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOf(ContractViolation.class).hasMessageContaining(message);
    }
}
