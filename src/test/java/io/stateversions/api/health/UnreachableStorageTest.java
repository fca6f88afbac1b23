package io.stateversions.api.health;

import static io.restassured.RestAssured.given;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With Consensus unreachable the service starts, is live, and is not ready: it leaves the load balancer. */
@QuarkusTest
@TestProfile(UnreachableStorageTest.UnreachableConsensus.class)
class UnreachableStorageTest {

    public static class UnreachableConsensus implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Nothing listens on port 1 of loopback: connections are refused at once.
            return Map.of("stateversions.consensus.url", "postgres://postgres@127.0.0.1:1/postgres");
        }
    }

    @Test
    void notReadyButLive() {
        given().when().get("/q/health/ready").then().statusCode(503)
                .body("status", equalTo("DOWN"))
                .body("checks.find { it.name == 'storage' }.data.consensus", startsWith("DOWN: postgres prepare failed: no connection"))
                .body("checks.find { it.name == 'storage' }.data.blob", equalTo("UP"));
        given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }
}
