package io.stateversions.api.grpc;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** A gRPC method whose request and response are the bytes on the wire: for payloads no stub would send. */
public final class RawGrpc {

    private RawGrpc() {}

    private static final MethodDescriptor.Marshaller<byte[]> BYTES = new MethodDescriptor.Marshaller<>() {
        @Override
        public InputStream stream(byte[] value) {
            return new ByteArrayInputStream(value);
        }

        @Override
        public byte[] parse(InputStream stream) {
            try {
                return stream.readAllBytes();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    };

    /** {@code fullMethodName} ({@code service/method}) as raw bytes. */
    public static MethodDescriptor<byte[], byte[]> method(String fullMethodName) {
        return MethodDescriptor.<byte[], byte[]>newBuilder().setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(fullMethodName).setRequestMarshaller(BYTES).setResponseMarshaller(BYTES).build();
    }

    /** How a call ended: its status and its {@code sv-error-code} trailer (null if none). */
    public record Outcome(Status status, String errorCode) {}

    private static final Metadata.Key<String> ERROR_CODE = Metadata.Key.of("sv-error-code",
            Metadata.ASCII_STRING_MARSHALLER);

    /**
     * One call of {@code fullMethodName} with {@code payload} and {@code headers}: its outcome, or OK as soon as a
     * {@code Watch} (a stream) delivers its first event, after which the call is cancelled. A unary call is waited for
     * to its end (trailers included) before anything else is sent.
     */
    public static Outcome call(Channel channel, String fullMethodName, byte[] payload, Metadata headers) {
        return call(channel, fullMethodName, payload, headers, 20, TimeUnit.SECONDS);
    }

    /** {@link #call(Channel, String, byte[], Metadata)} with the call's deadline {@code deadline} from now. */
    public static Outcome call(Channel channel, String fullMethodName, byte[] payload, Metadata headers, long deadline,
            TimeUnit unit) {
        ClientCall<byte[], byte[]> call = channel.newCall(method(fullMethodName),
                CallOptions.DEFAULT.withDeadlineAfter(deadline, unit));
        CompletableFuture<Outcome> outcome = new CompletableFuture<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(byte[] message) {
                if (fullMethodName.endsWith("/Watch")) {
                    outcome.complete(new Outcome(Status.OK, null));
                }
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                outcome.complete(new Outcome(status, trailers.get(ERROR_CODE)));
            }
        }, headers);
        call.request(1);
        call.sendMessage(payload);
        call.halfClose();
        Outcome result = outcome.orTimeout(unit.toMillis(deadline) + 10_000, TimeUnit.MILLISECONDS).join();
        call.cancel("done", null);
        return result;
    }
}
