package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** The token of one logical compare_and_append. Printed {@code i<uuid>} (spec §2). */
public record IdempotencyToken(UUID uuid) implements Comparable<IdempotencyToken> {

    /**
     * "No write yet": every byte 0x11, printed {@code i11111111-1111-1111-1111-111111111111}. A new writer holds it,
     * and a decoded writer without a token gets it.
     */
    public static final IdempotencyToken SENTINEL =
            new IdempotencyToken(new UUID(0x1111111111111111L, 0x1111111111111111L));

    public IdempotencyToken {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static IdempotencyToken random() {
        return new IdempotencyToken(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code i} is required. */
    public static IdempotencyToken parse(String printed) {
        return new IdempotencyToken(Ids.parse("idempotency token", "i", printed));
    }

    @Override
    public int compareTo(IdempotencyToken other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("i", uuid);
    }
}
