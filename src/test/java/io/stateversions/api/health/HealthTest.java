package io.stateversions.api.health;

import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.RestAssured;
import io.stateversions.location.Blob;
import io.stateversions.stateversions.DeploymentIdentity;
import io.stateversions.testing.Management;
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
        Management.given().when().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.find { it.name == 'storage' }.data.consensus", equalTo("UP"))
                .body("checks.find { it.name == 'storage' }.data.blob", equalTo("UP"));
    }

    @Test
    void liveIndependentlyOfStorage() {
        Management.given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }

    /** The Kubernetes startup probe (k8s/deployment.yaml). */
    @Test
    void startedOnceRunning() {
        Management.given().when().get("/q/health/started").then().statusCode(200).body("status", equalTo("UP"));
    }

    /** Health, metrics and the OpenAPI document are on the management port only, none of them on the API port. */
    @Test
    void managementEndpointsAreNotOnTheApiPort() {
        for (String path : new String[] {"/q/health/ready", "/q/health/live", "/q/metrics", "/q/openapi",
                "/q/swagger-ui/"}) {
            Management.given().get(path).then().statusCode(200);
            RestAssured.given().get(path).then().statusCode(404);
        }
    }

    /** The marker of the service's deployment is put back afterwards: the other tests share this service. */
    @Test
    void notReadyWhileTheMarkerOfItsDeploymentIsMissing() throws Exception {
        String marker = DeploymentIdentity.markerKey(identity.established().orElseThrow().id());
        byte[] value = blob.get(marker).toCompletableFuture().get(30, TimeUnit.SECONDS).orElseThrow();
        blob.delete(marker).toCompletableFuture().get(30, TimeUnit.SECONDS);
        try {
            Management.given().when().get("/q/health/ready").then().statusCode(503)
                    .body("checks.find { it.name == 'storage' }.data.consensus", equalTo("UP"))
                    .body("checks.find { it.name == 'storage' }.data.blob", equalTo("DOWN: blob store"
                            + " s3://state-versions/service lacks " + marker + ", the marker of this replica's deployment:"
                            + " the blob store was replaced or the marker deleted; restart the replica to check its"
                            + " storage again"));
        } finally {
            blob.set(marker, value).toCompletableFuture().get(30, TimeUnit.SECONDS);
        }
        Management.given().when().get("/q/health/ready").then().statusCode(200);
    }
}
