package io.stateversions.core;

import java.util.Collections;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;

/** What is known about one sorted run of a batch (spec §3.4). Every field may be absent. */
public record RunMeta(Order order, OptionalLong schemaId, Optional<RunId> runId, OptionalLong len,
        SortedMap<String, Bytes> meta) {

    /** How the run's updates are sorted. */
    public enum Order { UNKNOWN, UNORDERED, CODEC, STRUCTURED }

    /** Nothing known: what a batch's run without an entry has. */
    public static final RunMeta DEFAULT = new RunMeta(Order.UNKNOWN, OptionalLong.empty(), Optional.empty(),
            OptionalLong.empty(), Collections.emptySortedMap());

    public RunMeta {
        Objects.requireNonNull(order, "order");
        Objects.requireNonNull(schemaId, "schemaId");
        Objects.requireNonNull(runId, "runId");
        Objects.requireNonNull(len, "len");
        meta = Collections.unmodifiableSortedMap(new TreeMap<>(Objects.requireNonNull(meta, "meta")));
    }
}
