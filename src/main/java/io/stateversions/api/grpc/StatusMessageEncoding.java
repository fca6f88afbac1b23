package io.stateversions.api.grpc;

import io.grpc.ForwardingServerCall;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.quarkus.grpc.GlobalInterceptor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.spi.Prioritized;
import java.nio.charset.StandardCharsets;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Writes the {@code grpc-message} trailer of every failed call encoded as the gRPC HTTP/2 protocol says, so that the
 * status message reads the same in every language's client.
 *
 * <p>Why: the gRPC server on the HTTP port is Vert.x's, and it encodes {@code grpc-message} with
 * {@code URLEncoder}, which percent-encodes every byte but letters, digits and {@code .-_} ({@code :} as
 * {@code %3A}, {@code ,} as {@code %2C}, {@code [} as {@code %5B}). The protocol percent-encodes only bytes outside
 * printable ASCII and {@code %} itself. A strict decoder undoes either, but grpc-js (Node) decodes with
 * {@code decodeURI}, which leaves URI delimiters encoded, so Node clients saw {@code upper mismatch%3A lower [3]}.
 * Vert.x writes no {@code grpc-message} for a status without a description, and copies the call's trailing metadata
 * as given: so this interceptor, the outermost, hands the server the status without its description and the
 * description, encoded once and minimally, as trailing metadata.
 *
 * <p>Only on Vert.x's server ({@code quarkus.grpc.server.use-separate-server=false}, this service's setting): grpc-java's
 * own transport encodes minimally already and replaces a {@code grpc-message} in the metadata with the status's.
 */
@GlobalInterceptor
@ApplicationScoped
public class StatusMessageEncoding implements ServerInterceptor, Prioritized {

    /** The trailer as the protocol names it; its value is already percent-encoded ({@link #encoded}). */
    static final Metadata.Key<String> GRPC_MESSAGE = Metadata.Key.of("grpc-message", Metadata.ASCII_STRING_MARSHALLER);

    private final boolean vertxServer;

    public StatusMessageEncoding(
            @ConfigProperty(name = "quarkus.grpc.server.use-separate-server", defaultValue = "true") boolean separate) {
        this.vertxServer = !separate;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (!vertxServer) {
            return next.startCall(call, headers);
        }
        return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                if (status.isOk() || status.getDescription() == null) {
                    super.close(status, trailers);
                    return;
                }
                trailers.discardAll(GRPC_MESSAGE);
                trailers.put(GRPC_MESSAGE, encoded(status.getDescription()));
                super.close(status.withDescription(null), trailers);
            }
        }, headers);
    }

    /** Outermost: the last to see {@code close}, so that no interceptor puts a description back after it. */
    @Override
    public int getPriority() {
        return Integer.MAX_VALUE;
    }

    /**
     * {@code grpc-message}'s encoding (gRPC over HTTP/2, "Percent-Encoded"): the UTF-8 bytes, each outside
     * {@code 0x20..0x7E}, and {@code %}, as {@code %XX}; every other byte as itself.
     */
    static String encoded(String message) {
        StringBuilder encoded = new StringBuilder(message.length());
        for (byte b : message.getBytes(StandardCharsets.UTF_8)) {
            if (b >= 0x20 && b <= 0x7E && b != '%') {
                encoded.append((char) b);
            } else {
                encoded.append('%').append(Character.toUpperCase(Character.forDigit((b >> 4) & 0xF, 16)))
                        .append(Character.toUpperCase(Character.forDigit(b & 0xF, 16)));
            }
        }
        return encoded.toString();
    }
}
