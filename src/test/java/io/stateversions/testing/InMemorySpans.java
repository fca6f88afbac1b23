package io.stateversions.testing;

import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

/**
 * The span exporter of tests that turn tracing on (the Quarkus OpenTelemetry guide's way): Quarkus exports every
 * finished span to the {@code SpanExporter} beans, so a test reads its spans here. Unused while tracing is off.
 */
public class InMemorySpans {

    @Produces
    @Singleton
    InMemorySpanExporter inMemorySpanExporter() {
        return InMemorySpanExporter.create();
    }
}
