package io.stateversions.stateversions;

import io.stateversions.core.BatchPart;
import io.stateversions.core.BlobKey;
import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.location.BlobMetadata;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * A shard's blobs, referenced against present: every key that some live state refers to (invariant 10 of
 * {@link StateVersions}: those must exist, except rollups below the earliest live version, which GC deletes before it
 * truncates) next to every key under the shard's prefix in Blob. What the inspector's blob page and the
 * command-line tool's {@code blobs} show.
 *
 * <p>The listing is taken first and the live states read afterwards, as the leaked-blob sweep does, so that a blob
 * linked while the inventory runs is seen as referenced. On a shard in use, a blob written and linked after the
 * listing shows as {@link Status#MISSING}: such an entry is worth a second run (or {@link ShardInvariants}, which
 * looks each one up again) before it is believed.
 *
 * @param earliest the earliest live version, where the live states start
 * @param current  the last live state read
 * @param blobs    every referenced or present key, in key order
 */
public record BlobInventory(ShardId shard, SeqNo earliest, SeqNo current, List<Entry> blobs) {

    /** Where a key stands. */
    public enum Status {
        /** Referenced by a live state and present. */
        REFERENCED,
        /** Referenced by a live state and absent: a broken invariant (a deleted part or rollup). */
        MISSING,
        /** A rollup below the earliest live version that an old live state still names, deleted by GC: fine. */
        COLLECTED,
        /** Present and referenced by no live state: leaked, or written and not yet linked. */
        UNREFERENCED,
        /** Present under the shard's prefix but not a blob key of the shard; never deleted. */
        FOREIGN;

        /** The name in JSON and on the page. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One key.
     *
     * @param kind           {@code part}, {@code rollup} or {@code other}
     * @param sizeBytes      the stored size, or -1 if absent
     * @param lastModifiedMs the store's last-modified time, or -1 if absent
     */
    public record Entry(String key, String kind, Status status, long sizeBytes, long lastModifiedMs) {}

    /** How many keys have {@code status}. */
    public long count(Status status) {
        return blobs.stream().filter(e -> e.status() == status).count();
    }

    /** Takes the inventory of {@code shard}: its listing, then its live states. Empty if it has no versions. */
    public static CompletableFuture<java.util.Optional<BlobInventory>> take(StateVersions stateVersions,
            ShardId shard) {
        return stateVersions.listBlobs(shard).thenCompose(listed -> stateVersions.fetchAllLiveStates(shard)
                .thenApply(iter -> iter.map(states -> {
                    SeqNo earliest = states.state().seqno();
                    Set<String> referenced = referencedKeys(shard, states);
                    return of(shard, earliest, states.state(), referenced, listed);
                })));
    }

    private static BlobInventory of(ShardId shard, SeqNo earliest, State last, Set<String> referenced,
            List<BlobMetadata> listed) {
        Map<String, BlobMetadata> present = new HashMap<>();
        listed.forEach(meta -> present.put(meta.key(), meta));
        Set<String> keys = new TreeSet<>(referenced);
        keys.addAll(present.keySet());
        List<Entry> entries = new ArrayList<>(keys.size());
        for (String key : keys) {
            BlobKey parsed = parse(shard, key);
            BlobMetadata meta = present.get(key);
            Status status;
            if (parsed == null) {
                status = Status.FOREIGN;
            } else if (!referenced.contains(key)) {
                status = Status.UNREFERENCED;
            } else if (meta != null) {
                status = Status.REFERENCED;
            } else if (parsed instanceof BlobKey.Rollup r && r.key().seqno().isBefore(earliest)) {
                status = Status.COLLECTED;
            } else {
                status = Status.MISSING;
            }
            String kind = parsed instanceof BlobKey.BatchPart ? "part" : parsed instanceof BlobKey.Rollup ? "rollup"
                    : "other";
            entries.add(new Entry(key, kind, status, meta == null ? -1 : meta.sizeBytes(),
                    meta == null ? -1 : meta.lastModifiedMs()));
        }
        return new BlobInventory(shard, earliest, last.seqno(), entries);
    }

    /**
     * Every blob key that the live states of {@code states} refer to: the first state's blobs plus each later diff's
     * inserts, which is the union of every live state's blobs ({@link ReferencedBlobValidator}). Consumes
     * {@code states}: afterwards it stands at the last live state.
     */
    public static Set<String> referencedKeys(ShardId shard, StateVersionsIter states) {
        Set<String> referenced = new HashSet<>();
        while (states.next(step -> step.referencedBlobs(ref -> addKeys(shard, ref, referenced))).isPresent()) {
            // every live state, oldest first; each step reports the blobs it adds
        }
        return referenced;
    }

    /** The blob keys {@code ref} names: a rollup's, or each hollow part's of a batch (inline parts are no blobs). */
    public static void addKeys(ShardId shard, HollowBlobRef ref, Set<String> keys) {
        if (ref instanceof HollowBlobRef.Batch b) {
            for (BatchPart part : b.batch().parts()) {
                if (part instanceof BatchPart.Hollow h) {
                    keys.add(h.key().complete(shard));
                }
            }
        } else {
            keys.add(((HollowBlobRef.Rollup) ref).rollup().key().complete(shard));
        }
    }

    /** {@code key} parsed if it is a blob key of {@code shard} in its canonical spelling, else null. */
    private static BlobKey parse(ShardId shard, String key) {
        try {
            BlobKey parsed = BlobKey.parse(key);
            return parsed.shard().equals(shard) && parsed.toString().equals(key) ? parsed : null;
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
