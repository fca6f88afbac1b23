package io.stateversions.api.rest;

/**
 * Texts of the OpenAPI document shared by the resources: the description of each error response, by HTTP status,
 * naming the {@code code}s an operation can answer with it (api.md's table). Error bodies are the {@code Problem}
 * schema of {@code META-INF/openapi.yaml}.
 */
final class Docs {

    private Docs() {}

    static final String PROBLEM = ProblemMappers.PROBLEM_JSON;

    static final String BAD_ID = "`invalid_id`: a malformed identifier.";
    static final String BAD_REQUEST = "`invalid_id` (a malformed identifier) or `invalid_request` (a malformed body"
            + " or parameter: wrong JSON type, missing or unknown field, out-of-range value).";
    static final String BAD_APPEND = "`invalid_id`, `invalid_request` (including an inline part larger than the"
            + " shard's inline cap, and a `leaseDurationMs` below `stateversions.state.writer-lease-min`: member"
            + " `minLeaseDurationMs`), `invalid_bounds` (upper < lower) or `invalid_empty_time_interval`"
            + " (lower == upper with parts).";
    static final String BAD_WRITER_LEASE = "`invalid_id` or `invalid_request` (a malformed body, or a"
            + " `leaseDurationMs` below `stateversions.state.writer-lease-min`, 60 s by default and at least 3 request"
            + " timeouts: member `minLeaseDurationMs`).";
    static final String TOO_LARGE = "`invalid_request`: the body is larger than `quarkus.http.limits.max-body-size`.";
    static final String SHARD_NOT_FOUND = "`shard_not_found`: the shard was never initialized.";
    static final String STORAGE_UNAVAILABLE = "`storage_unavailable`: a determinate storage failure (the call"
            + " certainly had no effect); retry.";
    static final String OUTCOME_UNKNOWN = "`outcome_unknown`: an indeterminate storage failure (the call may have"
            + " taken effect); retrying with the same ids and token is safe.";
    static final String INTERNAL = "`internal`: a bug of the service (logged).";
    static final String TOMBSTONED = "`shard_tombstoned`: the shard is finalized.";
}
