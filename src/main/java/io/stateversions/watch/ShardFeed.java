package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.StateDiff;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.StateVersions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the watchers of one shard share on this replica: the highest seqno known to exist ({@link #head}), the
 * most recent versions ({@link #RECENT} of them, contiguous), and the reads of Consensus in flight (watchers that
 * need the same versions share one read).
 *
 * <p>Versions reach the recent window from this replica's commits (no I/O) and from reads of Consensus, which
 * happen when the head moves past what the window holds: on another replica's notification, or on a poll.
 */
final class ShardFeed {

    /** Recent versions kept for the watchers that are caught up. */
    static final int RECENT = 64;
    /** The most versions one read of Consensus returns (and one watcher holds while it sends them). */
    static final int PAGE = 64;
    /** The most diff bytes one read returns, but for its first version: a page of large diffs is shorter. */
    static final long PAGE_BYTES = 4L << 20;

    final ShardId shard;
    final Set<Watcher> watchers = ConcurrentHashMap.newKeySet();
    private final Consensus consensus;
    private final StateVersions stateVersions;
    private final WatchMetrics metrics;
    private final AtomicLong head = new AtomicLong(-1);
    private final AtomicBoolean polling = new AtomicBoolean();
    /**
     * The recent window: seqnos {@code [recentFirst, recentLast]}, contiguous, at most {@link #RECENT} of them,
     * version {@code s} at {@code recent[s % RECENT]} (empty: {@code recentLast < recentFirst}). Guarded by this.
     */
    private final WatchedVersion[] recent = new WatchedVersion[RECENT];
    private long recentFirst = 0;
    private long recentLast = -1;
    /** Reads in flight, by their first seqno. Guarded by this. */
    private final Map<Long, CompletableFuture<List<WatchedVersion>>> reads = new HashMap<>();

    ShardFeed(ShardId shard, Consensus consensus, StateVersions stateVersions, WatchMetrics metrics) {
        this.shard = shard;
        this.consensus = consensus;
        this.stateVersions = stateVersions;
        this.metrics = metrics;
    }

    /** The highest seqno known to exist (-1: none known yet). */
    long head() {
        return head.get();
    }

    /** Learned that {@code seqno} exists; wakes the watchers if that is news. */
    void learned(long seqno) {
        if (raiseHead(seqno)) {
            wakeAll();
        }
    }

    /** This replica committed {@code version}: no read needed. */
    void committed(WatchedVersion version) {
        remember(version);
        raiseHead(version.seqno().value());
        wakeAll();
    }

    /** Asks Consensus for the head (missed notifications); at most one poll in flight. */
    CompletableFuture<Void> poll() {
        if (!polling.compareAndSet(false, true)) {
            return CompletableFuture.completedFuture(null);
        }
        return consensus.head(shard.toString()).toCompletableFuture().handle((data, error) -> {
            polling.set(false);
            if (error == null && data.isPresent()) {
                learned(data.get().seqno().value());
            }
            return null;
        });
    }

    /** The version {@code seqno} if it is among the recent ones. */
    synchronized WatchedVersion recent(long seqno) {
        return seqno >= recentFirst && seqno <= recentLast ? recent[slot(seqno)] : null;
    }

    private static int slot(long seqno) {
        return (int) (seqno % RECENT);
    }

    /**
     * Versions from {@code from} on, up to {@link #PAGE} of them and {@link #PAGE_BYTES} of diffs (at least one),
     * read from Consensus (shared with any read of the same range in flight). The first may be above {@code from}:
     * then {@code from} was truncated. Empty if there are none yet.
     */
    CompletableFuture<List<WatchedVersion>> read(long from) {
        CompletableFuture<List<WatchedVersion>> read;
        synchronized (this) {
            read = reads.get(from);
            if (read != null) {
                return read;
            }
            read = new CompletableFuture<>();
            reads.put(from, read);
        }
        CompletableFuture<List<WatchedVersion>> result = read;
        stateVersions.scanWithin(shard, SeqNo.of(from), PAGE, PAGE_BYTES).thenApply(StateVersions.BoundedScan::entries)
                .whenComplete((entries, error) -> {
            synchronized (this) {
                reads.remove(from, result);
            }
            if (error != null) {
                result.completeExceptionally(error);
                return;
            }
            List<WatchedVersion> versions;
            try {
                versions = decode(entries);
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
                return;
            }
            metrics.versionsFetched(versions.size());
            for (WatchedVersion v : versions) {
                remember(v);
            }
            if (!versions.isEmpty()) {
                raiseHead(versions.get(versions.size() - 1).seqno().value());
            }
            result.complete(versions);
        });
        return read;
    }

    private List<WatchedVersion> decode(List<VersionedData> entries) {
        List<WatchedVersion> versions = new ArrayList<>(entries.size());
        for (VersionedData entry : entries) {
            StateDiff diff = stateVersions.codec().decodeDiff(shard, entry.data());
            if (!diff.seqnoTo().equals(entry.seqno())) {
                throw new IllegalStateException("invariant violated: the diff stored at " + entry.seqno() + " of shard "
                        + shard + " is the diff to " + diff.seqnoTo());
            }
            versions.add(new WatchedVersion(diff));
        }
        return versions;
    }

    /** Adds {@code v} to the recent window if it extends it; a version past a gap starts a new window. */
    private synchronized void remember(WatchedVersion v) {
        long seqno = v.seqno().value();
        if (recentLast >= recentFirst && seqno <= recentLast) {
            return; // already known
        }
        if (recentLast < recentFirst || seqno != recentLast + 1) {
            recentFirst = seqno;
        }
        recent[slot(seqno)] = v;
        recentLast = seqno;
        recentFirst = Math.max(recentFirst, seqno - RECENT + 1);
    }

    private boolean raiseHead(long seqno) {
        long prev = head.getAndAccumulate(seqno, Math::max);
        return seqno > prev;
    }

    private void wakeAll() {
        for (Watcher w : watchers) {
            w.ready();
        }
    }
}
