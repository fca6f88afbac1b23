package io.stateversions.machine;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import jakarta.inject.Inject;

/**
 * {@link GcFaultsTest} on the service's own storage beans: PostgreSQL and S3 (S3Proxy), started by the test
 * resources ({@link io.stateversions.testing.GlobalStorage}). Kill points are sampled and the workload is shorter,
 * to keep the run to seconds; the in-memory variant covers every point.
 */
@QuarkusTest
class PostgresS3GcFaultsTest extends GcFaultsTest {

    @Inject
    Consensus consensus;

    @Inject
    Blob blob;

    @Override
    protected Consensus consensus() {
        return consensus;
    }

    @Override
    protected Blob blob() {
        return blob;
    }

    @Override
    protected int killStride() {
        return 4;
    }

    @Override
    protected int repetitions() {
        return 1;
    }

    @Override
    protected int workloadOperations() {
        return 60;
    }
}
