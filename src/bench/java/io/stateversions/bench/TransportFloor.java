package io.stateversions.bench;

import io.grpc.stub.StreamObserver;
import io.stateversions.api.grpc.v1.CompareAndAppendRequest;
import io.stateversions.api.grpc.v1.CompareAndAppendResponse;
import io.stateversions.api.grpc.v1.OpenShardRequest;
import io.stateversions.api.grpc.v1.OpenShardResponse;
import io.stateversions.api.grpc.v1.RegisterWriterRequest;
import io.stateversions.api.grpc.v1.RegisterWriterResponse;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.vertx.core.AbstractVerticle;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.grpc.server.GrpcServer;
import io.vertx.grpc.server.GrpcServiceBridge;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC transport floor: a server of the service's gRPC API that does nothing. It answers {@code CompareAndAppend}
 * at once with one constant response (and {@code OpenShard} and {@code RegisterWriter}, which the benchmark's clients
 * call first, likewise); every other method is UNIMPLEMENTED. It runs in a JVM of its own ({@link #main}, started by
 * {@link Processes.Floor}), so that its CPU time is its own, on the server stack the service runs gRPC on: a Vert.x
 * HTTP/2 server (cleartext, one instance per event loop), Vert.x's gRPC server and its bridge to the generated
 * grpc-java service, as Quarkus serves gRPC on its HTTP port ({@code quarkus.grpc.server.use-separate-server=false}).
 * What it leaves out is the service: Quarkus's routing, interceptors and request context, the state machine, storage.
 *
 * <p>Appends against it, with the service's request messages and client settings, give the throughput and latency
 * of gRPC itself on this machine: how much of the gap between the service and PostgreSQL is the hop.
 */
public final class TransportFloor {

    /** What every append is answered with: a version and an upper, no merge requests. */
    static final CompareAndAppendResponse APPENDED = CompareAndAppendResponse.newBuilder().setSeqno(2)
            .setUpper(ServiceGrpc.frontier(1)).build();

    /** The path that answers plain HTTP GETs: the harness waits for it before it starts. */
    static final String READY_PATH = "/ready";

    private TransportFloor() {}

    /** {@code TransportFloor <port>}: serves on 127.0.0.1:port until killed. */
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: TransportFloor <port>");
        }
        int port = Integer.parseInt(args[0]);
        Vertx vertx = Vertx.vertx();
        GrpcServer grpc = GrpcServer.server(vertx);
        GrpcServiceBridge.bridge(new DoNothing()).bind(grpc);
        int instances = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
        vertx.deployVerticle(() -> new AbstractVerticle() {
            @Override
            public void start(Promise<Void> started) {
                vertx.createHttpServer(new HttpServerOptions().setHost("127.0.0.1").setPort(port))
                        .requestHandler(request -> {
                            if (READY_PATH.equals(request.path())) {
                                request.response().end("ready");
                            } else {
                                grpc.handle(request);
                            }
                        })
                        .listen().<Void>mapEmpty().onComplete(started);
            }
        }, new DeploymentOptions().setInstances(instances)).toCompletionStage().toCompletableFuture()
                .get(60, TimeUnit.SECONDS);
        System.out.printf("transport floor serving gRPC on 127.0.0.1:%d (%d event loops)%n", port, instances);
    }

    /** Constant answers, at once, on the event loop. */
    static final class DoNothing extends StateVersionsGrpc.StateVersionsImplBase {

        private static final OpenShardResponse OPENED = OpenShardResponse.newBuilder().setCreated(true).build();
        private static final RegisterWriterResponse REGISTERED = RegisterWriterResponse.newBuilder().setSeqno(1)
                .setUpper(ServiceGrpc.frontier(0)).build();

        @Override
        public void openShard(OpenShardRequest request, StreamObserver<OpenShardResponse> response) {
            response.onNext(OPENED);
            response.onCompleted();
        }

        @Override
        public void registerWriter(RegisterWriterRequest request, StreamObserver<RegisterWriterResponse> response) {
            response.onNext(REGISTERED);
            response.onCompleted();
        }

        @Override
        public void compareAndAppend(CompareAndAppendRequest request,
                StreamObserver<CompareAndAppendResponse> response) {
            response.onNext(APPENDED);
            response.onCompleted();
        }
    }
}
