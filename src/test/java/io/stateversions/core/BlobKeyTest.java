package io.stateversions.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class BlobKeyTest {

    private static final String SHARD = "s00000000-0000-0000-0000-000000000001";
    private static final String WRITER = "w00000000-0000-0000-0000-000000000002";
    private static final String PART = "p00000000-0000-0000-0000-000000000003";
    private static final String ROLLUP = "r00000000-0000-0000-0000-000000000004";

    @Test
    void aRollupKeyHoldsItsSeqno() {
        PartialRollupKey key = PartialRollupKey.parse("v123/" + ROLLUP);

        assertThat(key.seqno()).isEqualTo(SeqNo.of(123));
        assertThat(key.rollup()).isEqualTo(RollupId.parse(ROLLUP));
        assertThat(key).hasToString("v123/" + ROLLUP);
        assertThat(key.complete(ShardId.parse(SHARD))).isEqualTo(SHARD + "/v123/" + ROLLUP);
    }

    @Test
    void rollupKeysOrderBySeqnoFirst() {
        assertThat(PartialRollupKey.parse("v9/" + ROLLUP))
                .isLessThan(PartialRollupKey.parse("v10/r00000000-0000-0000-0000-000000000000"));
    }

    @Test
    void rejectsMalformedRollupKeys() {
        for (String bad : List.of("", "v123", "123/" + ROLLUP, ROLLUP + "/v123", "v123/" + PART, "v123/" + ROLLUP
                + "/x", "v123/")) {
            assertThatThrownBy(() -> PartialRollupKey.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void aBatchPartKeyHoldsItsWriterKeyAndPart() {
        PartialBatchKey key = PartialBatchKey.parse("n0013000/" + PART);

        assertThat(key.writer()).isEqualTo(WriterKey.ofVersion(Version.parse("0.130.0")));
        assertThat(key.part()).isEqualTo(PartId.parse(PART));
        assertThat(key.complete(ShardId.parse(SHARD))).isEqualTo(SHARD + "/n0013000/" + PART);
        assertThat(PartialBatchKey.parse(WRITER + "/" + PART)).hasToString(WRITER + "/" + PART);
    }

    @Test
    void rejectsMalformedBatchPartKeys() {
        for (String bad : List.of("", "n0013000", PART + "/n0013000", "n0013000/" + ROLLUP, "v1/" + PART,
                "n0013000/" + PART + "/x", WRITER + "/")) {
            assertThatThrownBy(() -> PartialBatchKey.parse(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void parsesAFullBatchPartKey() {
        for (String writer : List.of(WRITER, "n0013000", "f0013000")) {
            BlobKey key = BlobKey.parse(SHARD + "/" + writer + "/" + PART);

            assertThat(key).isEqualTo(new BlobKey.BatchPart(ShardId.parse(SHARD),
                    PartialBatchKey.parse(writer + "/" + PART)));
            assertThat(key).hasToString(SHARD + "/" + writer + "/" + PART);
        }
    }

    @Test
    void parsesAFullRollupKey() {
        BlobKey key = BlobKey.parse(SHARD + "/v7/" + ROLLUP);

        assertThat(key).isEqualTo(new BlobKey.Rollup(ShardId.parse(SHARD), PartialRollupKey.parse("v7/" + ROLLUP)));
        assertThat(key).hasToString(SHARD + "/v7/" + ROLLUP);
        assertThat(((BlobKey.Rollup) key).key().seqno()).isEqualTo(SeqNo.of(7));
    }

    @Test
    void rejectsAnEmptyKey() {
        assertThatThrownBy(() -> BlobKey.parse("")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsTwoOrFourComponents() {
        for (String bad : List.of(SHARD + "/v7", SHARD + "/" + WRITER, SHARD + "/v7/" + ROLLUP + "/x",
                SHARD + "/" + WRITER + "/" + PART + "/" + PART, SHARD, SHARD + "/", SHARD + "//")) {
            assertThatThrownBy(() -> BlobKey.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void rejectsIdsInTheWrongPosition() {
        for (String bad : List.of(
                WRITER + "/" + SHARD + "/" + PART,
                "v7/" + SHARD + "/" + ROLLUP,
                SHARD + "/" + PART + "/" + WRITER,
                SHARD + "/" + ROLLUP + "/v7",
                SHARD + "/v7/" + PART,
                SHARD + "/" + WRITER + "/" + ROLLUP,
                SHARD + "/n0013000/v7",
                SHARD + "/" + SHARD + "/" + PART)) {
            assertThatThrownBy(() -> BlobKey.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void listingPrefixesNameTheShardAndItsRollups() {
        ShardId shard = ShardId.parse(SHARD);

        assertThat(BlobKey.shardPrefix(shard)).isEqualTo(SHARD + "/");
        assertThat(BlobKey.rollupPrefix(shard)).isEqualTo(SHARD + "/v");
        assertThat(BlobKey.parse(SHARD + "/v7/" + ROLLUP).toString()).startsWith(BlobKey.rollupPrefix(shard));
    }
}
