package io.stateversions.api.health;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.memory.MemoryBlob;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.DeploymentIdentity;
import io.stateversions.stateversions.DeploymentIdentity.Locations;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

/**
 * Readiness names what is wrong with the storage of a running replica: its consensus URL now leads to a database of
 * another deployment, or to one without any; the marker of its deployment is gone from its blob store.
 */
class StorageReadinessTest {

    private static final Locations WHERE = new Locations("postgres://db.internal/state", "s3://bucket/prefix");
    private static final Duration START_TIMEOUT = Duration.ofSeconds(10);

    private final Consensus consensus = new MemoryConsensus();
    private final Blob blob = new MemoryBlob(false);
    /** The database the replica's consensus URL leads to. */
    private final AtomicReference<Consensus> reached = new AtomicReference<>(consensus);
    private final DeploymentIdentity identity = new DeploymentIdentity(leadingTo(reached), blob, WHERE, false);
    private final StorageReadiness readiness = new StorageReadiness(identity, Duration.ofSeconds(5));

    @Test
    void up_while_both_stores_belong_to_the_deployment_the_replica_started_in() {
        identity.establish(START_TIMEOUT);

        HealthCheckResponse response = check();

        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.Status.UP);
        assertThat(response.getData()).contains(Map.of("consensus", "UP", "blob", "UP"));
    }

    @Test
    void down_until_the_deployment_was_checked_at_start_up() {
        HealthCheckResponse response = check();

        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(response.getData().orElseThrow().get("blob")).isEqualTo("DOWN: deployment identity not checked yet");
    }

    @Test
    void down_naming_the_marker_when_it_disappears_from_the_blob_store() {
        UUID id = identity.establish(START_TIMEOUT).id();

        blob.delete(DeploymentIdentity.markerKey(id)).toCompletableFuture().join();

        HealthCheckResponse response = check();
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(response.getData().orElseThrow()).containsEntry("consensus", "UP").containsEntry("blob",
                "DOWN: blob store s3://bucket/prefix lacks deployment/" + id + ", the marker of this replica's"
                        + " deployment: the blob store was replaced or the marker deleted; restart the replica to check"
                        + " its storage again");
    }

    @Test
    void down_naming_both_deployments_when_the_consensus_now_belongs_to_another() {
        UUID id = identity.establish(START_TIMEOUT).id();
        Consensus other = new MemoryConsensus();
        UUID otherId = new DeploymentIdentity(other, new MemoryBlob(false), WHERE, false).establish(START_TIMEOUT).id();

        reached.set(other);

        HealthCheckResponse response = check();
        assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
        assertThat(response.getData().orElseThrow()).containsEntry("blob", "UP").containsEntry("consensus",
                "DOWN: consensus postgres://db.internal/state now belongs to deployment " + otherId + ", but this"
                        + " replica started in deployment " + id + ": the consensus was replaced or reset; restart the"
                        + " replica to check its storage again");
    }

    @Test
    void down_when_the_consensus_has_no_deployment_identity_any_more() {
        identity.establish(START_TIMEOUT);

        reached.set(new MemoryConsensus());

        assertThat(check().getData().orElseThrow().get("consensus").toString())
                .startsWith("DOWN: consensus postgres://db.internal/state holds no deployment identity, but this"
                        + " replica started in deployment ");
    }

    private HealthCheckResponse check() {
        return readiness.call().await().atMost(Duration.ofSeconds(10));
    }

    /** A consensus client whose every call goes to whatever database {@code target} holds at the time. */
    private static Consensus leadingTo(AtomicReference<Consensus> target) {
        return (Consensus) Proxy.newProxyInstance(Consensus.class.getClassLoader(), new Class<?>[] {Consensus.class},
                (proxy, method, args) -> {
                    try {
                        return method.invoke(target.get(), args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
    }
}
