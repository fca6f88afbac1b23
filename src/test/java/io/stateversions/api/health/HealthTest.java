package io.stateversions.api.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.location.Blob;
import io.stateversions.stateversions.DeploymentIdentity;
import jakarta.inject.Inject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

@QuarkusTest
class HealthTest {

    @Inject
    DeploymentIdentity identity;

    @Inject
    Blob blob;

    @Test
    void readyWhenConsensusAndBlobAnswer() {
        given().when().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'storage' }.data.consensus", equalTo("UP"))
                .body("checks.find { it.name == 'storage' }.data.blob", equalTo("UP"));
    }

    @Test
    void liveIndependentlyOfStorage() {
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    /** The Kubernetes startup probe (k8s/deployment.yaml). */
    @Test
    void startedOnceRunning() {
        given().when().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"));
    }

    /** The marker of the service's deployment is put back afterwards: the other tests share this service. */
    @Test
    void notReadyWhileTheMarkerOfItsDeploymentIsMissing() throws Exception {
        String marker = DeploymentIdentity.markerKey(identity.established().orElseThrow().id());
        byte[] value = blob.get(marker).toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
        blob.delete(marker).toCompletableFuture().get(30, TimeUnit.SECONDS);
        try {
            given().when().get("/q/health/ready").then().statusCode(503)
                    .body("checks.find { it.name == 'storage' }.data.consensus", equalTo("UP"))
                    .body("checks.find { it.name == 'storage' }.data.blob", equalTo("DOWN: blob store"
                            + " s3://state-versions/service lacks " + marker + ", the marker of this replica's deployment:"
                            + " the blob store was replaced or the marker deleted; restart the replica to check its"
                            + " storage again"));
        } finally {
            blob.set(marker, value).toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        given().when().get("/q/health/ready").then().statusCode(200);
    }
}
