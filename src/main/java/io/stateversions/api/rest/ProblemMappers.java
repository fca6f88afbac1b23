package io.stateversions.api.rest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.InputCoercionException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.InvalidDefinitionException;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.PropertyBindingException;
import io.stateversions.api.ApiException;
import io.stateversions.api.ErrorCode;
import io.stateversions.core.Codecs;
import io.stateversions.core.Frontier;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every failure of a REST call becomes an {@code application/problem+json} document (RFC 9457): {@code type},
 * {@code title}, {@code status}, {@code detail}, the machine-readable {@code code} and the members the code names
 * (api.md "Errors"). {@link ApiException}s map through the one {@link ErrorCode} table; a body Jackson cannot read
 * and any other client error of the HTTP layer are {@code invalid_request}; anything else is a bug of ours,
 * {@code 500 internal}, logged with its stack trace.
 */
public class ProblemMappers {


    public static final String PROBLEM_JSON = "application/problem+json";

    private final ObjectMapper mapper;

    public ProblemMappers(ObjectMapper mapper) {
        this.mapper = mapper;
    }

    @ServerExceptionMapper
    public Response apiException(ApiException e) {
        return problem(e.code(), e.code().httpStatus(), e.detail(), e.members());
    }

    /** Stages of {@code ShardApi} fail with the cause wrapped when a later stage was derived from them. */
    @ServerExceptionMapper
    public Response completionException(CompletionException e) {
        return unwrapped(e);
    }

    @ServerExceptionMapper
    public Response executionException(ExecutionException e) {
        return unwrapped(e);
    }

    /** The Jackson reader rethrows type mismatches as they are (a built-in mapper would answer plain JSON). */
    @ServerExceptionMapper
    public Response mismatchedInput(MismatchedInputException e) {
        return badJson(e);
    }

    @ServerExceptionMapper
    public Response jsonProcessing(JsonProcessingException e) {
        return badJson(e);
    }

    /**
     * Errors of the HTTP layer: an unknown path (404), method (405) or media type (415, 406), a body over
     * {@code quarkus.http.limits.max-body-size} (413), and malformed JSON, which the Jackson reader wraps.
     */
    @ServerExceptionMapper
    public Response webApplicationException(WebApplicationException e) {
        if (e.getCause() instanceof JsonProcessingException json) {
            return badJson(json);
        }
        int status = e.getResponse().getStatus();
        if (status >= 500) {
            return internal(e);
        }
        String detail = switch (status) {
            case 404 -> "no such resource";
            case 405 -> "method not allowed on this resource";
            case 406 -> "this resource only produces application/json";
            case 413 -> "request body too large";
            case 415 -> "request body must be application/json";
            default -> e.getMessage();
        };
        return problem(ErrorCode.INVALID_REQUEST, status, detail, Map.of());
    }

    @ServerExceptionMapper
    public Response unexpected(Throwable e) {
        return internal(e);
    }

    private Response unwrapped(Throwable wrapper) {
        Throwable cause = wrapper.getCause();
        if (cause == null) {
            return internal(wrapper);
        }
        return of(cause);
    }

    /** The problem document of any failure. */
    Response of(Throwable e) {
        if (e instanceof ApiException api) {
            return apiException(api);
        }
        if (e instanceof CompletionException || e instanceof ExecutionException) {
            return unwrapped(e);
        }
        if (e instanceof JsonProcessingException json) {
            return badJson(json);
        }
        if (e instanceof WebApplicationException web) {
            return webApplicationException(web);
        }
        return internal(e);
    }

    private Response internal(Throwable e) {
        return apiException(ApiException.internal(e));
    }

    private Response badJson(JsonProcessingException e) {
        if (e instanceof InvalidDefinitionException) {
            return internal(e); // a type of ours Jackson cannot bind: a bug, not the client's input
        }
        return problem(ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST.httpStatus(), "malformed request body: "
                + describe(e), Map.of());
    }

    /** What was wrong with the body, naming the field; never Jackson's text, which names our classes. */
    static String describe(JsonProcessingException e) {
        String path = e instanceof JsonMappingException m ? path(m.getPath()) : currentField(e);
        String at = path.isEmpty() ? "" : path + ": ";
        if (e instanceof PropertyBindingException unknown) {
            String prefix = path.lastIndexOf('.') > 0 ? path.substring(0, path.lastIndexOf('.') + 1) : "";
            return "unknown field \"" + prefix + unknown.getPropertyName() + "\"";
        }
        if (e instanceof MismatchedInputException mismatch) {
            String message = String.valueOf(mismatch.getOriginalMessage());
            if (message.startsWith("Trailing token")) {
                return "unexpected content after the JSON value";
            }
            if (message.startsWith("No content to map")) {
                return "a JSON request body is required";
            }
            return at + "expected " + expected(mismatch.getTargetType());
        }
        if (e instanceof InputCoercionException) {
            return at + "number out of range (integers are signed 64-bit; timestamps and seqnos 0..2^63-1)";
        }
        if (e instanceof StreamConstraintsException) {
            return "exceeds the JSON limits: " + e.getOriginalMessage();
        }
        if (e instanceof JsonEOFException) {
            return "unexpected end of the JSON input";
        }
        String location = e.getLocation() == null ? ""
                : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
        return "malformed JSON" + location + ": " + firstLine(e.getOriginalMessage());
    }

    private static String expected(Class<?> type) {
        if (type == null) {
            return "another JSON type";
        }
        if (type == Long.class || type == long.class || type == Integer.class || type == int.class) {
            return "an integer";
        }
        if (type == String.class) {
            return "a string";
        }
        if (type == Boolean.class || type == boolean.class) {
            return "a boolean";
        }
        if (Collection.class.isAssignableFrom(type) || type.isArray()) {
            return "an array";
        }
        return "an object";
    }

    private static String path(List<JsonMappingException.Reference> references) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : references) {
            if (ref.getFieldName() != null) {
                if (!path.isEmpty()) {
                    path.append('.');
                }
                path.append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    /** For parser errors, which carry no path: the field being read, if the parser still knows it. */
    private static String currentField(JsonProcessingException e) {
        if (e.getProcessor() instanceof JsonParser parser) {
            try {
                String name = parser.currentName();
                return name == null ? "" : name;
            } catch (java.io.IOException | RuntimeException ignored) {
                return "";
            }
        }
        return "";
    }

    private static String firstLine(String message) {
        if (message == null) {
            return "";
        }
        int newline = message.indexOf('\n');
        return newline < 0 ? message : message.substring(0, newline);
    }

    // ------------------------------------------------------------------------------------------- rendering

    public Response problem(ErrorCode code, int status, String detail, Map<String, Object> members) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("type", code.type());
        body.put("title", code.title());
        body.put("status", status);
        body.put("detail", detail);
        body.put("code", code.code());
        members.forEach((name, value) -> body.put(name, member(value)));
        String json;
        try {
            json = mapper.writeValueAsString(body);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot render a problem document", e);
        }
        return Response.status(status).type(PROBLEM_JSON).entity(json).build();
    }

    private static Object member(Object value) {
        if (value instanceof Frontier frontier) {
            return Views.frontier(frontier);
        }
        if (value instanceof Codecs codecs) {
            return Views.CodecsView.of(codecs);
        }
        return value;
    }
}
