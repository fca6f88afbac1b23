package io.stateversions.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.stateversions.api.rest.ApiConfig;
import io.stateversions.machine.MachineConfig;
import io.stateversions.testing.Management;
import jakarta.inject.Inject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every configuration key the README documents with a default can be given: the service starts with all of them set
 * to their documented defaults at once. (Until a key has a config mapping, the service refuses to start when it is
 * given: {@code stateversions.api.drain-refusal} did, "does not map to any root".)
 */
@QuarkusTest
@TestProfile(DocumentedConfigTest.EveryDocumentedKey.class)
class DocumentedConfigTest {

    private static final Pattern ROW = Pattern.compile("^\\| `(stateversions\\.[a-z0-9.-]+)` \\| `([^`|]*)` \\|",
            Pattern.MULTILINE);

    /** The rows {@code | `key` | `default` | …} of the README's configuration tables. */
    static Map<String, String> documented() {
        String readme;
        try {
            readme = Files.readString(Path.of("README.md"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Map<String, String> keys = new TreeMap<>();
        Matcher row = ROW.matcher(readme);
        while (row.find()) {
            keys.put(row.group(1), row.group(2));
        }
        keys.remove("stateversions.data-dir"); // the tests' storage is their own
        return keys;
    }

    public static class EveryDocumentedKey implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return documented();
        }
    }

    @Inject
    ApiConfig api;

    @Inject
    MachineConfig machine;

    @Test
    void theServiceStartsWithEveryDocumentedKeyGivenItsDocumentedDefault() {
        Map<String, String> keys = documented();
        assertThat(keys).hasSizeGreaterThan(50).containsEntry("stateversions.api.drain-refusal", "1s")
                .containsEntry("stateversions.machine.max-cached-shards", "20000");
        assertThat(api.drainRefusal()).isEqualTo(Duration.ofSeconds(1));
        assertThat(machine.maxCachedShards()).isEqualTo(20000);
        Management.given().get("/q/health/ready").then().statusCode(200);
    }
}
