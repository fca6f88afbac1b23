package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.rpc.ErrorInfo;
import io.grpc.Status;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceRequest;
import io.stateversions.api.grpc.v1.CompareAndDowngradeSinceResponse;
import io.stateversions.api.grpc.v1.DowngradeSinceRequest;
import io.stateversions.api.grpc.v1.DowngradeSinceResponse;
import io.stateversions.api.grpc.v1.ExpireCriticalReaderRequest;
import io.stateversions.api.grpc.v1.ExpireLeasedReaderRequest;
import io.stateversions.api.grpc.v1.ExpireLeasedReaderResponse;
import io.stateversions.api.grpc.v1.Frontier;
import io.stateversions.api.grpc.v1.HeartbeatLeasedReaderRequest;
import io.stateversions.api.grpc.v1.HeartbeatLeasedReaderResponse;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderRequest;
import io.stateversions.api.grpc.v1.RegisterCriticalReaderResponse;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderRequest;
import io.stateversions.api.grpc.v1.RegisterLeasedReaderResponse;
import io.stateversions.api.grpc.v1.ShardState;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.ShardId;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The leased and critical reader RPCs over gRPC. */
@QuarkusTest
class GrpcReadersTest extends GrpcTestSupport {

    // ------------------------------------------------------------------------------------------------ leased

    /**
     * A state and a snapshot of more batches than {@link io.stateversions.api.LargeAnswers#OFF_LOOP_BATCHES} are
     * rendered on the CPU pool, not on the event loop, and answered whole, over gRPC and REST alike.
     */
    @Test
    void aLargeStateAndSnapshotAreAnsweredWhole() {
        ShardId shard = openShard();
        io.stateversions.core.WriterId writer = io.stateversions.core.WriterId.random();
        int batches = io.stateversions.api.LargeAnswers.OFF_LOOP_BATCHES + 4;
        for (int i = 0; i < batches; i++) {
            appendOk(shard, writer, i, i + 1);
        }
        ShardState state = client.getState(io.stateversions.api.grpc.v1.GetStateRequest.newBuilder()
                .setShardId(shard.toString()).build());
        assertThat(state.getBatchesCount()).isEqualTo(batches);
        assertThat(state.getUpper().getElementsList()).containsExactly((long) batches);
        assertThat(client.getVersion(io.stateversions.api.grpc.v1.GetVersionRequest.newBuilder()
                .setShardId(shard.toString()).setSeqno(state.getSeqno()).build())).isEqualTo(state);
        assertThat(client.snapshot(io.stateversions.api.grpc.v1.SnapshotRequest.newBuilder()
                .setShardId(shard.toString()).setAsOf(batches - 1).build()).getBatchesCount()).isEqualTo(batches);
        // The same header as a small state's, which Quarkus REST serializes itself.
        String smallType = io.restassured.RestAssured.given().get("/v1/shards/" + openShard()).then().statusCode(200)
                .extract().contentType();
        assertThat(smallType).isEqualToIgnoringCase("application/json;charset=UTF-8");
        io.restassured.RestAssured.given().get("/v1/shards/" + shard).then().statusCode(200)
                .header("Content-Type", smallType)
                .body("batches.size()", org.hamcrest.Matchers.equalTo(batches))
                .body("seqno", org.hamcrest.Matchers.greaterThanOrEqualTo((int) state.getSeqno()));
        io.restassured.RestAssured.given().get("/v1/shards/" + shard + "/versions/" + state.getSeqno()).then()
                .statusCode(200).body("batches.size()", org.hamcrest.Matchers.equalTo(batches));
        io.restassured.RestAssured.given().queryParam("asOf", batches - 1).get("/v1/shards/" + shard + "/snapshot")
                .then().statusCode(200).body("batches.size()", org.hamcrest.Matchers.equalTo(batches));
    }

    @Test
    void registerLeasedReaderWithoutAnIdChoosesOne() {
        ShardId shard = openShard();
        RegisterLeasedReaderResponse registered = client.registerLeasedReader(leased(shard).build());
        assertThat(registered.getReaderId()).startsWith("r");
        LeasedReaderId.parse(registered.getReaderId());
        assertThat(registered.getSeqno()).isEqualTo(2);
        assertThat(registered.getSince()).isEqualTo(frontier(0));
        assertThat(registered.getUpper()).isEqualTo(frontier(0));
        assertThat(registered.getLeaseDurationMs()).isPositive();

        ShardState state = state(shard);
        assertThat(state.getLeasedReadersList()).singleElement().satisfies(r -> {
            assertThat(r.getReaderId()).isEqualTo(registered.getReaderId());
            assertThat(r.getSeqno()).isEqualTo(2);
            assertThat(r.getPurpose()).isEqualTo("reader test");
            assertThat(r.getLeaseDurationMs()).isEqualTo(registered.getLeaseDurationMs());
            assertThat(r.getSince()).isEqualTo(frontier(0));
        });
        assertThat(state.getSeqnoSince()).isEqualTo(2);
    }

    @Test
    void registeringTheSameLeasedReaderAgainIsIdempotent() {
        ShardId shard = openShard();
        LeasedReaderId reader = LeasedReaderId.random();
        RegisterLeasedReaderResponse first = client.registerLeasedReader(leased(shard)
                .setReaderId(reader.toString()).setLeaseDurationMs(30_000).build());
        assertThat(first.getReaderId()).isEqualTo(reader.toString());
        assertThat(first.getLeaseDurationMs()).isEqualTo(30_000);

        client.heartbeatLeasedReader(HeartbeatLeasedReaderRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader.toString()).build());

        RegisterLeasedReaderResponse again = client.registerLeasedReader(leased(shard)
                .setReaderId(reader.toString()).setLeaseDurationMs(30_000).build());
        assertThat(again.getReaderId()).isEqualTo(reader.toString());
        assertThat(again.getSince()).isEqualTo(first.getSince());
        assertThat(again.getSeqno()).as("the hold, unmoved by the repeat").isEqualTo(first.getSeqno());
        assertThat(state(shard).getLeasedReadersList()).singleElement()
                .satisfies(r -> assertThat(r.getReaderId()).isEqualTo(reader.toString()))
                .satisfies(r -> assertThat(r.getSeqno()).isEqualTo(first.getSeqno()));
    }

    @Test
    void registerLeasedReaderRejectsBadInputAndCommitsNothing() {
        ShardId shard = openShard();
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard).setLeaseDurationMs(0).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard).setLeaseDurationMs(TOO_LARGE).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard).setPurpose("p".repeat(1025)).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard)
                .setReaderId(CriticalReaderId.random().toString()).build()), "invalid_id");
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard).setReaderId("").build()),
                "invalid_id");
        assertInvalidArgument(() -> client.registerLeasedReader(leased(shard).setShardId("").build()), "invalid_id");
        assertThat(seqno(shard)).isEqualTo(1);
        assertThat(state(shard).getLeasedReadersList()).isEmpty();

        assertError(() -> client.registerLeasedReader(leased(ShardId.random()).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void heartbeatLeasedReader() {
        ShardId shard = openShard();
        String reader = client.registerLeasedReader(leased(shard).build()).getReaderId();
        HeartbeatLeasedReaderResponse beat = client.heartbeatLeasedReader(heartbeat(shard, reader));
        assertThat(beat.getSeqno()).isGreaterThanOrEqualTo(2);

        assertError(() -> client.heartbeatLeasedReader(heartbeat(shard, LeasedReaderId.random().toString())),
                Status.Code.NOT_FOUND, "reader_expired");
        assertInvalidArgument(() -> client.heartbeatLeasedReader(heartbeat(shard, "r-1")), "invalid_id");
        assertError(() -> client.heartbeatLeasedReader(heartbeat(ShardId.random(), reader)),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void downgradeSinceNeverRegresses() {
        ShardId shard = openShard();
        String reader = client.registerLeasedReader(leased(shard).build()).getReaderId();

        DowngradeSinceResponse to3 = client.downgradeSince(downgrade(shard, reader).setSince(frontier(3)).build());
        assertThat(to3.getSince()).isEqualTo(frontier(3));
        assertThat(to3.getSeqno()).isEqualTo(3);
        assertThat(state(shard).getSince()).isEqualTo(frontier(3));

        DowngradeSinceResponse to2 = client.downgradeSince(downgrade(shard, reader).setSince(frontier(2)).build());
        assertThat(to2.getSince()).isEqualTo(frontier(3));
        assertThat(state(shard).getSince()).isEqualTo(frontier(3));

        DowngradeSinceResponse closed = client.downgradeSince(downgrade(shard, reader).setSince(closed()).build());
        assertThat(closed.getSince()).isEqualTo(closed());
        assertThat(state(shard).getSince()).isEqualTo(closed());
    }

    @Test
    void downgradeSinceRejectsBadFrontiersAndUnknownReaders() {
        ShardId shard = openShard();
        String reader = client.registerLeasedReader(leased(shard).build()).getReaderId();
        long before = seqno(shard);

        assertInvalidArgument(() -> client.downgradeSince(downgrade(shard, reader).build()), "invalid_request");
        assertInvalidArgument(() -> client.downgradeSince(downgrade(shard, reader)
                .setSince(Frontier.newBuilder().addElements(1).addElements(2)).build()), "invalid_request");
        assertInvalidArgument(() -> client.downgradeSince(downgrade(shard, reader)
                .setSince(frontier(TOO_LARGE)).build()), "invalid_request");
        assertInvalidArgument(() -> client.downgradeSince(downgrade(shard, "w" + reader.substring(1))
                .setSince(frontier(1)).build()), "invalid_id");
        assertThat(seqno(shard)).isEqualTo(before);

        assertError(() -> client.downgradeSince(downgrade(shard, LeasedReaderId.random().toString())
                .setSince(frontier(1)).build()), Status.Code.NOT_FOUND, "reader_expired");
    }

    @Test
    void expireLeasedReaderIsIdempotent() {
        ShardId shard = openShard();
        String reader = client.registerLeasedReader(leased(shard).build()).getReaderId();
        ExpireLeasedReaderResponse expired = client.expireLeasedReader(expire(shard, reader));
        assertThat(expired.getSeqno()).isEqualTo(3);
        assertThat(state(shard).getLeasedReadersList()).isEmpty();

        ExpireLeasedReaderResponse again = client.expireLeasedReader(expire(shard, reader));
        assertThat(again.getSeqno()).isGreaterThanOrEqualTo(expired.getSeqno());
        assertError(() -> client.heartbeatLeasedReader(heartbeat(shard, reader)),
                Status.Code.NOT_FOUND, "reader_expired");
        assertInvalidArgument(() -> client.expireLeasedReader(expire(shard, "")), "invalid_id");
        assertError(() -> client.expireLeasedReader(expire(ShardId.random(), reader)),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    // ---------------------------------------------------------------------------------------------- critical

    @Test
    void registerCriticalReaderIsIdempotentButNotAcrossOpaqueCodecs() {
        ShardId shard = openShard();
        CriticalReaderId reader = CriticalReaderId.random();
        RegisterCriticalReaderResponse first = client.registerCriticalReader(critical(shard, reader)
                .setInitialOpaque(Long.MIN_VALUE).build());
        assertThat(first.getReaderId()).isEqualTo(reader.toString());
        assertThat(first.getSince()).isEqualTo(frontier(0));
        assertThat(first.getOpaque()).isEqualTo(Long.MIN_VALUE);
        assertThat(first.getOpaqueCodec()).isEqualTo("u64");
        assertThat(first.getSeqno()).isEqualTo(2);

        RegisterCriticalReaderResponse again = client.registerCriticalReader(critical(shard, reader)
                .setInitialOpaque(99).build());
        assertThat(again.getOpaque()).isEqualTo(Long.MIN_VALUE);
        assertThat(again.getSince()).isEqualTo(frontier(0));

        long before = seqno(shard);
        assertError(() -> client.registerCriticalReader(critical(shard, reader).setOpaqueCodec("i64").build()),
                Status.Code.FAILED_PRECONDITION, "opaque_codec_mismatch");
        assertThat(seqno(shard)).isEqualTo(before);

        ShardState state = state(shard);
        assertThat(state.getCriticalReadersList()).singleElement().satisfies(r -> {
            assertThat(r.getReaderId()).isEqualTo(reader.toString());
            assertThat(r.getOpaque()).isEqualTo(Long.MIN_VALUE);
            assertThat(r.getOpaqueCodec()).isEqualTo("u64");
            assertThat(r.getPurpose()).isEqualTo("critical test");
        });

        CriticalReaderId other = CriticalReaderId.random();
        assertThat(client.registerCriticalReader(critical(shard, other).build()).getOpaque()).isZero();
    }

    @Test
    void registerCriticalReaderRejectsBadInput() {
        ShardId shard = openShard();
        CriticalReaderId reader = CriticalReaderId.random();
        assertInvalidArgument(() -> client.registerCriticalReader(critical(shard, reader)
                .setReaderId(LeasedReaderId.random().toString()).build()), "invalid_id");
        assertInvalidArgument(() -> client.registerCriticalReader(critical(shard, reader).setOpaqueCodec("").build()),
                "invalid_request");
        assertInvalidArgument(() -> client.registerCriticalReader(critical(shard, reader)
                .setOpaqueCodec("o".repeat(257)).build()), "invalid_request");
        assertInvalidArgument(() -> client.registerCriticalReader(critical(shard, reader)
                .setPurpose("p".repeat(1025)).build()), "invalid_request");
        assertThat(seqno(shard)).isEqualTo(1);
        assertError(() -> client.registerCriticalReader(critical(ShardId.random(), reader).build()),
                Status.Code.NOT_FOUND, "shard_not_found");
    }

    @Test
    void compareAndDowngradeSinceChecksTheOpaque() {
        ShardId shard = openShard();
        CriticalReaderId reader = CriticalReaderId.random();
        client.registerCriticalReader(critical(shard, reader).setInitialOpaque(7).build());

        CompareAndDowngradeSinceResponse ok = client.compareAndDowngradeSince(cads(shard, reader, 7, 8)
                .setSince(frontier(4)).build());
        assertThat(ok.getOpaque()).isEqualTo(8);
        assertThat(ok.getSince()).isEqualTo(frontier(4));
        assertThat(ok.getSeqno()).isEqualTo(3);
        assertThat(state(shard).getSince()).isEqualTo(frontier(4));

        long beforeMismatch = seqno(shard);
        ErrorInfo mismatch = assertError(() -> client.compareAndDowngradeSince(cads(shard, reader, 7, 9)
                .setSince(frontier(5)).build()), Status.Code.FAILED_PRECONDITION, "opaque_mismatch");
        assertMembers(mismatch, Map.of("currentOpaque", "8", "since", "[4]"));
        assertThat(seqno(shard)).as("a mismatch still commits (spec §15)").isEqualTo(beforeMismatch + 1);
        assertThat(state(shard).getCriticalReaders(0).getOpaque()).isEqualTo(8);
        assertThat(state(shard).getSince()).isEqualTo(frontier(4));

        assertInvalidArgument(() -> client.compareAndDowngradeSince(cads(shard, reader, 8, 9).build()),
                "invalid_request");
        assertInvalidArgument(() -> client.compareAndDowngradeSince(cads(shard, reader, 8, 9)
                .setSince(frontier(TOO_LARGE)).build()), "invalid_request");
        assertThat(state(shard).getCriticalReaders(0).getOpaque()).isEqualTo(8);

        assertError(() -> client.compareAndDowngradeSince(cads(shard, CriticalReaderId.random(), 0, 1)
                .setSince(frontier(5)).build()), Status.Code.NOT_FOUND, "reader_expired");
    }

    @Test
    void expireCriticalReaderIsIdempotent() {
        ShardId shard = openShard();
        CriticalReaderId reader = CriticalReaderId.random();
        client.registerCriticalReader(critical(shard, reader).build());
        ExpireCriticalReaderRequest expire = ExpireCriticalReaderRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader.toString()).build();
        assertThat(client.expireCriticalReader(expire).getSeqno()).isEqualTo(3);
        assertThat(state(shard).getCriticalReadersList()).isEmpty();
        assertThat(client.expireCriticalReader(expire).getSeqno()).isGreaterThanOrEqualTo(3);
        assertInvalidArgument(() -> client.expireCriticalReader(expire.toBuilder().setReaderId("c").build()),
                "invalid_id");
        assertError(() -> client.expireCriticalReader(expire.toBuilder().setShardId(ShardId.random().toString())
                .build()), Status.Code.NOT_FOUND, "shard_not_found");
    }

    // --------------------------------------------------------------------------------------------- requests

    private static RegisterLeasedReaderRequest.Builder leased(ShardId shard) {
        return RegisterLeasedReaderRequest.newBuilder().setShardId(shard.toString()).setPurpose("reader test");
    }

    private static HeartbeatLeasedReaderRequest heartbeat(ShardId shard, String reader) {
        return HeartbeatLeasedReaderRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader).build();
    }

    private static DowngradeSinceRequest.Builder downgrade(ShardId shard, String reader) {
        return DowngradeSinceRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader);
    }

    private static ExpireLeasedReaderRequest expire(ShardId shard, String reader) {
        return ExpireLeasedReaderRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader).build();
    }

    private static RegisterCriticalReaderRequest.Builder critical(ShardId shard, CriticalReaderId reader) {
        return RegisterCriticalReaderRequest.newBuilder().setShardId(shard.toString()).setReaderId(reader.toString())
                .setPurpose("critical test").setOpaqueCodec("u64");
    }

    private static CompareAndDowngradeSinceRequest.Builder cads(ShardId shard, CriticalReaderId reader,
            long expected, long neu) {
        return CompareAndDowngradeSinceRequest.newBuilder().setShardId(shard.toString())
                .setReaderId(reader.toString()).setExpectedOpaque(expected).setNewOpaque(neu);
    }
}
