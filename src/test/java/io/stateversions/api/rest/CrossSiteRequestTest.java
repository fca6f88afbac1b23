package io.stateversions.api.rest;

import static io.restassured.RestAssured.given;
import static io.stateversions.api.rest.Rest.problem;
import static io.stateversions.api.rest.Rest.shards;
import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import io.vertx.core.net.HostAndPort;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * A web page of another site cannot make a browser change state here (cross-site request forgery): a "simple" POST
 * (no body, or text/plain; no CORS preflight) that a browser marks as cross-site is 403 forbidden and commits
 * nothing, on the API and on the inspector's buttons. The service's own pages, and clients that are not browsers
 * (no Sec-Fetch-Site, no Origin), are served.
 */
@QuarkusTest
class CrossSiteRequestTest {

    @ConfigProperty(name = "quarkus.http.test-port")
    int port;

    /** A shard with a writer, whose heartbeat (a POST without a body) commits a version. */
    private static String heartbeatOfANewWriter(ShardId shard) {
        WriterId writer = WriterId.random();
        Rest.json(java.util.Map.of("purpose", "csrf")).put(shards(shard) + "/writers/" + writer).then()
                .statusCode(200);
        return shards(shard) + "/writers/" + writer + "/heartbeat";
    }

    @Test
    void aCrossSitePostIsForbiddenAndCommitsNothing() {
        ShardId shard = Rest.newShard();
        String heartbeat = heartbeatOfANewWriter(shard);
        long before = Rest.seqno(shard);

        problem(given().header("Sec-Fetch-Site", "cross-site").contentType(ContentType.TEXT).post(heartbeat).then(),
                403, "forbidden");
        problem(given().header("Sec-Fetch-Site", "same-site").post(heartbeat).then(), 403, "forbidden");
        problem(given().header("Origin", "https://evil.example").contentType(ContentType.TEXT).post(heartbeat)
                .then(), 403, "forbidden");
        problem(given().header("Origin", "null").post(heartbeat).then(), 403, "forbidden");
        given().header("Sec-Fetch-Site", "cross-site").contentType(ContentType.URLENC)
                .post("/ui/shards/" + shard + "/maintenance/rollup").then().statusCode(403);

        assertThat(Rest.seqno(shard)).as("nothing committed").isEqualTo(before);
    }

    @Test
    void theServicesOwnPagesAndClientsThatAreNotBrowsersAreServed() {
        ShardId shard = Rest.newShard();
        String heartbeat = heartbeatOfANewWriter(shard);
        long before = Rest.seqno(shard);

        given().header("Sec-Fetch-Site", "same-origin").post(heartbeat).then().statusCode(200);
        given().header("Origin", "http://localhost:" + port).post(heartbeat).then().statusCode(200);
        given().post(heartbeat).then().statusCode(200);
        given().header("Sec-Fetch-Site", "cross-site").get(shards(shard)).then().statusCode(200);

        assertThat(Rest.seqno(shard)).as("three heartbeats committed").isEqualTo(before + 3);
    }

    @Test
    void anOriginNamesThisServiceOnlyWithItsHostAndPort() {
        HostAndPort local = HostAndPort.create("localhost", 8080);
        assertThat(CrossSiteGate.isThisService("http://localhost:8080", local, false)).isTrue();
        assertThat(CrossSiteGate.isThisService("http://LOCALHOST:8080", local, false)).isTrue();
        assertThat(CrossSiteGate.isThisService("http://localhost:8081", local, false)).isFalse();
        assertThat(CrossSiteGate.isThisService("http://evil.example:8080", local, false)).isFalse();
        assertThat(CrossSiteGate.isThisService("https://svc", HostAndPort.create("svc", -1), true)).isTrue();
        assertThat(CrossSiteGate.isThisService("http://svc", HostAndPort.create("svc", -1), true)).isFalse();
        assertThat(CrossSiteGate.isThisService("null", local, false)).isFalse();
        assertThat(CrossSiteGate.isThisService("::", local, false)).isFalse();
    }
}
