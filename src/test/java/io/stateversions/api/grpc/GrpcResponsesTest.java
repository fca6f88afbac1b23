package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.stateversions.core.Frontier;
import org.junit.jupiter.api.Test;

/** Rendering details that the service tests cannot reach at will. */
class GrpcResponsesTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void frontiersHaveZeroOrOneElement() {
        assertThat(GrpcResponses.frontier(Frontier.EMPTY).getElementsList()).isEmpty();
        assertThat(GrpcResponses.frontier(Frontier.of(Long.MAX_VALUE)).getElementsList())
                .containsExactly(Long.MAX_VALUE);
    }

    @Test
    void jsonBecomesValuesAndLargeIntegersKeepTheirDigits() throws Exception {
        JsonNode node = JSON.readTree("{\"a\": [1, 2.5, true, null, \"x\"], \"b\": {\"c\": 9007199254740992},"
                + " \"big\": 9223372036854775807, \"neg\": -9007199254740993, \"huge\": 123456789012345678901234567890}");
        Value value = GrpcResponses.value(node);
        assertThat(JSON.readTree(JsonFormat.printer().print(value))).isEqualTo(JSON.readTree(
                "{\"a\": [1.0, 2.5, true, null, \"x\"], \"b\": {\"c\": 9.007199254740992E15},"
                        + " \"big\": \"9223372036854775807\", \"neg\": \"-9007199254740993\","
                        + " \"huge\": \"123456789012345678901234567890\"}"));
        assertThat(value.getStructValue().getFieldsOrThrow("b").getStructValue().getFieldsOrThrow("c")
                .getNumberValue()).isEqualTo(9007199254740992.0);
    }
}
