package io.stateversions.api.grpc;

import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.ServiceDescriptor;
import io.grpc.StatusRuntimeException;
import io.opentelemetry.api.trace.Span;
import io.stateversions.api.ApiException;
import io.stateversions.api.ApiSpans;
import java.io.InputStream;

/**
 * Gives a call whose client sent no well-formed request the answer api.md asks for, {@code INVALID_ARGUMENT}
 * ({@code invalid_request}), instead of grpc-java's {@code INTERNAL}: a payload that does not decode as the method's
 * request message ("Half-closed without a request", as the stub sees it), no request at all, or a second request to
 * a method that takes one. Nothing of such a call reaches the service.
 *
 * <p>The transport decodes a message with the method's request marshaller before any listener sees it, and drops the
 * message if the marshaller throws. So the guard's marshaller answers {@code null} for a payload it cannot decode,
 * and the guard's listener turns that {@code null} into the refusal.
 */
final class RequestGuard {

    private RequestGuard() {}

    /** {@code definition} with every method guarded (a new service descriptor, since its methods are new). */
    static ServerServiceDefinition guard(ServerServiceDefinition definition, ApiSpans spans) {
        ServiceDescriptor service = definition.getServiceDescriptor();
        ServiceDescriptor.Builder guardedService = ServiceDescriptor.newBuilder(service.getName())
                .setSchemaDescriptor(service.getSchemaDescriptor());
        java.util.List<ServerMethodDefinition<?, ?>> guarded = new java.util.ArrayList<>();
        for (ServerMethodDefinition<?, ?> method : definition.getMethods()) {
            ServerMethodDefinition<?, ?> g = guard(method, spans);
            guardedService.addMethod(g.getMethodDescriptor());
            guarded.add(g);
        }
        ServerServiceDefinition.Builder result = ServerServiceDefinition.builder(guardedService.build());
        guarded.forEach(result::addMethod);
        return result.build();
    }

    private static <Q, R> ServerMethodDefinition<Q, R> guard(ServerMethodDefinition<Q, R> method, ApiSpans spans) {
        MethodDescriptor<Q, R> descriptor = method.getMethodDescriptor();
        MethodDescriptor.Marshaller<Q> decoder = descriptor.getRequestMarshaller();
        MethodDescriptor<Q, R> lenient = descriptor.toBuilder()
                .setRequestMarshaller(new MethodDescriptor.Marshaller<>() {
                    @Override
                    public InputStream stream(Q value) {
                        return decoder.stream(value);
                    }

                    @Override
                    public Q parse(InputStream stream) {
                        try {
                            return decoder.parse(stream);
                        } catch (RuntimeException undecodable) { // protobuf's marshaller throws INTERNAL
                            return null;
                        }
                    }
                })
                .build();
        boolean oneRequest = descriptor.getType().clientSendsOneMessage();
        ServerCallHandler<Q, R> handler = method.getServerCallHandler();
        return ServerMethodDefinition.create(lenient, (call, headers) -> new Listener<>(call, headers, handler,
                oneRequest, descriptor.getFullMethodName(), spans.grpcCallSpan(descriptor.getFullMethodName())));
    }

    /** One call's listener: passes events on until the client's request is found malformed. */
    private static final class Listener<Q, R> extends ForwardingServerCallListener<Q> {

        private final ServerCall<Q, R> call;
        private final ServerCall.Listener<Q> delegate;
        private final boolean oneRequest;
        private final String method;
        /** The call's span, to name its shard on (null: not traced). */
        private final Span span;
        private int requests;
        private boolean refused;

        Listener(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> handler, boolean oneRequest,
                String method, Span span) {
            this.call = call;
            this.span = span;
            this.delegate = handler.startCall(call, headers);
            this.oneRequest = oneRequest;
            this.method = method;
        }

        @Override
        protected ServerCall.Listener<Q> delegate() {
            return delegate;
        }

        @Override
        public void onMessage(Q message) {
            if (refused) {
                return;
            }
            requests++;
            if (message == null) {
                refuse("the request payload does not decode as the request message of " + method);
            } else if (oneRequest && requests > 1) {
                refuse(method + " takes one request message, the client sent more");
            } else {
                ApiSpans.grpcRequest(span, message);
                super.onMessage(message);
            }
        }

        @Override
        public void onHalfClose() {
            if (refused) {
                return;
            }
            if (oneRequest && requests == 0) {
                refuse(method + " takes one request message, the client sent none");
                return;
            }
            super.onHalfClose();
        }

        private void refuse(String detail) {
            refused = true;
            StatusRuntimeException status = GrpcErrors.toStatus(ApiException.invalidRequest(detail));
            call.close(status.getStatus(), status.getTrailers());
        }
    }
}
