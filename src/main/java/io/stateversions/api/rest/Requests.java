package io.stateversions.api.rest;

import io.stateversions.api.ApiException;
import io.stateversions.api.ApiParams;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Codecs;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.SeqNo;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.eclipse.microprofile.openapi.annotations.media.Schema;

/**
 * The request bodies of api.md and their translation into domain values. Jackson only checks JSON types (strictly:
 * see {@link StrictJson}); every other rule, required fields included, is checked here or in {@link ApiParams}, so
 * that a bad field is reported by name as {@code invalid_request} (or {@code invalid_id}).
 */
public final class Requests {

    private Requests() {}

    static <T> T required(String field, T value) {
        if (value == null) {
            throw ApiException.invalidRequest(field + " is required");
        }
        return value;
    }

    /** The body itself: an empty body reaches the resource as {@code null}. */
    static <T> T body(T body) {
        if (body == null) {
            throw ApiException.invalidRequest("a JSON request body is required");
        }
        return body;
    }

    static Frontier frontier(String field, List<Long> elements) {
        return ApiParams.frontier(field, elements);
    }

    /** Standard, padded base64; anything else (URL-safe alphabet, missing padding, whitespace) is rejected. */
    static Bytes bytes(String field, String base64) {
        if (base64 == null) {
            throw ApiException.invalidRequest(field + " is required");
        }
        try {
            byte[] decoded = Base64.getDecoder().decode(base64);
            if (!Base64.getEncoder().encodeToString(decoded).equals(base64)) {
                throw new IllegalArgumentException("not in canonical form");
            }
            return Bytes.wrap(decoded);
        } catch (IllegalArgumentException e) {
            throw ApiException.invalidRequest(field + " must be standard padded base64 (" + e.getMessage() + ")");
        }
    }

    static Bytes optionalBytes(String field, String base64) {
        return base64 == null ? Bytes.EMPTY : bytes(field, base64);
    }

    // ----------------------------------------------------------------------------------------------- bodies

    @Schema(description = "The codec names of the shard: non-empty strings of at most 256 characters.")
    public record OpenShard(@Schema(required = true) String keyCodec, @Schema(required = true) String valCodec,
            @Schema(required = true) String tsCodec, @Schema(required = true) String diffCodec) {
        /** Present; their length and content are the service's rules. */
        Codecs codecs() {
            return new Codecs(required("keyCodec", keyCodec), required("valCodec", valCodec),
                    required("tsCodec", tsCodec), required("diffCodec", diffCodec));
        }
    }

    public record RegisterLeasedReader(
            @Schema(description = "Omit to register a new reader", example = "r00000000-0000-0000-0000-000000000000")
            String readerId,
            @Schema(required = true) String purpose,
            @Schema(description = "Positive; omit for the configured default") Long leaseDurationMs) {}

    public record DowngradeSince(@Schema(ref = "Frontier", required = true) List<Long> since,
            @Schema(description = "The oldest seqno whose parts the reader still reads (a snapshot's `seqno`, until"
                    + " it has fetched every part): the reader's seqno hold becomes min(outstandingSeqno, current"
                    + " seqno). Omit: the current seqno. Below the reader's present hold: 400 invalid_request.")
            Long outstandingSeqno) {

        Optional<SeqNo> outstanding() {
            return outstandingSeqno == null ? Optional.empty()
                    : Optional.of(ApiParams.seqno("outstandingSeqno", outstandingSeqno));
        }
    }

    public record RegisterCriticalReader(@Schema(required = true) String purpose,
            @Schema(required = true) String opaqueCodec,
            @Schema(description = "The opaque value of a new reader (int64, default 0)") Long initialOpaque) {}

    public record CompareAndDowngradeSince(@Schema(required = true) Long expectedOpaque,
            @Schema(required = true) Long newOpaque, @Schema(ref = "Frontier", required = true) List<Long> since) {}

    public record RegisterWriter(@Schema(required = true) String purpose,
            @Schema(description = "Positive; omit for the configured default") Long leaseDurationMs) {}

    @Schema(description = "compare_and_append: the batch [lower, upper) written by writerId, at most once per"
            + " idempotencyToken.")
    public record Append(
            @Schema(required = true, example = "w00000000-0000-0000-0000-000000000000") String writerId,
            @Schema(required = true, example = "i00000000-0000-0000-0000-000000000000") String idempotencyToken,
            @Schema(ref = "Frontier", required = true) List<Long> lower,
            @Schema(ref = "Frontier", required = true) List<Long> upper,
            @Schema(ref = "Frontier", description = "Default [0]") List<Long> since,
            @Schema(required = true) Long len,
            @Schema(required = true) List<Views.Part> parts,
            List<Integer> runSplits,
            @Schema(description = "The writer's lease if this append registers it; omit for the configured default."
                    + " Below the configured minimum (default 60 s): 400 invalid_request.") Long leaseDurationMs) {

        OptionalLong lease() {
            return leaseDurationMs == null ? OptionalLong.empty()
                    : OptionalLong.of(ApiParams.leaseDurationMs(leaseDurationMs));
        }

        HollowBatch batch() {
            Frontier lowerF = frontier("lower", lower);
            Frontier upperF = frontier("upper", upper);
            Frontier sinceF = since == null ? Frontier.MIN : frontier("since", since);
            return batchOf("", lowerF, upperF, sinceF, required("len", len), parts, runSplits);
        }
    }

    public record ApplyMerge(@Schema(required = true, example = "0-10") String id,
            @Schema(required = true) List<Views.Batch> inputs, @Schema(required = true) Views.Batch output) {

        List<HollowBatch> inputBatches() {
            List<HollowBatch> batches = new ArrayList<>();
            List<Views.Batch> in = required("inputs", inputs);
            ApiParams.checkSize("inputs", in.size(), ApiParams.MAX_MERGE_INPUTS);
            for (int i = 0; i < in.size(); i++) {
                batches.add(batch("inputs[" + i + "]", in.get(i)));
            }
            return batches;
        }

        HollowBatch outputBatch() {
            return batch("output", output);
        }
    }

    public record RegisterSchema(@Schema(required = true, format = "byte") String keySchema,
            @Schema(required = true, format = "byte") String valSchema) {}

    // ---------------------------------------------------------------------------------------------- batches

    /** A batch given in full (merges): every field but {@code runSplits} is required. */
    static HollowBatch batch(String field, Views.Batch batch) {
        required(field, batch);
        return batchOf(field + ".", frontier(field + ".lower", batch.lower()),
                frontier(field + ".upper", batch.upper()), frontier(field + ".since", batch.since()),
                required(field + ".len", batch.len()), batch.parts(), batch.runSplits());
    }

    private static HollowBatch batchOf(String prefix, Frontier lower, Frontier upper, Frontier since, long len,
            List<Views.Part> parts, List<Integer> runSplits) {
        List<Views.Part> partViews = required(prefix + "parts", parts);
        ApiParams.checkSize(prefix + "parts", partViews.size(), ApiParams.MAX_BATCH_PARTS);
        List<BatchPart> domainParts = new ArrayList<>(partViews.size());
        for (int i = 0; i < partViews.size(); i++) {
            domainParts.add(part(prefix + "parts[" + i + "]", partViews.get(i)));
        }
        List<Long> splits = new ArrayList<>();
        if (runSplits != null) {
            runSplits.forEach(split -> splits.add(split == null ? null : split.longValue()));
        }
        String name = prefix.isEmpty() ? "batch" : prefix.substring(0, prefix.length() - 1);
        return ApiParams.batch(name, new Description(lower, upper, since), ApiParams.count(prefix + "len", len),
                domainParts, splits);
    }

    static BatchPart part(String field, Views.Part part) {
        required(field, part);
        if (part.inline() != null) {
            if (part.key() != null || part.encodedSizeBytes() != null || part.keyLower() != null
                    || part.stats() != null) {
                throw ApiException.invalidRequest(field
                        + " is either a blob part {key, encodedSizeBytes, keyLower?, stats?} or an inline part"
                        + " {inline}, not both");
            }
            return new BatchPart.Inline(bytes(field + ".inline", part.inline()), Optional.empty(),
                    OptionalLong.empty());
        }
        if (part.key() == null) {
            throw ApiException.invalidRequest(field + " needs key (a blob part) or inline (an inline part)");
        }
        return new BatchPart.Hollow(ApiParams.partKey(field + ".key", part.key()),
                ApiParams.count(field + ".encodedSizeBytes", required(field + ".encodedSizeBytes",
                        part.encodedSizeBytes())),
                ApiParams.partMetadata(field + ".keyLower", optionalBytes(field + ".keyLower", part.keyLower()),
                        ApiParams.MAX_KEY_LOWER_BYTES), Optional.empty(), OptionalLong.empty(), OptionalLong.empty(),
                ApiParams.partMetadata(field + ".stats", optionalBytes(field + ".stats", part.stats()),
                        ApiParams.MAX_PART_STATS_BYTES));
    }
}
