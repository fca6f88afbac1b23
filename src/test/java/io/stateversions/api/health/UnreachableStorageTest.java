package io.stateversions.api.health;

import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.startsWith;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.testing.Management;
import io.stateversions.testing.VanishingPostgres;
import org.junit.jupiter.api.Test;

/**
 * With Consensus unreachable after start-up (its PostgreSQL stopped) the service is live and not ready: it leaves
 * the load balancer, and is not restarted. (Start-up itself waits for storage, see DeploymentIdentityTest.)
 */
@QuarkusTest
@TestProfile(VanishingPostgres.Profile.class)
class UnreachableStorageTest {

    VanishingPostgres postgres;

    @Test
    void notReadyButLive() {
        Management.given().when().get("/q/health/ready").then().statusCode(200);

        postgres.stopServer();

        Management.given().when().get("/q/health/ready").then().statusCode(503)
                .body("status", equalTo("DOWN"))
                .body("checks.find { it.name == 'storage' }.data.consensus", startsWith("DOWN: postgres head failed"))
                .body("checks.find { it.name == 'storage' }.data.blob", equalTo("UP"));
        Management.given().when().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
    }
}
