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
     * A batch's message is built for each answer and not kept with the batch (kept, the messages doubled the heap of
     * every cached batch): two answers get equal messages, not one shared instance, and an equal batch renders to an
     * equal message.
     */
    @Test
    void aBatchIsRenderedForEachAnswerAndNotKept() {
        List<HollowBatch> inputs = List.of(TestStates.batch(0, 1, 3), TestStates.batch(1, 2, 4));
        FueledMergeReq request = new FueledMergeReq(new Description(Frontier.of(0), Frontier.of(2), Frontier.MIN),
                inputs);

        MergeRequest first = GrpcResponses.mergeRequest(request);
        MergeRequest second = GrpcResponses.mergeRequest(request);

        for (int i = 0; i < inputs.size(); i++) {
            assertThat(second.getInputs(i)).isNotSameAs(first.getInputs(i)).isEqualTo(first.getInputs(i));
        }
        HollowBatch equal = inputs.get(0).withDesc(inputs.get(0).desc()); // equal, another instance
        assertThat(GrpcResponses.batch(equal)).isEqualTo(first.getInputs(0));
        assertThat(first.getInputs(1).getLen()).isEqualTo(4);
        assertThat(first.getInputs(1).getLower().getElementsList()).containsExactly(1L);
    }
}
