package io.stateversions.api.rest;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.io.UncheckedIOException;

/**
 * A {@code 200} answer whose JSON body is serialized here, on the calling thread, with the mapper Quarkus REST uses,
 * rather than by Quarkus REST on the event loop: for large answers rendered on the CPU pool
 * ({@link io.stateversions.api.LargeAnswers}).
 */
@ApplicationScoped
public class JsonBodies {

    /** What Quarkus REST answers JSON with: the same header on answers it serializes and on these. */
    private static final MediaType JSON_UTF8 = MediaType.APPLICATION_JSON_TYPE.withCharset("UTF-8");

    private final ObjectMapper mapper;

    public JsonBodies(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    /** {@code 200} with {@code entity} serialized as JSON. */
    public Response ok(Object entity) {
        try {
            return Response.ok(mapper.writeValueAsBytes(entity), JSON_UTF8).build();
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException("the answer could not be serialized: " + e.getMessage(), e);
        }
    }
}
