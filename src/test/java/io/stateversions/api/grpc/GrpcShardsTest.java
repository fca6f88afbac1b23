package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.Change;
import io.stateversions.api.grpc.v1.ChangeOp;
import io.stateversions.api.grpc.v1.Diff;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.GetVersionRequest;
import io.stateversions.api.grpc.v1.HeartbeatWriterRequest;
import io.stateversions.api.grpc.v1.ListDiffsRequest;
import io.stateversions.api.grpc.v1.ListDiffsResponse;
import io.stateversions.api.grpc.v1.ListRollupsRequest;
import io.stateversions.api.grpc.v1.ListRollupsResponse;
import io.stateversions.api.grpc.v1.ListShardsRequest;
import io.stateversions.api.grpc.v1.ListShardsResponse;
import io.stateversions.api.grpc.v1.ListVersionsRequest;
import io.stateversions.api.grpc.v1.ListVersionsResponse;
import io.stateversions.api.grpc.v1.OpenShardResponse;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RunGcRequest;
import io.stateversions.api.grpc.v1.RunGcResponse;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.api.grpc.v1.ShardSummary;
import io.stateversions.api.grpc.v1.VersionInfo;
import io.stateversions.api.grpc.v1.WriteRollupRequest;
import io.stateversions.api.grpc.v1.WriteRollupResponse;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** OpenShard, ListShards, GetState, ListVersions, GetVersion, ListDiffs, ListRollups over gRPC. */
@QuarkusTest
class GrpcShardsTest extends GrpcTestSupport {

    @Test
    void openShardInitializesOnceAndReturnsTheSummary() {
        ShardId shard = ShardId.random();
        OpenShardResponse first = client.openShard(openRequest(shard).build());
        assertThat(first.getCreated()).isTrue();
        ShardSummary summary = first.getShard();
        assertThat(summary.getShardId()).isEqualTo(shard.toString());
        assertThat(summary.getSeqno()).isEqualTo(1);
        assertThat(summary.getSeqnoSince()).isEqualTo(1);
        assertThat(summary.getEarliestSeqno()).isEqualTo(1);
        assertThat(summary.getSince()).isEqualTo(frontier(0));
        assertThat(summary.getUpper()).isEqualTo(frontier(0));
        assertThat(summary.getCodecs().getKeyCodec()).isEqualTo("bytes");
        assertThat(summary.getCodecs().getValCodec()).isEqualTo("bytes");
        assertThat(summary.getCodecs().getTsCodec()).isEqualTo("u64");
        assertThat(summary.getCodecs().getDiffCodec()).isEqualTo("i64");
        assertThat(summary.getTombstone()).isFalse();

        OpenShardResponse second = client.openShard(openRequest(shard).build());
        assertThat(second.getCreated()).isFalse();
        assertThat(second.getShard()).isEqualTo(summary);
    }

    @Test
    void openShardWithOtherCodecsIsCodecMismatchAndChangesNothing() {
        ShardId shard = openShard();
        ErrorInfo info = assertError(() -> client.openShard(openRequest(shard).setValCodec("json").build()),
                Status.Code.FAILED_PRECONDITION, "codec_mismatch");
        assertMembers(info, Map.of("actual",
                "{\"keyCodec\":\"bytes\",\"valCodec\":\"bytes\",\"tsCodec\":\"u64\",\"diffCodec\":\"i64\"}"));
        assertThat(seqno(shard)).isEqualTo(1);
        assertThat(state(shard).getCodecs().getValCodec()).isEqualTo("bytes");
    }

    @Test
    void openShardRejectsBadInputBeforeTouchingStorage() {
        UUID uuid = UUID.randomUUID();
        for (String bad : List.of("", "x", uuid.toString(), "S" + uuid, "r" + uuid, "s" + uuid + " ",
                "s" + uuid.toString().replace("-", ""), "s{" + uuid + "}")) {
            assertInvalidArgument(() -> client.openShard(openRequest(ShardId.random()).setShardId(bad).build()),
                    "invalid_id");
        }
        ShardId shard = ShardId.random();
        assertInvalidArgument(() -> client.openShard(openRequest(shard).setKeyCodec("").build()), "invalid_request");
        assertInvalidArgument(() -> client.openShard(openRequest(shard).setDiffCodec("").build()), "invalid_request");
        assertInvalidArgument(() -> client.openShard(openRequest(shard).setTsCodec("x".repeat(257)).build()),
                "invalid_request");
        assertError(() -> state(shard), Status.Code.NOT_FOUND, "shard_not_found");

        OpenShardResponse longest = client.openShard(openRequest(shard).setTsCodec("x".repeat(256)).build());
        assertThat(longest.getShard().getCodecs().getTsCodec()).hasSize(256);
    }

    @Test
    void listShardsPagesInAscendingOrder() {
        List<ShardId> mine = new ArrayList<>(List.of(openShard(), openShard(), openShard()));
        mine.sort(Comparator.naturalOrder());

        List<String> all = new ArrayList<>();
        ListShardsRequest.Builder request = ListShardsRequest.newBuilder().setLimit(50);
        while (true) {
            ListShardsResponse page = client.listShards(request.build());
            assertThat(page.getShardsCount()).isLessThanOrEqualTo(50);
            all.addAll(page.getShardsList());
            if (!page.hasNext()) {
                break;
            }
            assertThat(page.getNext()).isEqualTo(page.getShards(page.getShardsCount() - 1));
            request.setAfter(page.getNext());
        }
        List<ShardId> parsed = all.stream().map(ShardId::parse).toList();
        assertThat(parsed).isSortedAccordingTo(Comparator.naturalOrder()).doesNotHaveDuplicates();
        assertThat(parsed).containsSubsequence(mine);

        ListShardsResponse one = client.listShards(ListShardsRequest.newBuilder()
                .setAfter(mine.get(0).toString()).setLimit(1).build());
        assertThat(one.getShardsCount()).isEqualTo(1);
        assertThat(ShardId.parse(one.getShards(0))).isGreaterThan(mine.get(0));
        assertThat(ShardId.parse(one.getShards(0))).isLessThanOrEqualTo(mine.get(1));
        assertThat(one.getNext()).isEqualTo(one.getShards(0));

        ListShardsResponse defaultLimit = client.listShards(ListShardsRequest.getDefaultInstance());
        assertThat(defaultLimit.getShardsCount()).isBetween(Math.min(all.size(), 1000), 1000);
    }

    @Test
    void listShardsRejectsBadParameters() {
        assertInvalidArgument(() -> client.listShards(ListShardsRequest.newBuilder().setLimit(0).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.listShards(ListShardsRequest.newBuilder().setLimit(1001).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.listShards(ListShardsRequest.newBuilder().setLimit(-1).build()),
                "invalid_request"); // uint32 max
        assertInvalidArgument(() -> client.listShards(ListShardsRequest.newBuilder().setAfter("nope").build()),
                "invalid_id");
        assertInvalidArgument(() -> client.listShards(ListShardsRequest.newBuilder().setAfter("").build()),
                "invalid_id");
    }

    @Test
    void getStateRendersTheWholeState() {
        ShardId shard = openShard();
        WriterId writer = WriterId.random();
        client.registerWriter(RegisterWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).setPurpose("state test").setLeaseDurationMs(60_000).build());
        appendOk(shard, writer, 0, 5);

        ShardState state = state(shard);
        assertThat(state.getShardId()).isEqualTo(shard.toString());
        assertThat(state.getSeqno()).isEqualTo(3);
        assertThat(state.getUpper()).isEqualTo(frontier(5));
        assertThat(state.getSince()).isEqualTo(frontier(0));
        assertThat(state.getWalltimeMs()).isPositive();
        assertThat(state.getHostname()).isNotEmpty();
        assertThat(state.getApplierVersion()).matches("\\d+\\.\\d+\\.\\d+");
        assertThat(state.getRollupsList()).isNotEmpty();
        assertThat(state.getRollups(0).getSeqno()).isEqualTo(1);
        assertThat(state.getRollups(0).getKey()).startsWith("v1/r");
        assertThat(state.getWritersList()).singleElement().satisfies(w -> {
            assertThat(w.getWriterId()).isEqualTo(writer.toString());
            assertThat(w.getPurpose()).isEqualTo("state test");
            assertThat(w.getLeaseDurationMs()).isEqualTo(60_000);
            assertThat(w.getLastHeartbeatMs()).isPositive();
            assertThat(w.getMostRecentWriteUpper()).isEqualTo(frontier(5));
            assertThat(w.getMostRecentWriteToken()).startsWith("i");
        });
        assertThat(state.getBatchesList()).singleElement().satisfies(b -> {
            assertThat(b.getLower()).isEqualTo(frontier(0));
            assertThat(b.getUpper()).isEqualTo(frontier(5));
            assertThat(b.getSince()).isEqualTo(frontier(0));
            assertThat(b.getLen()).isEqualTo(1);
            assertThat(b.getPartsList()).singleElement().satisfies(p -> {
                assertThat(p.getBlob().getKey()).startsWith(writer + "/p");
                assertThat(p.getBlob().getEncodedSizeBytes()).isEqualTo(100);
            });
        });
        assertThat(state.getStats().getBatchCount()).isEqualTo(1);
        assertThat(state.getStats().getPartCount()).isEqualTo(1);
        assertThat(state.getStats().getUpdateCount()).isEqualTo(1);
        assertThat(state.getStats().getBatchBytes()).isEqualTo(100);
        assertThat(state.getStats().getInlineParts()).isZero();
    }

    @Test
    void getStateOfAnUnknownOrMalformedShard() {
        assertError(() -> state(ShardId.random()), Status.Code.NOT_FOUND, "shard_not_found");
        assertInvalidArgument(() -> client.getState(GetStateRequest.newBuilder().setShardId("s123").build()),
                "invalid_id");
        assertInvalidArgument(() -> client.getState(GetStateRequest.getDefaultInstance()), "invalid_id");
    }

    @Test
    void listVersionsPagesThroughTheLiveVersions() {
        ShardId shard = openShard();
        WriterId writer = register(shard);
        for (int i = 0; i < 3; i++) {
            client.heartbeatWriter(HeartbeatWriterRequest.newBuilder().setShardId(shard.toString())
                    .setWriterId(writer.toString()).build());
        }
        long current = seqno(shard);
        assertThat(current).isEqualTo(5);

        ListVersionsResponse all = client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(all.getEarliest()).isEqualTo(1);
        assertThat(all.getCurrent()).isEqualTo(current);
        assertThat(all.getVersionsList()).extracting(VersionInfo::getSeqno).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(all.getVersionsList()).allSatisfy(v -> {
            assertThat(v.getWalltimeMs()).isPositive();
            assertThat(v.getDiffBytes()).isPositive();
        });
        assertThat(all.hasNext()).isFalse();

        ListVersionsResponse first = client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).setLimit(2).build());
        assertThat(first.getVersionsList()).extracting(VersionInfo::getSeqno).containsExactly(1L, 2L);
        assertThat(first.getNext()).isEqualTo(3);
        ListVersionsResponse rest = client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).setFrom(first.getNext()).setLimit(3).build());
        assertThat(rest.getVersionsList()).extracting(VersionInfo::getSeqno).containsExactly(3L, 4L, 5L);
        assertThat(rest.hasNext()).isFalse();
    }

    @Test
    void listVersionsRejectsBadParameters() {
        ShardId shard = openShard();
        assertInvalidArgument(() -> client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).setFrom(TOO_LARGE).build()), "invalid_request");
        assertInvalidArgument(() -> client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).setLimit(0).build()), "invalid_request");
        assertInvalidArgument(() -> client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId("shard").build()), "invalid_id");
        assertError(() -> client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(ShardId.random().toString()).build()), Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void getVersionOfLiveAbsentAndTruncatedVersions() {
        ShardId shard = openShard();
        WriterId writer = register(shard);
        client.heartbeatWriter(HeartbeatWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).build());

        ShardState v1 = client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString()).setSeqno(1)
                .build());
        assertThat(v1.getSeqno()).isEqualTo(1);
        assertThat(v1.getWritersList()).isEmpty();
        ShardState v2 = client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString()).setSeqno(2)
                .build());
        assertThat(v2.getWritersList()).extracting(w -> w.getWriterId()).containsExactly(writer.toString());

        long current = seqno(shard);
        assertError(() -> client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString())
                .setSeqno(current + 1).build()), Status.Code.NOT_FOUND, "version_not_found");
        assertInvalidArgument(() -> client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString())
                .setSeqno(TOO_LARGE).build()), "invalid_request");
        assertError(() -> client.getVersion(GetVersionRequest.newBuilder().setShardId(ShardId.random().toString())
                .setSeqno(1).build()), Status.Code.NOT_FOUND, "shard_not_found");

    }

    @Test
    void getVersionBelowTheEarliestLiveVersionIsTruncated() {
        ShardId shard = openShard();
        WriterId writer = register(shard);
        client.heartbeatWriter(HeartbeatWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).build());
        WriteRollupResponse rollup = client.writeRollup(WriteRollupRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(rollup.hasRollupKey()).isTrue();
        RunGcResponse gc = client.runGc(RunGcRequest.newBuilder().setShardId(shard.toString()).build());
        assertThat(gc.getTruncatedBelow()).isGreaterThan(1);

        assertError(() -> client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString())
                .setSeqno(1).build()), Status.Code.OUT_OF_RANGE, "version_truncated");
        ListVersionsResponse versions = client.listVersions(ListVersionsRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(versions.getEarliest()).isEqualTo(gc.getTruncatedBelow());
        assertThat(versions.getVersions(0).getSeqno()).isEqualTo(gc.getTruncatedBelow());
        assertThat(state(shard).getEarliestSeqno()).isEqualTo(gc.getTruncatedBelow());
        assertThat(client.getVersion(GetVersionRequest.newBuilder().setShardId(shard.toString())
                .setSeqno(gc.getTruncatedBelow()).build()).getSeqno()).isEqualTo(gc.getTruncatedBelow());
    }

    @Test
    void listDiffsDecodesEachVersion() {
        ShardId shard = openShard();
        WriterId writer = register(shard);

        ListDiffsResponse diffs = client.listDiffs(ListDiffsRequest.newBuilder().setShardId(shard.toString())
                .build());
        assertThat(diffs.getDiffsList()).extracting(Diff::getSeqnoTo).containsExactly(1L, 2L);
        assertThat(diffs.hasNext()).isFalse();
        Diff registered = diffs.getDiffs(1);
        assertThat(registered.getSeqnoFrom()).isEqualTo(1);
        assertThat(registered.getWalltimeMs()).isPositive();
        assertThat(registered.getLatestRollupKey()).startsWith("v1/r");
        assertThat(registered.getChangesList())
                .filteredOn(c -> c.getOp() == ChangeOp.CHANGE_OP_INSERT)
                .filteredOn(c -> c.hasKey() && c.getKey().toString().contains(writer.toString()))
                .singleElement()
                .satisfies(c -> {
                    assertThat(c.getField()).isNotEmpty();
                    assertThat(c.hasOld()).isFalse();
                    assertThat(c.hasNew()).isTrue();
                });
        assertThat(registered.getChangesList()).extracting(Change::getOp).doesNotContain(ChangeOp.CHANGE_OP_UNSPECIFIED);

        ListDiffsResponse first = client.listDiffs(ListDiffsRequest.newBuilder().setShardId(shard.toString())
                .setLimit(1).build());
        assertThat(first.getDiffsList()).extracting(Diff::getSeqnoTo).containsExactly(1L);
        assertThat(first.getNext()).isEqualTo(2);
        ListDiffsResponse second = client.listDiffs(ListDiffsRequest.newBuilder().setShardId(shard.toString())
                .setFrom(first.getNext()).build());
        assertThat(second.getDiffsList()).containsExactly(registered);

        assertInvalidArgument(() -> client.listDiffs(ListDiffsRequest.newBuilder().setShardId(shard.toString())
                .setFrom(TOO_LARGE).build()), "invalid_request");
        assertInvalidArgument(() -> client.listDiffs(ListDiffsRequest.newBuilder().setShardId(shard.toString())
                .setLimit(1001).build()), "invalid_request");
        assertError(() -> client.listDiffs(ListDiffsRequest.newBuilder().setShardId(ShardId.random().toString())
                .build()), Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void listRollupsAfterARollupIsWritten() {
        ShardId shard = openShard();
        ListRollupsResponse initial = client.listRollups(ListRollupsRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(initial.getRollupsList()).singleElement().satisfies(r -> {
            assertThat(r.getSeqno()).isEqualTo(1);
            assertThat(r.getKey()).startsWith("v1/r");
        });

        register(shard);
        WriteRollupResponse written = client.writeRollup(WriteRollupRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(written.getRollupKey()).startsWith("v2/r");
        assertThat(written.getSeqno()).isGreaterThan(2);

        ListRollupsResponse rollups = client.listRollups(ListRollupsRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(rollups.getRollupsList()).extracting(r -> r.getSeqno()).containsExactly(1L, 2L);
        assertThat(rollups.getRollups(1).getKey()).isEqualTo(written.getRollupKey());
        assertThat(rollups.getRollups(1).hasEncodedSizeBytes()).isTrue();
        assertThat(rollups.getRollups(1).getEncodedSizeBytes()).isPositive();
        assertThat(state(shard).getRollupsList()).isEqualTo(rollups.getRollupsList());

        assertError(() -> client.listRollups(ListRollupsRequest.newBuilder().setShardId(ShardId.random().toString())
                .build()), Status.Code.NOT_FOUND, "shard_not_found");
        assertInvalidArgument(() -> client.listRollups(ListRollupsRequest.newBuilder().setShardId("s").build()),
                "invalid_id");
    }

    private WriterId register(ShardId shard) {
        WriterId writer = WriterId.random();
        client.registerWriter(RegisterWriterRequest.newBuilder().setShardId(shard.toString())
                .setWriterId(writer.toString()).setPurpose("test").build());
        return writer;
    }
}
