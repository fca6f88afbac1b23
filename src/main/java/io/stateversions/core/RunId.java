package io.stateversions.core;

import java.util.Objects;
import java.util.UUID;

/** A sorted run of a batch. Printed {@code ri<uuid>} (spec §2). */
public record RunId(UUID uuid) implements Comparable<RunId> {

    public RunId {
        Objects.requireNonNull(uuid, "uuid");
    }

    public static RunId random() {
        return new RunId(UUID.randomUUID());
    }

    /** Parses the printed form; the prefix {@code ri} is required. */
    public static RunId parse(String printed) {
        return new RunId(Ids.parse("run id", "ri", printed));
    }

    @Override
    public int compareTo(RunId other) {
        return Ids.compare(uuid, other.uuid);
    }

    @Override
    public String toString() {
        return Ids.format("ri", uuid);
    }
}
