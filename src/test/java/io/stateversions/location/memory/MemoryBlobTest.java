package io.stateversions.location.memory;

import io.stateversions.location.Blob;
import io.stateversions.location.BlobContractTest;
import org.junit.jupiter.api.Nested;

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
