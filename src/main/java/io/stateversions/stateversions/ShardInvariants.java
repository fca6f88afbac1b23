package io.stateversions.stateversions;

import io.stateversions.core.BatchPart;
import io.stateversions.core.BlobKey;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Checks the invariants of a shard's versioned log (the list in {@link StateVersions}) on raw Consensus and Blob,
 * with no cache: a state layer of its own reads everything again, through the same calls a replica makes. Every
 * violation throws a {@link Violation} whose message prints the values involved and the caller's context (the test's
 * seed, the step a GC was killed at, the storage URLs of the command-line tool); a read that fails throws an
 * {@link IllegalStateException} naming what was read.
 *
 * <ol>
 *   <li>The shard is initialized; its seqnos are contiguous from the earliest live one to the head, and each diff
 *       runs from its predecessor to its own seqno.</li>
 *   <li>The latest rollup key of every live diff exists in Blob, or lies below earliest. (Checked before the current
 *       state is loaded, which starts from such a rollup: a missing one is reported with its key, not as a failed
 *       read.)</li>
 *   <li>{@code earliest <= current.seqnoSince()}.</li>
 *   <li>Current state holds a rollup at earliest; its blob exists and holds the state at earliest.</li>
 *   <li>Every rollup of current state exists in Blob.</li>
 *   <li>Every live state (from {@code fetchAllLiveStates}, with the referenced-blob validation on) refers only to
 *       batch parts that exist in Blob, and to rollups that exist or lie below earliest (deleted by GC before it
 *       truncated: legitimately stale). While a GC is dead half way ({@link #checkDuringGc}) only the states
 *       from seqnoSince on must find their parts.</li>
 *   <li>The live states run from earliest to the head, and the last one equals the current state a fresh replica
 *       loads.</li>
 *   <li>Every part a live state lists as released by a merge was released at or before that state and above its
 *       oldest rollup (GC collects a released part before it truncates past the release, and forgets it when it
 *       removes the rollups at or below it); and no live state refers to a part that the state before it listed as
 *       released and no longer referred to (the shard refuses such a batch: GC may be deleting that blob).</li>
 * </ol>
 *
 * <p>Blob existence is read from one listing of the shard's prefix, taken before the states are read; a key a state
 * names that the listing lacks is looked up once more on its own (it may have been written after the listing), so
 * that a check of a shard in use reports no blob missing that a writer merely linked meanwhile.
 */
public final class ShardInvariants {

    /** How long one storage read of the check may take. */
    private static final long READ_TIMEOUT_S = 60;

    private ShardInvariants() {}

    /** A broken invariant of a shard's log; the message holds the values. */
    public static final class Violation extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        Violation(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * What the check saw.
     *
     * @param referencedParts   every batch part some live state refers to
     * @param referencedRollups every rollup some live state refers to (some may be legitimately gone)
     * @param presentParts      the batch parts of the shard in Blob
     * @param presentRollups    the rollups of the shard in Blob
     */
    public record Report(ShardId shard, SeqNo earliest, State current, int liveStates,
            Set<PartialBatchKey> referencedParts, Set<PartialRollupKey> referencedRollups,
            Set<PartialBatchKey> presentParts, Set<PartialRollupKey> presentRollups) {

        /** Parts in Blob that no live state refers to: leaked, or not yet collected. */
        public Set<PartialBatchKey> unreferencedParts() {
            Set<PartialBatchKey> d = new TreeSet<>(presentParts);
            d.removeAll(referencedParts);
            return d;
        }

        /** Rollups in Blob that no live state refers to. */
        public Set<PartialRollupKey> unreferencedRollups() {
            Set<PartialRollupKey> d = new TreeSet<>(presentRollups);
            d.removeAll(referencedRollups);
            return d;
        }

        @Override
        public String toString() {
            return "shard " + shard + ": live " + earliest + ".." + current.seqno() + " (" + liveStates
                    + " states), rollups in state " + current.collections().rollups().keySet() + ", seqnoSince "
                    + current.seqnoSince() + ", " + referencedParts.size() + " parts referenced, "
                    + presentParts.size() + " in Blob, " + presentRollups.size() + " rollups in Blob";
        }
    }

    /**
     * Checks {@code shard} and returns what it saw.
     *
     * @param context printed with every failure (the chaos and its seed, the step a GC was killed at...)
     */
    public static Report check(ShardId shard, Consensus consensus, Blob blob, PersistConfig cfg, Object context) {
        return check(shard, consensus, blob, cfg, context, true);
    }

    /**
     * {@link #check} for a shard whose GC died half way: it may have deleted the blobs of diffs it did not get to
     * truncate, so only the live states from {@code seqnoSince} on, which readers may hold, must find their batch
     * parts. Everything else is checked as usual.
     */
    public static Report checkDuringGc(ShardId shard, Consensus consensus, Blob blob, PersistConfig cfg,
            Object context) {
        return check(shard, consensus, blob, cfg, context, false);
    }

    /**
     * {@link #check}, and also that {@code expected} (what a replica answers) is the current state.
     */
    public static Report check(ShardId shard, Consensus consensus, Blob blob, PersistConfig cfg, Object context,
            State expected) {
        Report report = check(shard, consensus, blob, cfg, context);
        check(report.current().equals(expected), "shard " + shard + " [" + context + "]", "the replica under check"
                + " answers state " + expected.seqno() + ", storage holds " + report.current().seqno()
                + ":\n  replica: " + expected + "\n  storage: " + report.current());
        return report;
    }

    private static Report check(ShardId shard, Consensus consensus, Blob blob, PersistConfig cfg, Object context,
            boolean quiescent) {
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        StateVersions sv = new StateVersions(cfg.withValidateTransitions(true), consensus, blob, retries,
                StateVersionsMetrics.NONE, System::currentTimeMillis, "invariant-checker");
        String key = shard.toString();
        String where = "shard " + shard + " [" + context + "]";
        Existence blobs = new Existence(blob, join(sv.listBlobs(shard), where), where);

        // 1. Contiguous seqnos, each diff from its predecessor.
        List<VersionedData> all = join(consensus.scan(key, SeqNo.MIN, Consensus.SCAN_ALL), where);
        check(!all.isEmpty(), where, "the shard has no versions");
        SeqNo earliest = all.get(0).seqno();
        List<SeqNo> seqnos = all.stream().map(VersionedData::seqno).toList();
        List<StateDiff> diffs = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            VersionedData entry = all.get(i);
            check(entry.seqno().value() == earliest.value() + i, where, "seqnos are not contiguous: " + seqnos);
            StateDiff diff;
            try {
                diff = sv.codec().decodeDiff(shard, entry.data());
            } catch (RuntimeException e) {
                throw new Violation("invariant violated for " + where + ": the diff stored at " + entry.seqno()
                        + " (" + entry.data().length + " bytes) cannot be decoded: " + e.getMessage(), e);
            }
            check(diff.seqnoTo().equals(entry.seqno()) && diff.seqnoFrom().next().equals(entry.seqno()), where,
                    "the diff stored at " + entry.seqno() + " runs " + diff.seqnoFrom() + " -> " + diff.seqnoTo());
            diffs.add(diff);
        }
        SeqNo headSeqno = all.get(all.size() - 1).seqno();
        Optional<VersionedData> head = join(consensus.head(key), where);
        check(head.isPresent() && head.get().seqno().equals(headSeqno), where,
                "head " + head.map(VersionedData::seqno) + " is not the last scanned version " + headSeqno);

        // 2. The latest rollup named by every live diff exists or is legitimately stale.
        for (StateDiff diff : diffs) {
            PartialRollupKey latest = diff.latestRollupKey();
            if (!latest.seqno().isBefore(earliest)) {
                check(blobs.exists(latest.complete(shard)), where, "diff " + diff.seqnoTo() + " names latest rollup "
                        + latest + ", which is missing from Blob and not below earliest " + earliest);
            }
        }

        // 7 (first half). The current state as a fresh replica loads it (what Machines does on first use).
        State current = join(sv.fetchRecentLiveDiffs(shard).thenCompose(recent -> sv.fetchCurrentState(shard,
                recent)), where);
        check(current.seqno().equals(headSeqno), where, "a fresh replica loads " + current.seqno()
                + " but the head is " + headSeqno);

        // 3. No reader's version is truncated.
        check(!earliest.isAfter(current.seqnoSince()), where, "earliest " + earliest + " is after seqnoSince "
                + current.seqnoSince() + " (readers " + current.collections().leasedReaders() + ")");

        // 4. A rollup at earliest, which holds the state at earliest.
        HollowRollup atEarliest = current.collections().rollups().get(earliest);
        check(atEarliest != null, where, "current state " + current.seqno() + " has no rollup at earliest " + earliest
                + "; its rollups are " + current.collections().rollups().keySet());
        Optional<State> rollupState = join(sv.fetchRollupAtKey(shard, atEarliest.key()), where);
        check(rollupState.isPresent(), where, "the rollup " + atEarliest.key() + " at earliest " + earliest
                + " is missing from Blob");
        check(rollupState.get().seqno().equals(earliest), where, "the rollup at earliest " + earliest
                + " holds the state at " + rollupState.get().seqno());

        // 5. Every rollup of current state exists.
        for (HollowRollup r : current.collections().rollups().values()) {
            check(blobs.exists(r.key().complete(shard)), where, "rollup " + r.key() + " of current state "
                    + current.seqno() + " is missing from Blob");
        }

        // 6. Every live state refers only to blobs that exist (rollups below earliest may be gone).
        Optional<StateVersionsIter> iter = join(sv.fetchAllLiveStates(shard), where);
        check(iter.isPresent(), where, "fetchAllLiveStates found no versions");
        StateVersionsIter states = iter.get();
        check(states.state().seqno().equals(earliest), where, "live states start at " + states.state().seqno()
                + ", not at earliest " + earliest);
        Set<PartialBatchKey> referencedParts = new LinkedHashSet<>();
        Set<PartialRollupKey> referencedRollups = new LinkedHashSet<>();
        int liveStates = 0;
        State state = states.state();
        SeqNo partsRequiredFrom = quiescent ? earliest : current.seqnoSince();
        State previous = null;
        Set<PartialBatchKey> previousParts = Set.of(); // the parts the previous state refers to, if it released any
        while (true) {
            liveStates++;
            boolean partsRequired = !state.seqno().isBefore(partsRequiredFrom);
            NavigableMap<PartialBatchKey, SeqNo> releasedBefore = previous == null ? Collections.emptyNavigableMap()
                    : previous.collections().releasedParts();
            boolean collectParts = !state.collections().releasedParts().isEmpty();
            Set<PartialBatchKey> parts = collectParts ? new HashSet<>() : Set.of();
            for (HollowBatch batch : state.collections().trace().batches()) {
                for (BatchPart part : batch.parts()) {
                    if (part instanceof BatchPart.Hollow h) {
                        referencedParts.add(h.key());
                        check(!partsRequired || blobs.exists(h.key().complete(shard)), where, "batch part " + h.key()
                                + " of live state " + state.seqno() + " (batch " + batch.desc()
                                + ") is missing from Blob: a referenced blob was deleted");
                        SeqNo released = releasedBefore.get(h.key());
                        if (released != null && !previousParts.contains(h.key())) {
                            check(false, where, "batch " + batch.desc() + " of live state " + state.seqno()
                                    + " refers to part " + h.key() + ", which a merge released at seqno " + released
                                    + " and state " + previous.seqno() + " no longer referred to: GC may delete its"
                                    + " blob");
                        }
                        if (collectParts) {
                            parts.add(h.key());
                        }
                    }
                }
            }
            checkReleased(state, where);
            for (HollowRollup r : state.collections().rollups().values()) {
                referencedRollups.add(r.key());
                if (!r.key().seqno().isBefore(earliest)) {
                    check(blobs.exists(r.key().complete(shard)), where, "rollup " + r.key() + " of live state "
                            + state.seqno() + " is missing from Blob, and it is not below earliest " + earliest);
                }
            }
            // The first step replays the diff that produced the rollup at earliest: the state stays put.
            Optional<State> next = states.next();
            while (next.isPresent() && next.get().seqno().equals(state.seqno())) {
                next = states.next();
            }
            if (next.isEmpty()) {
                break;
            }
            check(next.get().seqno().equals(state.seqno().next()), where, "the live state after " + state.seqno()
                    + " is " + next.get().seqno());
            previous = state;
            previousParts = parts;
            state = next.get();
        }
        check(liveStates == all.size(), where, liveStates + " live states for " + all.size() + " live diffs");

        // 7. The last live state is the current state.
        check(state.equals(current), where, "the last live state " + state.seqno() + " differs from the current"
                + " state a fresh replica loads:\n  live:    " + state + "\n  current: " + current);

        Set<PartialBatchKey> presentParts = new TreeSet<>();
        Set<PartialRollupKey> presentRollups = new TreeSet<>();
        for (String listed : blobs.listed) {
            BlobKey parsed;
            try {
                parsed = BlobKey.parse(listed);
            } catch (IllegalArgumentException e) {
                continue; // not a blob key of the shard: neither a part nor a rollup (the leaked-blob sweep logs them)
            }
            if (parsed instanceof BlobKey.BatchPart p) {
                presentParts.add(p.key());
            } else if (parsed instanceof BlobKey.Rollup r) {
                presentRollups.add(r.key());
            }
        }
        return new Report(shard, earliest, current, liveStates, referencedParts, referencedRollups, presentParts,
                presentRollups);
    }

    /** The parts {@code state} lists as released were released at or before it, and above its oldest rollup. */
    private static void checkReleased(State state, String where) {
        NavigableMap<PartialBatchKey, SeqNo> released = state.collections().releasedParts();
        if (released.isEmpty()) {
            return;
        }
        NavigableMap<SeqNo, HollowRollup> rollups = state.collections().rollups();
        SeqNo oldestRollup = rollups.isEmpty() ? SeqNo.MIN : rollups.firstKey();
        for (Map.Entry<PartialBatchKey, SeqNo> e : released.entrySet()) {
            if (e.getValue().isAfter(state.seqno()) || !e.getValue().isAfter(oldestRollup)) {
                check(false, where, "live state " + state.seqno() + " lists part " + e.getKey() + " as released at"
                        + " seqno " + e.getValue() + ", not in (" + oldestRollup + ", " + state.seqno()
                        + "] (after its oldest rollup, at or before itself)");
            }
        }
    }

    /** Which blob keys exist: the listing, and a look-up of each key it lacks (written after it, or missing). */
    private static final class Existence {
        private final Blob blob;
        private final Set<String> listed = new HashSet<>();
        private final Set<String> lookedUp = new HashSet<>();
        private final String where;

        Existence(Blob blob, List<BlobMetadata> listing, String where) {
            this.blob = blob;
            this.where = where;
            listing.forEach(meta -> listed.add(meta.key()));
        }

        boolean exists(String key) {
            if (listed.contains(key) || lookedUp.contains(key)) {
                return true;
            }
            boolean exists = join(blob.get(key), where).isPresent();
            if (exists) {
                lookedUp.add(key);
            }
            return exists;
        }
    }

    private static void check(boolean condition, String where, String message) {
        if (!condition) {
            throw new Violation("invariant violated for " + where + ": " + message, null);
        }
    }

    private static <T> T join(CompletionStage<T> stage, String where) {
        try {
            return stage.toCompletableFuture().get(READ_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new IllegalStateException("reading " + where + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("reading " + where + " took over " + READ_TIMEOUT_S + " s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading " + where, e);
        }
    }
}
