package io.stateversions.api;

import com.google.protobuf.Descriptors;
import com.google.protobuf.Message;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.stateversions.api.rest.RouteRefusal;
import io.stateversions.api.security.Operation;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.Locale;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Names the API call on its span (README "Tracing"). Quarkus makes one server span per call, REST or gRPC; this adds
 * the operation of {@link Operation}'s table ({@code stateversions.command}, e.g. {@code compare_and_append}) and the
 * shard ({@code stateversions.shard}), so that a trace of one shard's calls can be searched for. The storage calls
 * the operation makes are the span's children ({@code io.stateversions.metrics.StorageSpans}).
 *
 * <p>With tracing off ({@code quarkus.otel.sdk.disabled=true}) nothing is installed: no route, no look-up per call.
 */
@ApplicationScoped
public class ApiSpans {

    /** The shard the call names. */
    public static final AttributeKey<String> SHARD = AttributeKey.stringKey("stateversions.shard");
    /** The operation: {@link Operation}'s name in lower case. */
    public static final AttributeKey<String> COMMAND = AttributeKey.stringKey("stateversions.command");

    /** Before authentication's refusals (AccessControl, -50), so that a refused call is named too. */
    static final int ORDER = -60;

    private final boolean enabled;

    public ApiSpans(@ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "false") boolean sdkDisabled) {
        this.enabled = !sdkDisabled;
    }

    /** Iff API spans are named. */
    public boolean enabled() {
        return enabled;
    }

    void install(@Observes Router router) {
        if (enabled) {
            router.route().order(ORDER).handler(this::nameRestCall);
        }
    }

    /** A REST call: its operation by method and path, its shard the path segment where the template has {shard}. */
    private void nameRestCall(RoutingContext ctx) {
        Span span = Span.current();
        if (span.isRecording() && !RouteRefusal.isGrpc(ctx.request())) {
            String path = ctx.normalizedPath();
            Operation.ofRest(ctx.request().method().name(), path).ifPresent(operation -> {
                span.setAttribute(COMMAND, operation.name().toLowerCase(Locale.ROOT));
                String[] template = operation.pathTemplate().orElseThrow().split("/");
                String[] segments = path.split("/");
                for (int i = 0; i < template.length && i < segments.length; i++) {
                    if (template[i].equals("{shard}")) {
                        span.setAttribute(SHARD, segments[i]);
                    }
                }
            });
        }
        ctx.next();
    }

    /**
     * The span of a gRPC call, taken when the call starts (the tracing interceptor's span is current then); null if
     * it is not recorded.
     */
    public Span grpcCallSpan(String fullMethodName) {
        if (!enabled) {
            return null;
        }
        Span span = Span.current();
        if (!span.isRecording()) {
            return null;
        }
        Operation.ofGrpc(fullMethodName)
                .ifPresent(operation -> span.setAttribute(COMMAND, operation.name().toLowerCase(Locale.ROOT)));
        return span;
    }

    /** Names the shard of a gRPC call on {@code span} (from {@link #grpcCallSpan}; null: none) from its request. */
    public static void grpcRequest(Span span, Object request) {
        if (span == null || !(request instanceof Message message)) {
            return;
        }
        Descriptors.FieldDescriptor field = message.getDescriptorForType().findFieldByName("shard_id");
        if (field != null && field.getType() == Descriptors.FieldDescriptor.Type.STRING && !field.isRepeated()) {
            span.setAttribute(SHARD, (String) message.getField(field));
        }
    }
}
