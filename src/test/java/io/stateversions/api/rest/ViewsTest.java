package io.stateversions.api.rest;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.HollowBatch;
import io.stateversions.testing.TestStates;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Rendering details of the REST shapes that the resource tests do not show. */
class ViewsTest {

    /** Each batch's view is built for each answer and not kept with the batch (see GrpcResponsesTest). */
    @Test
    void aBatchViewIsBuiltForEachAnswerAndNotKept() {
        HollowBatch batch = TestStates.batch(0, 1, 3);
        FueledMergeReq request = new FueledMergeReq(new Description(Frontier.of(0), Frontier.of(2), Frontier.MIN),
                List.of(batch, TestStates.batch(1, 2, 1)));

        Views.MergeRequest first = Views.MergeRequest.of(request);
        Views.MergeRequest second = Views.mergeRequests(List.of(request)).get(0);

        assertThat(second.inputs().get(0)).isNotSameAs(first.inputs().get(0)).isEqualTo(first.inputs().get(0))
                .isEqualTo(Views.Batch.of(batch));
        assertThat(second.inputs().get(1)).isEqualTo(first.inputs().get(1));
        Views.Batch equal = Views.Batch.of(batch.withDesc(batch.desc())); // an equal batch, another instance
        assertThat(equal).isEqualTo(first.inputs().get(0));
        assertThat(equal.lower()).containsExactly(0L);
        assertThat(equal.upper()).containsExactly(1L);
        assertThat(equal.len()).isEqualTo(3);
        assertThat(equal.parts()).hasSize(1);
    }
}
