package io.stateversions.bench;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.api.grpc.v1.ShardState;
import org.junit.jupiter.api.Test;

/** What the memory workload accepts as a shard that still holds its one append. */
class OnceAppendedShardsTest {

    private static final String WRITER = "w11111111-1111-1111-1111-111111111111";

    @Test
    void theOneBatchOfItsWriterIsRight() {
        assertThat(OnceAppendedShards.wrongBatch(state(batch(0, 1, WRITER + "/p1")), WRITER)).isNull();
    }

    @Test
    void noBatchAnotherRangeOrAnotherWritersPartIsWrong() {
        assertThat(OnceAppendedShards.wrongBatch(ShardState.getDefaultInstance(), WRITER))
                .isEqualTo("0 batches instead of 1");
        assertThat(OnceAppendedShards.wrongBatch(state(batch(1, 2, WRITER + "/p1")), WRITER))
                .contains("[1]..[2] instead of [0]..[1]");
        assertThat(OnceAppendedShards.wrongBatch(state(batch(0, 1, "w2/p1")), WRITER))
                .contains("not the one part of writer " + WRITER);
    }

    private static ShardState state(Batch batch) {
        return ShardState.newBuilder().addBatches(batch).build();
    }

    private static Batch batch(long lower, long upper, String partKey) {
        return Batch.newBuilder().setLower(ServiceGrpc.frontier(lower)).setUpper(ServiceGrpc.frontier(upper))
                .setLen(1).addParts(Part.newBuilder().setBlob(BlobPart.newBuilder().setKey(partKey))).build();
    }
}
