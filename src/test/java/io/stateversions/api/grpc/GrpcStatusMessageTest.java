package io.stateversions.api.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.stateversions.api.grpc.v1.GetStateRequest;
import io.stateversions.api.grpc.v1.StateVersionsGrpc;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpVersion;
import io.vertx.core.http.RequestOptions;
import jakarta.inject.Inject;
import java.io.ByteArrayOutputStream;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code grpc-message} trailer as it is on the wire, read with a plain HTTP/2 client: percent-encoded exactly
 * once and only where gRPC's protocol says (bytes outside printable ASCII, and {@code %}), so that every client,
 * grpc-js's {@code decodeURI} included, reads the message the service wrote. Vert.x's own encoding turned {@code :}
 * and {@code ,} into {@code %3A} and {@code %2C}, which Node clients showed as such.
 */
@QuarkusTest
class GrpcStatusMessageTest {

    @TestHTTPResource("/")
    URL base;

    @Inject
    Vertx vertx;

    @Test
    void grpcMessageIsPercentEncodedOnceAndOnlyWhereTheProtocolSays() throws Exception {
        String shardId = "not-a-shard:x,y [é] 100%";
        MultiMap answer = rawUnary(StateVersionsGrpc.getGetStateMethod().getFullMethodName(),
                GetStateRequest.newBuilder().setShardId(shardId).build().toByteArray());

        assertThat(answer.get("grpc-status")).isEqualTo("3"); // INVALID_ARGUMENT
        assertThat(answer.get("sv-error-code")).isEqualTo("invalid_id");
        assertThat(answer.getAll("grpc-message")).hasSize(1);
        String wire = answer.get("grpc-message");
        assertThat(wire).as("printable ASCII other than %% is sent as is")
                .contains("not-a-shard:x,y [%C3%A9] 100%25")
                .doesNotContain("%3A", "%2C", "%20", "%5B", "%22", "+");
        assertThat(wire.chars()).allMatch(c -> c >= 0x20 && c <= 0x7E);
        String decoded = percentDecoded(wire);
        assertThat(decoded).startsWith("invalid shard id \"" + shardId + "\"");
        assertThat(StatusMessageEncoding.encoded(decoded)).as("encoded exactly once").isEqualTo(wire);
    }

    /** One unary call over HTTP/2 without TLS (prior knowledge, as gRPC clients do): the answer's headers and trailers. */
    private MultiMap rawUnary(String fullMethodName, byte[] message) throws Exception {
        HttpClient http = vertx.createHttpClient(new HttpClientOptions().setProtocolVersion(HttpVersion.HTTP_2)
                .setHttp2ClearTextUpgrade(false));
        try {
            Buffer frame = Buffer.buffer().appendByte((byte) 0).appendInt(message.length).appendBytes(message);
            RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost(base.getHost())
                    .setPort(base.getPort()).setURI("/" + fullMethodName)
                    .putHeader("content-type", "application/grpc").putHeader("te", "trailers");
            return http.request(options)
                    .compose(request -> request.send(frame))
                    .compose(response -> response.body().map(body -> {
                        MultiMap all = MultiMap.caseInsensitiveMultiMap();
                        all.addAll(response.headers()); // a trailers-only answer carries grpc-status here
                        all.addAll(response.trailers());
                        return all;
                    }))
                    .toCompletionStage().toCompletableFuture().get(20, TimeUnit.SECONDS);
        } finally {
            http.close();
        }
    }

    /** gRPC's percent-decoding: every {@code %XX} is a byte, the rest bytes as they are; the bytes are UTF-8. */
    private static String percentDecoded(String wire) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            if (c == '%') {
                bytes.write(Integer.parseInt(wire.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
