package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.google.protobuf.Value;
import com.google.protobuf.util.JsonFormat;
import io.stateversions.api.grpc.v1.MergeRequest;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.HollowBatch;
import io.stateversions.testing.TestStates;
import java.util.List;
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

    /**
     * A batch is rendered once: every answer holding it (each append answering with the merge requests it formed)
     * reuses that message, and it is the message an equal batch renders to.
     */
    @Test
    void aBatchIsRenderedOnceAndReusedByEveryAnswer() {
        List<HollowBatch> inputs = List.of(TestStates.batch(0, 1, 3), TestStates.batch(1, 2, 4));
        FueledMergeReq request = new FueledMergeReq(new Description(Frontier.of(0), Frontier.of(2), Frontier.MIN),
                inputs);

        MergeRequest first = GrpcResponses.mergeRequest(request);
        MergeRequest second = GrpcResponses.mergeRequest(request);

        for (int i = 0; i < inputs.size(); i++) {
            assertThat(second.getInputs(i)).isSameAs(first.getInputs(i));
        }
        HollowBatch equal = inputs.get(0).withDesc(inputs.get(0).desc()); // equal, another instance
        assertThat(GrpcResponses.batch(equal)).isNotSameAs(first.getInputs(0)).isEqualTo(first.getInputs(0));
        assertThat(first.getInputs(1).getLen()).isEqualTo(4);
        assertThat(first.getInputs(1).getLower().getElementsList()).containsExactly(1L);
    }
}
