package io.stateversions.testing;

import io.quarkus.test.common.TestResourceScope;
import io.quarkus.test.common.WithTestResource;

/** Starts {@link StorageServers} once for every {@code @QuarkusTest} of the suite, which then share one application. */
@WithTestResource(value = StorageServers.class, scope = TestResourceScope.GLOBAL)
public final class GlobalStorage {

    private GlobalStorage() {}
}
