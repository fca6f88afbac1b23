package io.stateversions.metrics;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.stateversions.metrics.Metrics.Outcome;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The OpenTelemetry spans of storage calls (README "Tracing"): one client span per Consensus or Blob call, a child
 * of the span current when the call starts (the API call's, for the commands it runs), named {@code consensus
 * compare_and_set}, {@code blob get}, … after the {@code op} tag of the storage timers, with the key and the outcome.
 *
 * <p>With tracing off ({@link #OFF}, {@code quarkus.otel.sdk.disabled=true}) a call costs one null check: no span
 * builder, no attribute, nothing allocated.
 */
public final class StorageSpans {

    /** The shard (Consensus key) or blob key of the call. */
    public static final AttributeKey<String> KEY = AttributeKey.stringKey("stateversions.key");
    /** The {@code outcome} tag of the storage timers: ok, mismatch, determinate, indeterminate, invalid. */
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("stateversions.outcome");

    /** No spans. */
    public static final StorageSpans OFF = new StorageSpans(null);

    private final Tracer tracer;

    private StorageSpans(Tracer tracer) {
        this.tracer = tracer;
    }

    /** Spans from {@code openTelemetry}'s tracer, or {@link #OFF} if {@code enabled} is false. */
    public static StorageSpans of(OpenTelemetry openTelemetry, boolean enabled) {
        return enabled ? new StorageSpans(openTelemetry.getTracer("io.stateversions.storage")) : OFF;
    }

    /** Iff spans are made. */
    boolean on() {
        return tracer != null;
    }

    /** The span of a call to {@code store} ("consensus", "blob") doing {@code op} on {@code key}; null when off. */
    Span start(String store, String op, String key) {
        if (tracer == null) {
            return null;
        }
        return tracer.spanBuilder(store + " " + op).setSpanKind(SpanKind.CLIENT).setAttribute(KEY, key).startSpan();
    }

    /** Makes the application's {@link StorageSpans}: on iff the OpenTelemetry SDK is. */
    @Singleton
    static final class Producer {

        @Produces
        @Singleton
        StorageSpans storageSpans(OpenTelemetry openTelemetry,
                @ConfigProperty(name = "quarkus.otel.sdk.disabled", defaultValue = "false") boolean sdkDisabled) {
            return of(openTelemetry, !sdkDisabled);
        }
    }

    /** Ends {@code span} (null: tracing off) with the call's outcome. */
    static void end(Span span, Outcome outcome, Throwable error) {
        if (span == null) {
            return;
        }
        span.setAttribute(OUTCOME, outcome.tag);
        if (error != null) {
            span.setStatus(StatusCode.ERROR, outcome.tag);
            span.recordException(error);
        }
        span.end();
    }
}
