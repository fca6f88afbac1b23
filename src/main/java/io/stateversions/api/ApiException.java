package io.stateversions.api;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * A failure the API reports to its caller: a code of the {@link ErrorCode} table, a human-readable detail, and
 * the members that code names (api.md), for instance {@code currentUpper} and {@code writerUpper} of
 * {@code upper_mismatch}.
 *
 * <p>Member values are {@link io.stateversions.core.Frontier}, {@link io.stateversions.core.Codecs},
 * {@link Long}, {@link Boolean} or {@link String}; each adapter renders them in its own format.
 */
public final class ApiException extends RuntimeException {

    private final ErrorCode code;
    private final Map<String, Object> members;

    public ApiException(ErrorCode code, String detail) {
        this(code, detail, Map.of(), null);
    }

    public ApiException(ErrorCode code, String detail, Map<String, Object> members) {
        this(code, detail, members, null);
    }

    public ApiException(ErrorCode code, String detail, Map<String, Object> members, Throwable cause) {
        super(bounded(detail, MAX_DETAIL_CHARS), cause, false, false);
        this.code = Objects.requireNonNull(code, "code");
        Map<String, Object> copy = new LinkedHashMap<>();
        members.forEach((name, value) -> copy.put(name, value instanceof String text
                ? bounded(text, MAX_MEMBER_CHARS) : value));
        this.members = java.util.Collections.unmodifiableMap(copy);
    }

    /**
     * The longest detail an error carries, whatever produced it. gRPC sends the detail twice in its trailers
     * ({@code grpc-message} and the status details), and a client refuses trailers beyond its metadata limit (8 KiB by
     * default in grpc-java): an error quoting a whole oversized field would never reach its caller, and would stall
     * the other calls of its HTTP/2 connection. Values are quoted by {@link ApiParams#quote}, shorter still.
     */
    public static final int MAX_DETAIL_CHARS = 1024;

    /** The longest string member (an id, a codec name) an error carries. */
    public static final int MAX_MEMBER_CHARS = 256;

    static String bounded(String text, int maxChars) {
        if (text == null || text.length() <= maxChars) {
            return text;
        }
        int end = maxChars - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) {
            end--; // never split a surrogate pair
        }
        return text.substring(0, end) + "…";
    }

    public ErrorCode code() {
        return code;
    }

    public String detail() {
        return getMessage();
    }

    /** The members named by the code, in a stable order. */
    public Map<String, Object> members() {
        return members;
    }

    public static ApiException invalidRequest(String detail) {
        return new ApiException(ErrorCode.INVALID_REQUEST, detail);
    }

    /**
     * An unexpected failure: a bug of the service, never of the request. It is logged here with its stack trace
     * under a fresh incident id, which is all the caller learns (with the id it can be found in the log).
     */
    public static ApiException internal(Throwable error) {
        String incident = java.util.UUID.randomUUID().toString();
        org.jboss.logging.Logger.getLogger(ApiException.class).errorf(error, "internal error, incident %s", incident);
        return new ApiException(ErrorCode.INTERNAL, "internal error (a bug of the service, not of the request);"
                + " incident " + incident + " in the service log", Map.of("incident", incident), error);
    }

    public static ApiException invalidId(String detail) {
        return new ApiException(ErrorCode.INVALID_ID, detail);
    }

    @Override
    public String toString() {
        return "ApiException{" + code.code() + ": " + getMessage() + (members.isEmpty() ? "" : " " + members) + "}";
    }
}
