package io.stateversions.testing;

import com.google.protobuf.ByteString;
import com.google.protobuf.DescriptorProtos.FileDescriptorProto;
import com.google.protobuf.Descriptors;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.DynamicMessage;
import com.google.protobuf.util.JsonFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.ProtoUtils;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A generic gRPC client, as grpcurl or Postman are: it knows no generated code, lists services and fetches their
 * descriptors through server reflection, builds requests from protobuf JSON ({@code grpcurl -d}) as DynamicMessages
 * and sends them through raw ClientCalls.
 */
public final class ReflectionClient {

    private final Channel channel;

    public ReflectionClient(Channel channel) {
        this.channel = channel;
    }

    /** The services the server lists ({@code grpcurl list}). */
    public List<String> services() throws Exception {
        return reflect(ServerReflectionRequest.newBuilder().setListServices("*").build())
                .getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
    }

    /** The descriptor of {@code fullName} (e.g. {@code stateversions.v1.StateVersions}), built from reflection. */
    public Descriptors.ServiceDescriptor service(String fullName) throws Exception {
        ServerReflectionResponse response = reflect(ServerReflectionRequest.newBuilder()
                .setFileContainingSymbol(fullName).build());
        if (response.hasErrorResponse()) {
            throw new IllegalStateException("reflection error for " + fullName + ": " + response.getErrorResponse());
        }
        Map<String, FileDescriptorProto> protos = new HashMap<>();
        String main = null;
        for (ByteString bytes : response.getFileDescriptorResponse().getFileDescriptorProtoList()) {
            FileDescriptorProto proto = FileDescriptorProto.parseFrom(bytes);
            protos.put(proto.getName(), proto);
            if (main == null) {
                main = proto.getName(); // the file that defines the symbol comes first
            }
        }
        FileDescriptor file = build(main, protos, new HashMap<>());
        String simpleName = fullName.substring(fullName.lastIndexOf('.') + 1);
        Descriptors.ServiceDescriptor service = file.findServiceByName(simpleName);
        if (service == null) {
            throw new IllegalStateException(file.getName() + " defines no service " + simpleName);
        }
        return service;
    }

    /**
     * A unary call of {@code method} of {@code service} with the request given as protobuf JSON: the response, or
     * the call's {@link StatusRuntimeException} (with its trailers).
     */
    public DynamicMessage call(Descriptors.ServiceDescriptor service, String method, String json) throws Exception {
        Descriptors.MethodDescriptor descriptor = service.findMethodByName(method);
        if (descriptor == null) {
            throw new IllegalArgumentException(service.getFullName() + " has no method " + method);
        }
        DynamicMessage.Builder request = DynamicMessage.newBuilder(descriptor.getInputType());
        JsonFormat.parser().merge(json, request);

        MethodDescriptor<DynamicMessage, DynamicMessage> grpcMethod = MethodDescriptor
                .<DynamicMessage, DynamicMessage>newBuilder()
                .setType(MethodDescriptor.MethodType.UNARY)
                .setFullMethodName(MethodDescriptor.generateFullMethodName(service.getFullName(), method))
                .setRequestMarshaller(ProtoUtils.marshaller(DynamicMessage.getDefaultInstance(descriptor.getInputType())))
                .setResponseMarshaller(ProtoUtils.marshaller(
                        DynamicMessage.getDefaultInstance(descriptor.getOutputType())))
                .build();
        ClientCall<DynamicMessage, DynamicMessage> call = channel.newCall(grpcMethod,
                CallOptions.DEFAULT.withDeadlineAfter(30, TimeUnit.SECONDS));
        CompletableFuture<DynamicMessage> response = new CompletableFuture<>();
        AtomicReference<DynamicMessage> received = new AtomicReference<>();
        call.start(new ClientCall.Listener<>() {
            @Override
            public void onMessage(DynamicMessage message) {
                received.set(message);
            }

            @Override
            public void onClose(Status status, Metadata trailers) {
                if (status.isOk() && received.get() != null) {
                    response.complete(received.get());
                } else {
                    response.completeExceptionally(status.asRuntimeException(trailers));
                }
            }
        }, new Metadata());
        call.request(1);
        call.sendMessage(request.build());
        call.halfClose();
        try {
            return response.get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof StatusRuntimeException status) {
                throw status;
            }
            throw e;
        }
    }

    private FileDescriptor build(String name, Map<String, FileDescriptorProto> protos,
            Map<String, FileDescriptor> built) throws Exception {
        FileDescriptor done = built.get(name);
        if (done != null) {
            return done;
        }
        FileDescriptorProto proto = protos.get(name);
        if (proto == null) { // a dependency the server did not send with the file: ask for it by name
            ServerReflectionResponse response = reflect(ServerReflectionRequest.newBuilder()
                    .setFileByFilename(name).build());
            proto = FileDescriptorProto.parseFrom(response.getFileDescriptorResponse().getFileDescriptorProto(0));
        }
        FileDescriptor[] dependencies = new FileDescriptor[proto.getDependencyCount()];
        for (int i = 0; i < dependencies.length; i++) {
            dependencies[i] = build(proto.getDependency(i), protos, built);
        }
        FileDescriptor file = FileDescriptor.buildFrom(proto, dependencies);
        built.put(name, file);
        return file;
    }

    private ServerReflectionResponse reflect(ServerReflectionRequest request) throws Exception {
        CompletableFuture<ServerReflectionResponse> response = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> requests = ServerReflectionGrpc.newStub(channel)
                .serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse value) {
                        response.complete(value);
                    }

                    @Override
                    public void onError(Throwable t) {
                        response.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {
                        response.completeExceptionally(new IllegalStateException("reflection stream ended early"));
                    }
                });
        requests.onNext(request);
        try {
            return response.get(30, TimeUnit.SECONDS);
        } finally {
            requests.onCompleted();
        }
    }
}
