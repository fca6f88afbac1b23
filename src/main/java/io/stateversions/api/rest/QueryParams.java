package io.stateversions.api.rest;

import io.stateversions.api.ApiException;
import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Query and path parameters, which arrive as text: a number is decimal digits only (no sign, no spaces, no
 * {@code 0x}), within {@code 0..2^63-1}; anything else, or a required parameter missing, is {@code invalid_request}
 * (never a 404). The ranges are {@link ApiParams}'.
 */
public final class QueryParams {

    private QueryParams() {}

    /** A decimal integer in {@code [0, 2^63-1]}. */
    static long unsigned(String name, String value) {
        if (value == null) {
            throw ApiException.invalidRequest("query parameter " + name + " is required");
        }
        boolean digits = !value.isEmpty() && value.length() <= 19;
        for (int i = 0; digits && i < value.length(); i++) {
            char c = value.charAt(i);
            digits = c >= '0' && c <= '9';
        }
        if (!digits) {
            throw ApiException.invalidRequest(name + " must be a decimal integer in [0, 2^63-1], got "
                    + shown(value));
        }
        try {
            return Long.parseLong(value);
        } catch (NumberFormatException e) {
            throw ApiException.invalidRequest(name + " must be a decimal integer in [0, 2^63-1], got "
                    + shown(value));
        }
    }

    static OptionalLong optionalUnsigned(String name, String value) {
        return value == null ? OptionalLong.empty() : OptionalLong.of(unsigned(name, value));
    }

    static int limit(String value) {
        return value == null ? ShardApi.DEFAULT_LIMIT : ApiParams.limit(unsigned("limit", value));
    }

    public static SeqNo seqno(String name, String value) {
        return ApiParams.seqno(name, unsigned(name, value));
    }

    public static Optional<SeqNo> optionalSeqno(String name, String value) {
        return value == null ? Optional.empty() : Optional.of(seqno(name, value));
    }

    static long timestamp(String name, String value) {
        return ApiParams.timestamp(name, unsigned(name, value));
    }

    public static Optional<ShardId> optionalShard(String value) {
        return value == null ? Optional.empty() : Optional.of(ApiParams.shardId(value));
    }

    private static String shown(String value) {
        return "\"" + (value.length() > 40 ? value.substring(0, 40) + "…" : value) + "\"";
    }
}
