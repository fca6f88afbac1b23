package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A writer handle. Printed {@code w<uuid>} (spec §2). */
public record WriterId(UUID uuid) implements Comparable<WriterId> {

    public WriterId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static WriterId random() {
        return new WriterId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code w} is required. */
    public static WriterId parse(String printed) {
        return new WriterId(Ids.parse("writer id", "w", printed));
    }

    @Override
    public int compareTo(WriterId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("w", uuid);
    }
}
