package io.stateversions.location.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobContractTest;
import io.stateversions.location.BlobMetadata;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The contract on the in-memory backend, with and without tombstones. */
class MemoryBlobTest extends BlobContractTest {

    @Override
    protected Blob open() {
        return new MemoryBlob(true);
    }

    @Override
    protected Blob reopen(Blob blob) {
        return blob; // its data lives as long as the instance
    }

    @Override
    protected boolean restoresDeletedKeys() {
        return true;
    }

    @Test
    void valuesAreStampedByTheGivenClockAndARestoreKeepsTheStamp() {
        AtomicLong clock = new AtomicLong(1_000);
        MemoryBlob stamped = new MemoryBlob(true, clock::get);
        await(stamped.set("s1/w1/p1", bytes("a")));
        clock.set(2_000);
        await(stamped.set("s1/v1/r1", bytes("b")));
        assertThat(listed(stamped)).containsExactlyInAnyOrder(
                new BlobMetadata("s1/w1/p1", 1, 1_000), new BlobMetadata("s1/v1/r1", 1, 2_000));

        clock.set(3_000);
        await(stamped.delete("s1/w1/p1"));
        await(stamped.restore("s1/w1/p1"));
        await(stamped.set("s1/v1/r1", bytes("bb")));
        assertThat(listed(stamped)).containsExactlyInAnyOrder(
                new BlobMetadata("s1/w1/p1", 1, 1_000), new BlobMetadata("s1/v1/r1", 2, 3_000));
    }

    private static List<BlobMetadata> listed(Blob blob) {
        List<BlobMetadata> listed = new ArrayList<>();
        await(blob.list("", listed::add));
        return listed;
    }

    @Nested
    class WithoutTombstones extends BlobContractTest {

        @Override
        protected Blob open() {
            return new MemoryBlob(false);
        }

        @Override
        protected Blob reopen(Blob blob) {
            return blob;
        }

        @Override
        protected boolean restoresDeletedKeys() {
            return false;
        }
    }
}
