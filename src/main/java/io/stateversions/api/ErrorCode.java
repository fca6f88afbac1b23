package io.stateversions.api;

import io.grpc.Status;

/**
 * The one error table of the public API (api.md "Errors"): every machine-readable {@code code}, with the HTTP
 * status the REST adapter answers and the gRPC status the gRPC adapter answers. Both adapters map a
 * {@link ApiException} through this table and nothing else.
 */
public enum ErrorCode {
    INVALID_ID("invalid_id", 400, Status.Code.INVALID_ARGUMENT, "Invalid identifier"),
    INVALID_REQUEST("invalid_request", 400, Status.Code.INVALID_ARGUMENT, "Invalid request"),
    INVALID_BOUNDS("invalid_bounds", 400, Status.Code.INVALID_ARGUMENT, "Invalid bounds"),
    INVALID_EMPTY_TIME_INTERVAL("invalid_empty_time_interval", 400, Status.Code.INVALID_ARGUMENT,
            "Empty time interval with parts"),
    SHARD_NOT_FOUND("shard_not_found", 404, Status.Code.NOT_FOUND, "Shard not found"),
    READER_EXPIRED("reader_expired", 404, Status.Code.NOT_FOUND, "Reader not registered"),
    WRITER_EXPIRED("writer_expired", 404, Status.Code.NOT_FOUND, "Writer not registered"),
    VERSION_NOT_FOUND("version_not_found", 404, Status.Code.NOT_FOUND, "Version not found"),
    VERSION_TRUNCATED("version_truncated", 410, Status.Code.OUT_OF_RANGE, "Version truncated"),
    CODEC_MISMATCH("codec_mismatch", 409, Status.Code.FAILED_PRECONDITION, "Codec mismatch"),
    UPPER_MISMATCH("upper_mismatch", 409, Status.Code.FAILED_PRECONDITION, "Upper mismatch"),
    OPAQUE_MISMATCH("opaque_mismatch", 409, Status.Code.FAILED_PRECONDITION, "Opaque mismatch"),
    OPAQUE_CODEC_MISMATCH("opaque_codec_mismatch", 409, Status.Code.FAILED_PRECONDITION, "Opaque codec mismatch"),
    IDEMPOTENCY_TOKEN_REUSED("idempotency_token_reused", 409, Status.Code.FAILED_PRECONDITION,
            "Idempotency token reused"),
    AS_OF_BEFORE_SINCE("as_of_before_since", 409, Status.Code.FAILED_PRECONDITION, "As-of before since"),
    AS_OF_NOT_AVAILABLE("as_of_not_available", 409, Status.Code.FAILED_PRECONDITION, "As-of not yet available"),
    SHARD_TOMBSTONED("shard_tombstoned", 409, Status.Code.FAILED_PRECONDITION, "Shard tombstoned"),
    NOT_FINALIZABLE("not_finalizable", 409, Status.Code.FAILED_PRECONDITION, "Shard not finalizable"),
    /** Security on: the request carries no credentials, or credentials that were not accepted. */
    UNAUTHENTICATED("unauthenticated", 401, Status.Code.UNAUTHENTICATED, "Unauthenticated"),
    /** Security on: the caller is authenticated but has no role that allows the operation. */
    FORBIDDEN("forbidden", 403, Status.Code.PERMISSION_DENIED, "Forbidden"),
    INLINE_BACKPRESSURE("inline_backpressure", 429, Status.Code.RESOURCE_EXHAUSTED, "Inline backpressure"),
    /**
     * Beyond api.md's table: a registration (or an append of a new writer) that would give the shard more handles than
     * {@code stateversions.state.max-handles}; nothing changed.
     */
    TOO_MANY_HANDLES("too_many_handles", 429, Status.Code.RESOURCE_EXHAUSTED, "Too many handles"),
    /** Beyond api.md's table: a watch refused because this replica serves its maximum of watches. */
    TOO_MANY_WATCHERS("too_many_watchers", 429, Status.Code.RESOURCE_EXHAUSTED, "Too many watchers"),
    /** Beyond api.md's table: a watch whose client took no event for the stall timeout; resumable. */
    WATCH_STALLED("watch_stalled", 503, Status.Code.UNAVAILABLE, "Watch stalled"),
    /** Beyond api.md's table: a watch ended by the replica (it is stopping); resumable on any replica. */
    WATCH_INTERRUPTED("watch_interrupted", 503, Status.Code.UNAVAILABLE, "Watch interrupted"),
    /**
     * Beyond api.md's table: the replica is stopping and has passed its shutdown delay; nothing was done. Send the
     * request to another replica.
     */
    SHUTTING_DOWN("shutting_down", 503, Status.Code.UNAVAILABLE, "Replica shutting down"),
    STORAGE_UNAVAILABLE("storage_unavailable", 503, Status.Code.UNAVAILABLE, "Storage unavailable"),
    OUTCOME_UNKNOWN("outcome_unknown", 504, Status.Code.UNKNOWN, "Outcome unknown"),
    /** Not in the contract's table: a bug of ours (a broken invariant). Never a client's fault. */
    INTERNAL("internal", 500, Status.Code.INTERNAL, "Internal error");

    private final String code;
    private final int httpStatus;
    private final Status.Code grpcStatus;
    private final String title;

    ErrorCode(String code, int httpStatus, Status.Code grpcStatus, String title) {
        this.code = code;
        this.httpStatus = httpStatus;
        this.grpcStatus = grpcStatus;
        this.title = title;
    }

    /** The machine-readable code: the problem's {@code code} member and gRPC's {@code sv-error-code}. */
    public String code() {
        return code;
    }

    public int httpStatus() {
        return httpStatus;
    }

    public Status.Code grpcStatus() {
        return grpcStatus;
    }

    /** The problem's {@code title}: the same for every occurrence of the code. */
    public String title() {
        return title;
    }

    /** The problem's {@code type}: a stable URI per code. */
    public String type() {
        return "https://stateversions.io/problems/" + code;
    }
}
