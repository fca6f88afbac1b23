package io.stateversions.stateversions;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import jakarta.inject.Inject;

/**
 * The StateVersions scripts on the service's own storage beans: PostgreSQL and S3 (S3Proxy), both started by the
 * test resources ({@link io.stateversions.testing.GlobalStorage}). Every run names its shards afresh, so the
 * scripts never see each other's data.
 */
@QuarkusTest
class PostgresS3StateVersionsScriptsTest extends StateVersionsScriptsTest {

    @Inject
    Consensus consensus;

    @Inject
    Blob blob;

    @Inject
    Retries retries;

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    @Override
    protected Retries retries() {
        return retries;
    }
}
