package io.stateversions.api.rest;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.core.Codecs;
import io.stateversions.core.Frontier;
import jakarta.ws.rs.NotAllowedException;
import jakarta.ws.rs.core.Response;
import java.util.Map;
import java.util.concurrent.CompletionException;
import org.junit.jupiter.api.Test;

/** The problem documents of failures that the REST tests cannot provoke on purpose. */
class ProblemMappersTest {

    private final ObjectMapper mapper = new ObjectMapper();
    private final ProblemMappers mappers = new ProblemMappers(mapper);

    private JsonNode body(Response response) throws Exception {
        assertThat(response.getMediaType().toString()).isEqualTo("application/problem+json");
        return mapper.readTree((String) response.getEntity());
    }

    @Test
    void bugIsInternal() throws Exception {
        Response response = mappers.unexpected(new IllegalStateException("invariant violated: x"));
        assertThat(response.getStatus()).isEqualTo(500);
        JsonNode problem = body(response);
        assertThat(problem.get("code").asText()).isEqualTo("internal");
        assertThat(problem.get("status").asInt()).isEqualTo(500);
        assertThat(problem.get("title").asText()).isEqualTo("Internal error");
        assertThat(problem.get("type").asText()).isEqualTo("https://stateversions.io/problems/internal");
        // The detail names an incident id to find in the log, not the failure itself.
        String incident = problem.get("incident").asText();
        assertThat(problem.get("detail").asText()).contains("incident " + incident);
        assertThat(problem.toString()).doesNotContain("IllegalStateException").doesNotContain("invariant violated")
                .doesNotContain("at io.");
    }

    @Test
    void wrappedApiExceptionIsUnwrappedWithItsMembers() throws Exception {
        ApiException mismatch = new ApiException(ErrorCode.UPPER_MISMATCH, "expected upper {3}",
                Map.of("currentUpper", Frontier.of(5), "writerUpper", Frontier.EMPTY, "seqno", 7L));
        Response response = mappers.completionException(new CompletionException(mismatch));
        assertThat(response.getStatus()).isEqualTo(409);
        JsonNode problem = body(response);
        assertThat(problem.get("code").asText()).isEqualTo("upper_mismatch");
        assertThat(problem.get("detail").asText()).isEqualTo("expected upper {3}");
        assertThat(problem.get("currentUpper").toString()).isEqualTo("[5]");
        assertThat(problem.get("writerUpper").toString()).isEqualTo("[]");
        assertThat(problem.get("seqno").asLong()).isEqualTo(7);
    }

    @Test
    void codecsMemberIsAnObject() throws Exception {
        ApiException mismatch = new ApiException(ErrorCode.CODEC_MISMATCH, "other codecs",
                Map.of("actual", new Codecs("k", "v", "t", "d")));
        JsonNode actual = body(mappers.apiException(mismatch)).get("actual");
        assertThat(actual.toString())
                .isEqualTo("{\"keyCodec\":\"k\",\"valCodec\":\"v\",\"tsCodec\":\"t\",\"diffCodec\":\"d\"}");
    }

    @Test
    void everyCodeHasItsStatus() throws Exception {
        for (ErrorCode code : ErrorCode.values()) {
            Response response = mappers.apiException(new ApiException(code, "d"));
            assertThat(response.getStatus()).as(code.code()).isEqualTo(code.httpStatus());
            assertThat(body(response).get("code").asText()).isEqualTo(code.code());
        }
    }

    @Test
    void httpLayerErrorsAreInvalidRequests() throws Exception {
        Response response = mappers.webApplicationException(new NotAllowedException("GET"));
        assertThat(response.getStatus()).isEqualTo(405);
        assertThat(body(response).get("code").asText()).isEqualTo("invalid_request");
    }
}
