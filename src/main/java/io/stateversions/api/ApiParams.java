package io.stateversions.api;

import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.Ids;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.WriterId;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Parsing of the API's scalar parameters, shared by both adapters so that one input gets one answer: identifiers
 * ({@code invalid_id}), timestamps, frontiers, seqnos and limits ({@code invalid_request}).
 */
public final class ApiParams {

    /** The largest timestamp: timestamps are unsigned 64-bit values restricted to {@code 0 ..= 2^63-1}. */
    public static final long MAX_TIMESTAMP = Long.MAX_VALUE;

    // Bounds of the variable-size fields, checked before anything else reads the value: a hostile request costs
    // the service no more than its own size, and its error quotes at most a prefix of it (see ApiException).

    /** Ids are 37 characters ({@code s<uuid>}); anything much longer is refused before it is parsed. */
    public static final int MAX_ID_CHARS = 64;

    /** A part's key {@code <writer key>/<part id>} is 75 characters. */
    public static final int MAX_PART_KEY_CHARS = 128;

    /** A merge id {@code <lower>-<upper>} is at most 39 characters. */
    public static final int MAX_MERGE_ID_CHARS = 64;

    /** Parts of one batch (and so run splits, which are fewer). */
    public static final int MAX_BATCH_PARTS = 65_536;

    /**
     * A blob part's key lower bound, in bytes. It and the part's statistics stay in the shard's state, its cached
     * machine and every rollup, as inline parts do; unlike those they are not capped per shard, so they are capped
     * per part (persist's writers keep a key lower bound to 256 bytes and statistics to a 1 KiB budget).
     */
    public static final int MAX_KEY_LOWER_BYTES = 1024;

    /** A blob part's statistics, in bytes (see {@link #MAX_KEY_LOWER_BYTES}). */
    public static final int MAX_PART_STATS_BYTES = 4096;

    /** Input batches of one merge. */
    public static final int MAX_MERGE_INPUTS = 4_096;

    /** How much of a bad value an error message quotes. */
    public static final int MAX_QUOTED_CHARS = 48;

    private ApiParams() {}

    public static ShardId shardId(String value) {
        return id("shard", value, ShardId::parse);
    }

    public static LeasedReaderId leasedReaderId(String value) {
        return id("leased reader", value, LeasedReaderId::parse);
    }

    public static CriticalReaderId criticalReaderId(String value) {
        return id("critical reader", value, CriticalReaderId::parse);
    }

    public static WriterId writerId(String value) {
        return id("writer", value, WriterId::parse);
    }

    public static IdempotencyToken idempotencyToken(String value) {
        return id("idempotency token", value, IdempotencyToken::parse);
    }

    private static <T> T id(String what, String value, Function<String, T> parse) {
        if (value == null) {
            throw ApiException.invalidId("missing " + what + " id");
        }
        if (value.length() > MAX_ID_CHARS) {
            throw ApiException.invalidId("invalid " + what + " id " + quote(value) + ": ids have 37 characters");
        }
        T parsed;
        try {
            parsed = parse.apply(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidId("invalid " + what + " id " + quote(value) + ": " + e.getMessage());
        }
        // The core parsers accept upper-case hex digits (as persist's do); the API takes only the printed form, so
        // that one id has one spelling (api.md: "uuid = lower-case hyphenated"). Every id here is parsed by
        // Ids.parse, so an accepted value is its printed form unless it has an upper-case hex digit.
        if (Ids.hasUpperCaseHex(value)) {
            throw ApiException.invalidId("invalid " + what + " id " + quote(value) + ": ids are lower-case, as in "
                    + parsed);
        }
        return parsed;
    }

    /** A timestamp in {@code [0, 2^63-1]}. */
    public static long timestamp(String field, long value) {
        if (value < 0) {
            throw ApiException.invalidRequest(field + " must be a timestamp in [0, 2^63-1], got " + value);
        }
        return value;
    }

    /** A frontier of zero or one timestamp: {@code []} is the empty frontier. */
    public static Frontier frontier(String field, List<Long> elements) {
        if (elements == null) {
            throw ApiException.invalidRequest(field + " is required (a frontier: [t] or [])");
        }
        if (elements.size() > 1) {
            throw ApiException.invalidRequest(field + " must hold at most one timestamp, got " + elements.size());
        }
        if (elements.isEmpty()) {
            return Frontier.EMPTY;
        }
        Long t = elements.get(0);
        if (t == null) {
            throw ApiException.invalidRequest(field + " must not hold null");
        }
        return Frontier.of(timestamp(field, t));
    }

    public static SeqNo seqno(String field, long value) {
        if (value < 0) {
            throw ApiException.invalidRequest(field + " must be a seqno in [0, 2^63-1], got " + value);
        }
        return SeqNo.of(value);
    }

    /** A page size in {@code [1, ShardApi.DEFAULT_LIMIT]}. */
    public static int limit(long value) {
        if (value < 1 || value > ShardApi.DEFAULT_LIMIT) {
            throw ApiException.invalidRequest("limit must be in [1, " + ShardApi.DEFAULT_LIMIT + "], got " + value);
        }
        return (int) value;
    }

    /** A string field: non-empty, at most {@code maxChars} characters, valid Unicode (no lone surrogates). */
    public static String text(String field, String value, int maxChars, boolean allowEmpty) {
        if (value == null) {
            throw ApiException.invalidRequest(field + " is required");
        }
        if (!allowEmpty && value.isEmpty()) {
            throw ApiException.invalidRequest(field + " must not be empty");
        }
        if (value.length() > maxChars) {
            throw ApiException.invalidRequest(field + " must be at most " + maxChars + " characters, got "
                    + value.length() + ": " + quote(value));
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < value.length() && Character.isLowSurrogate(value.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                throw ApiException.invalidRequest(field + " is not valid Unicode (lone surrogate at " + i + ")");
            }
        }
        return value;
    }

    /** A count or size ({@code len}, {@code encodedSizeBytes}): in {@code [0, 2^63-1]}. */
    public static long count(String field, long value) {
        if (value < 0) {
            throw ApiException.invalidRequest(field + " must be in [0, 2^63-1], got " + Long.toUnsignedString(value));
        }
        return value;
    }

    /** A batch part's partial key {@code <writer key>/<part id>}. */
    public static PartialBatchKey partKey(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw ApiException.invalidRequest(field + " is required (<writer key>/<part id>)");
        }
        if (value.length() > MAX_PART_KEY_CHARS) {
            throw ApiException.invalidRequest(field + " " + quote(value) + " is not a part key (<writer key>/<part id>,"
                    + " at most " + MAX_PART_KEY_CHARS + " characters)");
        }
        PartialBatchKey key;
        try {
            key = PartialBatchKey.parse(value);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidRequest(field + ": " + e.getMessage());
        }
        // The parser accepts upper-case hex digits and keeps the key's printed (lower-case) form, which would name
        // another blob than the one the client wrote on a case-sensitive store: refuse, as for ids.
        if (Ids.hasUpperCaseHex(value)) {
            throw ApiException.invalidRequest(field + " " + quote(value) + " has upper-case hex digits; part keys are"
                    + " lower-case, as in " + key);
        }
        return key;
    }

    /** A part's key lower bound or statistics ({@code field}), at most {@code max} bytes. */
    public static Bytes partMetadata(String field, Bytes value, int max) {
        if (value.size() > max) {
            throw ApiException.invalidRequest(field + " holds " + value.size() + " bytes, at most " + max + ": it is"
                    + " kept in the shard's state and every rollup, so keep it small");
        }
        return value;
    }

    /**
     * No blob part key twice in one batch: each part is a blob of its own, and GC deletes a released key once. (A
     * key that another batch of the shard holds is not refused here; part keys must be fresh, and GC keeps a key as
     * long as any live state refers to it.)
     */
    public static void requireDistinctParts(String field, HollowBatch batch) {
        List<BatchPart> parts = batch.parts();
        if (parts.size() < 2) {
            return;
        }
        Set<PartialBatchKey> seen = new HashSet<>();
        for (BatchPart part : parts) {
            if (part instanceof BatchPart.Hollow h && !seen.add(h.key())) {
                throw ApiException.invalidRequest(field + " names part " + h.key() + " twice; each part is a blob of"
                        + " its own");
            }
        }
    }

    /**
     * A batch from parsed pieces: {@code runSplits} strictly increasing within {@code (0, parts.size())}. The bounds
     * ({@code lower <= upper}) are the service's check ({@code invalid_bounds}), not a syntax rule.
     */
    public static HollowBatch batch(String field, Description desc, long len, List<BatchPart> parts,
            List<Long> runSplits) {
        checkSize(field + ".runSplits", runSplits.size(), MAX_BATCH_PARTS);
        List<Integer> splits = new ArrayList<>(runSplits.size());
        for (Long split : runSplits) {
            if (split == null || split < 0 || split > Integer.MAX_VALUE) {
                throw ApiException.invalidRequest(field + ".runSplits holds " + split + ", not an index of parts");
            }
            splits.add(split.intValue());
        }
        try {
            return new HollowBatch(desc, count(field + ".len", len), parts, splits, List.of());
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidRequest(field + ": " + e.getMessage());
        }
    }

    /** A grace period in milliseconds: in {@code [0, 2^63-1]}. */
    public static long graceMs(long value) {
        if (value < 0) {
            throw ApiException.invalidRequest("graceMs must be in [0, 2^63-1], got " + Long.toUnsignedString(value));
        }
        return value;
    }

    /** A lease duration in milliseconds: positive. */
    public static long leaseDurationMs(long value) {
        if (value <= 0) {
            throw ApiException.invalidRequest("leaseDurationMs must be positive, got " + value);
        }
        return value;
    }

    /**
     * The size of a collection field, checked before its elements are: at most {@code max}. Adapters call it with the
     * size the wire format gives before they convert any element.
     */
    public static void checkSize(String field, int size, int max) {
        if (size > max) {
            throw ApiException.invalidRequest(field + " holds " + size + " elements, at most " + max);
        }
    }

    /** A merge's id ({@code <lower>-<upper>}, matched against its output by the service). */
    public static String mergeId(String value) {
        return text("id", value, MAX_MERGE_ID_CHARS, false);
    }

    /**
     * A value as an error message shows it: quoted, at most {@value #MAX_QUOTED_CHARS} characters of it, and its
     * length when it was cut. Messages never repeat a whole client value, whose size the client chose.
     */
    public static String quote(String value) {
        if (value == null) {
            return "null";
        }
        if (value.length() <= MAX_QUOTED_CHARS) {
            return "\"" + value + "\"";
        }
        int end = MAX_QUOTED_CHARS;
        if (Character.isHighSurrogate(value.charAt(end - 1))) {
            end--;
        }
        return "\"" + value.substring(0, end) + "…\" (" + value.length() + " characters)";
    }
}
