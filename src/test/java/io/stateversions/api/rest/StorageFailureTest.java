package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.json;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.stateversions.testing.VanishingPostgres;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * With Consensus unreachable (its PostgreSQL stopped after start-up), storage failures are never client errors: a read answers {@code 503
 * storage_unavailable}, a mutation that may still land {@code 504 outcome_unknown}. Bad input is still a 400: it
 * is refused before storage is touched.
 */
@QuarkusTest
@TestProfile(StorageFailureTest.ConsensusThatStops.class)
class StorageFailureTest {

    public static class ConsensusThatStops extends VanishingPostgres.Profile {
        @Override
        public Map<String, String> getConfigOverrides() {
            // Refused connections are retried until the request timeout.
            return Map.of("stateversions.machine.request-timeout", "1s");
        }
    }

    VanishingPostgres postgres;

    @BeforeEach
    void stopPostgres() {
        postgres.stopServer();
    }

    @Test
    void readIsStorageUnavailable() {
        problem(given().get(shards(ShardId.random())).then(), 503, "storage_unavailable")
                .body("title", equalTo("Storage unavailable"));
        problem(given().get("/v1/shards").then(), 503, "storage_unavailable");
    }

    @Test
    void mutationIsOutcomeUnknown() {
        problem(json(Rest.CODECS).put(shards(ShardId.random())).then(), 504, "outcome_unknown")
                .body("title", equalTo("Outcome unknown"))
                .body("detail", containsString("may"));
        problem(json(Rest.append(WriterId.random().toString(), Rest.token(), 0, 1, 1))
                .post(shards(ShardId.random()) + "/batches").then(), 504, "outcome_unknown");
    }

    @Test
    void badInputIsStillABadRequest() {
        problem(given().get("/v1/shards/nope").then(), 400, "invalid_id");
        problem(json(Map.of("purpose", 5)).post(shards(ShardId.random()) + "/leased-readers").then(), 400,
                "invalid_request");
    }
}
