package io.stateversions.api.health;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import io.stateversions.config.StorageConfig;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.Failures;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready iff both stores answer: Consensus {@code head("LIVENESS")} and Blob {@code get("LIVENESS")} (spec §7.1,
 * §8.1), each within {@code stateversions.health.storage-timeout}. Liveness does not depend on storage: an outage
 * takes replicas out of the load balancer, it does not restart them.
 */
@Readiness
@ApplicationScoped
public class StorageReadiness implements AsyncHealthCheck {

    private final Consensus consensus;
    private final Blob blob;
    private final long timeoutMillis;

    public StorageReadiness(Consensus consensus, Blob blob, StorageConfig config) {
        this.consensus = consensus;
        this.blob = blob;
        this.timeoutMillis = config.health().storageTimeout().toMillis();
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        CompletableFuture<String> consensusState = probe(consensus.head(Consensus.LIVENESS_KEY));
        CompletableFuture<String> blobState = probe(blob.get(Blob.LIVENESS_KEY));
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
