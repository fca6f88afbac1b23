package io.stateversions.testing;

import io.restassured.RestAssured;
import io.restassured.specification.RequestSpecification;
import org.eclipse.microprofile.config.ConfigProvider;

/**
 * The management interface of the service under a {@code @QuarkusTest}: health, metrics and the OpenAPI document are
 * served there, on a port of their own ({@code quarkus.management.test-port} in tests), without credentials.
 */
public final class Management {

    private Management() {}

    public static int port() {
        return ConfigProvider.getConfig().getValue("quarkus.management.test-port", Integer.class);
    }

    /** A request to the management interface (plain HTTP, whatever the API port does). */
    public static RequestSpecification given() {
        return RestAssured.given().baseUri("http://localhost").port(port());
    }
}
