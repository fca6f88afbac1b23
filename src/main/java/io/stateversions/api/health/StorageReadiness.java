package io.stateversions.api.health;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.stateversions.config.StorageConfig;
import io.stateversions.location.Failures;
import io.stateversions.stateversions.DeploymentIdentity;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready iff both stores answer, each within {@code stateversions.health.storage-timeout}, and still belong to the
 * deployment this replica started in: Consensus {@code head} of the deployment identity must name it, and Blob
 * {@code get} of its marker must find it ({@link DeploymentIdentity#checkConsensus}, {@link
 * DeploymentIdentity#checkBlob}). One read of each store, as the probes of spec §7.1 and §8.1. Liveness does not
 * depend on storage: an outage takes replicas out of the load balancer, it does not restart them.
 */
@Readiness
@ApplicationScoped
public class StorageReadiness implements AsyncHealthCheck {

    private final DeploymentIdentity identity;
    private final long timeoutMillis;

    @Inject
    public StorageReadiness(DeploymentIdentity identity, StorageConfig config) {
        this(identity, config.health().storageTimeout());
    }

    StorageReadiness(DeploymentIdentity identity, Duration timeout) {
        this.identity = identity;
        this.timeoutMillis = timeout.toMillis();
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        CompletableFuture<String> consensusState = probe(identity.checkConsensus());
        CompletableFuture<String> blobState = probe(identity.checkBlob());
        return Uni.createFrom().completionStage(CompletableFuture.allOf(consensusState, blobState).thenApply(done -> {
            HealthCheckResponseBuilder response = HealthCheckResponse.named("storage")
                    .withData("consensus", consensusState.join())
                    .withData("blob", blobState.join());
            return response.status(consensusState.join().equals("UP") && blobState.join().equals("UP")).build();
        }));
    }

    private CompletableFuture<String> probe(CompletionStage<?> call) {
        return call.toCompletableFuture().copy().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
                .handle((answer, error) -> {
                    if (error == null) {
                        return "UP";
                    }
                    Throwable cause = Failures.unwrap(error);
                    return cause instanceof TimeoutException
                            ? "DOWN: no answer within " + timeoutMillis + " ms"
                            : "DOWN: " + cause.getMessage();
                });
    }
}
