package io.stateversions.api.grpc;

import com.google.protobuf.ByteString;
import io.stateversions.api.ApiException;
import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.api.grpc.v1.Batch;
import io.stateversions.api.grpc.v1.BlobPart;
import io.stateversions.api.grpc.v1.Part;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.SeqNo;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Request fields to domain values, through {@link ApiParams} so that REST and gRPC give one input one answer. Field
 * names in messages are the API's lowerCamel names (as REST and protobuf's JSON mapping print them).
 *
 * <p>uint64 fields arrive as Java longs: a value above {@code 2^63-1} is negative here, and ApiParams rejects it as
 * out of range. uint32 fields are widened unsigned.
 */
final class GrpcRequests {

    private GrpcRequests() {}

    /** A required frontier: an absent message is {@code invalid_request}. */
    static Frontier frontier(String field, boolean present, io.stateversions.api.grpc.v1.Frontier frontier) {
        return ApiParams.frontier(field, present ? frontier.getElementsList() : null);
    }

    static Optional<SeqNo> optionalSeqno(String field, boolean present, long value) {
        return present ? Optional.of(ApiParams.seqno(field, value)) : Optional.empty();
    }

    static int limit(boolean present, int value) {
        return present ? ApiParams.limit(Integer.toUnsignedLong(value)) : ShardApi.DEFAULT_LIMIT;
    }

    static OptionalLong leaseDurationMs(boolean present, long value) {
        return present ? OptionalLong.of(ApiParams.leaseDurationMs(value)) : OptionalLong.empty();
    }

    static OptionalLong graceMs(boolean present, long value) {
        return present ? OptionalLong.of(ApiParams.graceMs(value)) : OptionalLong.empty();
    }

    static Bytes bytes(ByteString value) {
        return value.isEmpty() ? Bytes.EMPTY : Bytes.wrap(value.toByteArray());
    }

    /** A batch given as a whole (ApplyMergeRes): lower, upper and since are required. */
    static HollowBatch batch(String field, boolean present, Batch batch) {
        if (!present) {
            throw ApiException.invalidRequest(field + " is required (a batch)");
        }
        Description desc = new Description(
                frontier(field + ".lower", batch.hasLower(), batch.getLower()),
                frontier(field + ".upper", batch.hasUpper(), batch.getUpper()),
                frontier(field + ".since", batch.hasSince(), batch.getSince()));
        return batch(field, desc, batch.getLen(), batch.getPartsList(), batch.getRunSplitsList());
    }

    static List<HollowBatch> batches(String field, List<Batch> batches) {
        ApiParams.checkSize(field, batches.size(), ApiParams.MAX_MERGE_INPUTS);
        List<HollowBatch> parsed = new ArrayList<>(batches.size());
        for (int i = 0; i < batches.size(); i++) {
            parsed.add(batch(field + "[" + i + "]", true, batches.get(i)));
        }
        return parsed;
    }

    static HollowBatch batch(String field, Description desc, long len, List<Part> parts, List<Integer> runSplits) {
        ApiParams.checkSize(field + ".parts", parts.size(), ApiParams.MAX_BATCH_PARTS);
        List<BatchPart> parsed = new ArrayList<>(parts.size());
        for (int i = 0; i < parts.size(); i++) {
            parsed.add(part(field + ".parts[" + i + "]", parts.get(i)));
        }
        List<Long> splits = new ArrayList<>(runSplits.size());
        for (int split : runSplits) {
            splits.add(Integer.toUnsignedLong(split));
        }
        return ApiParams.batch(field, desc, len, parsed, splits);
    }

    private static BatchPart part(String field, Part part) {
        return switch (part.getKindCase()) {
            case BLOB -> {
                BlobPart blob = part.getBlob();
                yield new BatchPart.Hollow(
                        ApiParams.partKey(field + ".blob.key", blob.getKey()),
                        ApiParams.count(field + ".blob.encodedSizeBytes", blob.getEncodedSizeBytes()),
                        ApiParams.partMetadata(field + ".blob.keyLower", bytes(blob.getKeyLower()),
                                ApiParams.MAX_KEY_LOWER_BYTES), Optional.empty(), OptionalLong.empty(),
                        OptionalLong.empty(), ApiParams.partMetadata(field + ".blob.stats", bytes(blob.getStats()),
                                ApiParams.MAX_PART_STATS_BYTES));
            }
            case INLINE -> BatchPart.Inline.of(bytes(part.getInline()));
            case KIND_NOT_SET -> throw ApiException.invalidRequest(field + " must be a blob or an inline part");
        };
    }
}
