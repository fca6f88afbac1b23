package io.stateversions.machine;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import jakarta.inject.Inject;

/**
 * {@link ClientSafetyTest} on the service's own storage beans: PostgreSQL and S3 (S3Proxy), started by the test
 * resources ({@link io.stateversions.testing.GlobalStorage}).
 */
@QuarkusTest
class PostgresS3ClientSafetyTest extends ClientSafetyTest {

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
}
