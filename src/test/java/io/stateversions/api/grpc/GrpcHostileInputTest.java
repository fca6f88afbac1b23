package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCalls;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.ListShardsRequest;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.stateversions.core.ShardId;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The three defects the fuzzer found on the gRPC side: an over-long field is refused with a short message (the calls
 * after it on the same connection are answered at once); a payload that does not decode as the request message, or
 * no message at all, is {@code INVALID_ARGUMENT}, not {@code INTERNAL}.
 */
@QuarkusTest
class GrpcHostileInputTest extends GrpcTestSupport {

    /** The most of an error any test here accepts: far below grpc-java's 8 KiB limit on trailers. */
    private static final int SHORT = 2048;

    @Test
    void overLongFieldsAreRefusedWithAShortMessageAndTheConnectionStaysUsable() {
        ShardId shard = openShard();
        long before = seqno(shard);
        for (int length : new int[] {65_000, 65_500, 200_000}) {
            StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> deadlined()
                    .getState(GetStateRequest.newBuilder().setShardId("s" + "a".repeat(length)).build()));
            assertShortInvalidArgument(refused, "invalid_id");
        }
        StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class, () -> deadlined()
                .listShards(ListShardsRequest.newBuilder().setAfter("x".repeat(3 << 20)).build()));
        assertShortInvalidArgument(refused, "invalid_id");
        // The same channel (one HTTP/2 connection) answers the next call at once.
        assertThat(deadlined().getState(GetStateRequest.newBuilder().setShardId(shard.toString()).build()).getSeqno())
                .isEqualTo(before);
    }

    /**
     * A request near the 4 MiB limit costs the replica memory in proportion to its size. Vert.x's gRPC server before
     * 4.5.30 copied everything received of a message again for each HTTP/2 frame of it (16 KiB by default): about
     * 1 GiB allocated, and a quarter of a second of an event loop, for one 4 MiB request, in the suite once more than
     * the 10-s deadline of the test above. Counted over every thread of the JVM, client and server alike.
     */
    @Test
    void aLargeRequestCostsMemoryInProportionToItsSize() {
        int size = (4 << 20) - 64;
        ListShardsRequest request = ListShardsRequest.newBuilder().setAfter("x".repeat(size)).build();
        long before = allocatedByAllThreads();
        StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
                () -> deadlined().listShards(request));
        long allocated = allocatedByAllThreads() - before;
        assertShortInvalidArgument(refused, "invalid_id");
        assertThat(allocated).as("bytes allocated for one request of %d bytes", size).isLessThan(32L * size);
    }

    private static long allocatedByAllThreads() {
        var threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long total = 0;
        for (long allocated : threads.getThreadAllocatedBytes(threads.getAllThreadIds())) {
            total += Math.max(allocated, 0); // -1: the thread ended in between
        }
        return total;
    }

    @Test
    void aPayloadThatIsNotTheRequestMessageIsInvalidArgument() {
        byte[][] payloads = {
            {(byte) 0xff, (byte) 0xff, (byte) 0xff}, // a truncated varint tag
            {0x0a, 0x05, 'a'}, // field 1, length 5, one byte of it
            {0x0b}, // a start-group tag without its end
        };
        for (byte[] payload : payloads) {
            StatusRuntimeException refused = catchThrowableOfType(StatusRuntimeException.class,
                    () -> rawUnary(StateVersionsGrpc.getGetStateMethod().getFullMethodName(), payload));
            assertShortInvalidArgument(refused, "invalid_request");
            assertThat(refused.getStatus().getDescription()).contains("does not decode");
        }
    }

    @Test
    void aCallWithoutARequestMessageIsInvalidArgument() {
        MethodDescriptor<byte[], byte[]> method = RawGrpc.method(StateVersionsGrpc.getGetStateMethod().getFullMethodName());
        var call = client.getChannel().newCall(method, CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS));
        var result = new java.util.concurrent.CompletableFuture<Status>();
        call.start(new io.grpc.ClientCall.Listener<>() {
            @Override
            public void onClose(Status status, io.grpc.Metadata trailers) {
                result.complete(status);
            }
        }, new io.grpc.Metadata());
        call.request(1);
        call.halfClose(); // no message
        Status status = result.orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(status.getDescription()).contains("sent none");
    }

    private StateVersionsGrpc.StateVersionsBlockingStub deadlined() {
        return client.withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static void assertShortInvalidArgument(StatusRuntimeException refused, String code) {
        assertThat(refused).isNotNull();
        assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(refused.getTrailers().get(GrpcErrors.ERROR_CODE)).isEqualTo(code);
        assertThat(refused.getStatus().getDescription()).hasSizeLessThan(SHORT);
    }

    private byte[] rawUnary(String fullMethodName, byte[] payload) {
        Channel channel = client.getChannel();
        return ClientCalls.blockingUnaryCall(channel, RawGrpc.method(fullMethodName),
                CallOptions.DEFAULT.withDeadlineAfter(10, TimeUnit.SECONDS), payload);
    }
}
