package io.stateversions.core;

import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/** One part of a batch (spec §3.4): a blob holding updates ({@link Hollow}), or a few updates kept in state ({@link Inline}). */
public sealed interface BatchPart {

    /** Bytes this part occupies: in Blob for a hollow part, in state for an inline one. */
    long encodedSizeBytes();

    /** Timestamps of this part are to be read as advanced to this frontier (a "rewritten" part). */
    Optional<Frontier> tsRewrite();

    OptionalLong schemaId();

    /**
     * A part stored in Blob under {@code <shard>/<key>}.
     *
     * @param keyLower a lower bound on the part's keys, opaque (may be empty)
     * @param diffsSum the sum of the part's diffs, if known (persist's 8 bytes as an i64)
     * @param stats    column statistics, opaque to this service (may be empty)
     */
    record Hollow(PartialBatchKey key, long encodedSizeBytes, Bytes keyLower, Optional<Frontier> tsRewrite,
            OptionalLong diffsSum, OptionalLong schemaId, Bytes stats) implements BatchPart {

        public Hollow {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(keyLower, "keyLower");
            Objects.requireNonNull(tsRewrite, "tsRewrite");
            Objects.requireNonNull(diffsSum, "diffsSum");
            Objects.requireNonNull(schemaId, "schemaId");
            Objects.requireNonNull(stats, "stats");
            if (encodedSizeBytes < 0) {
                throw new IllegalArgumentException("encodedSizeBytes must be >= 0, got " + encodedSizeBytes);
            }
        }

        /** A part with only a key and a size. */
        public static Hollow of(PartialBatchKey key, long encodedSizeBytes) {
            return new Hollow(key, encodedSizeBytes, Bytes.EMPTY, Optional.empty(), OptionalLong.empty(),
                    OptionalLong.empty(), Bytes.EMPTY);
        }

        @Override
        public String toString() {
            return key + "(" + encodedSizeBytes + "B)";
        }
    }

    /** Encoded updates kept inside state, so that tiny writes skip Blob. */
    record Inline(Bytes updates, Optional<Frontier> tsRewrite, OptionalLong schemaId) implements BatchPart {

        public Inline {
            Objects.requireNonNull(updates, "updates");
            Objects.requireNonNull(tsRewrite, "tsRewrite");
            Objects.requireNonNull(schemaId, "schemaId");
        }

        public static Inline of(Bytes updates) {
            return new Inline(updates, Optional.empty(), OptionalLong.empty());
        }

        @Override
        public long encodedSizeBytes() {
            return updates.size();
        }

        @Override
        public String toString() {
            return "inline(" + updates.size() + "B)";
        }
    }
}
