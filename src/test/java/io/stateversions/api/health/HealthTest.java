package io.stateversions.api.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import org.junit.jupiter.api.Test;

@QuarkusTest
class HealthTest {

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
}
