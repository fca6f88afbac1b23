package io.stateversions.watch;

import io.stateversions.core.SeqNo;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.jboss.logging.Logger;

/**
 * One client's watch of one shard: sends every version from {@code next} on, in seqno order, each exactly once.
 *
 * <p>It pulls: a version is read (from the shard's recent window, or from Consensus) only when the client's
 * transport can take it, so a watcher holds at most one page of versions however far behind its client is, and a
 * client that stops reading costs a bounded amount of memory until it is disconnected ({@link End#STALLED}).
 * All sending happens in {@link #drain}, which runs on one thread at a time (a work-in-progress counter), whoever
 * calls it: a commit, a notification, a completed read, the transport becoming writable, or a tick.
 */
public final class Watcher {

    private static final Logger LOG = Logger.getLogger(Watcher.class);

    /** Why a watch ended without the client asking. */
    public enum End {
        /** The client took no event for the stall timeout while versions waited. */
        STALLED,
        /** This replica is shutting down. */
        SHUTDOWN
    }

    private final Watches owner;
    private final ShardFeed feed;
    private final WatchSink sink;
    private final AtomicInteger wip = new AtomicInteger();
    /** The end was sent to the transport. Only the drain loop touches it. */
    private boolean endSent;

    // Owned by drain (one thread at a time).
    private List<WatchedVersion> page = List.of();
    private int pagePos;
    private boolean reading;

    private volatile boolean started;
    private volatile boolean closed;
    /** A failed read is retried on the next tick, not at once (storage is down: no hot loop). */
    private volatile boolean backoff;
    private volatile Object readOutcome;
    private volatile End endRequested;
    private volatile boolean keepaliveRequested;
    private volatile long lastDelivered;
    private volatile long progressNanos;
    private volatile long lastSendNanos;

    Watcher(Watches owner, ShardFeed feed, SeqNo after, WatchSink sink, long nowNanos) {
        this.owner = owner;
        this.feed = feed;
        this.sink = sink;
        this.lastDelivered = after.value();
        this.progressNanos = nowNanos;
        this.lastSendNanos = nowNanos;
    }

    /** Starts sending (the transport is set up). */
    public void start() {
        started = true;
        drain();
    }

    /** The transport can take events again (or something may have arrived). */
    public void ready() {
        if (started) {
            drain();
        }
    }

    /** The client went away. */
    public void cancel() {
        markClosed("cancelled");
    }

    /** The last version sent (the watch's start, before any). */
    public SeqNo lastDelivered() {
        return SeqNo.of(lastDelivered);
    }

    public boolean closed() {
        return closed;
    }

    /** Periodic duties: retry a failed read, keep an idle stream open, disconnect a stalled client. */
    void tick(long nowNanos, long stallTimeoutNanos, long keepaliveNanos) {
        if (closed || !started) {
            return;
        }
        boolean behind = lastDelivered < feed.head();
        if (!behind) {
            progressNanos = nowNanos;
        } else if (nowNanos - progressNanos > stallTimeoutNanos && !sink.ready()) {
            end(End.STALLED);
            return;
        }
        if (!behind && nowNanos - lastSendNanos > keepaliveNanos) {
            lastSendNanos = nowNanos;
            keepaliveRequested = true;
        }
        backoff = false;
        drain();
    }

    /**
     * Ends the watch for {@code reason}, telling the client where to resume. The sink is told from {@link #drain},
     * like every other call to it: transports are not safe for concurrent calls.
     */
    void end(End reason) {
        endRequested = reason;
        drain();
    }

    private boolean markClosed(String reason) {
        synchronized (this) {
            if (closed) {
                return false;
            }
            closed = true;
        }
        owner.removed(this, feed, reason);
        return true;
    }

    private void drain() {
        if (wip.getAndIncrement() != 0) {
            return;
        }
        int missed = 1;
        do {
            try {
                step();
            } catch (RuntimeException e) {
                LOG.errorf(e, "watch of shard %s failed at %s", feed.shard, SeqNo.of(next()));
                endRequested = End.SHUTDOWN; // the loop below runs step again, which ends the watch
                wip.incrementAndGet();
            }
            missed = wip.addAndGet(-missed);
        } while (missed != 0);
    }

    private void step() {
        End end = endRequested;
        if (end != null) {
            markClosed(end.name().toLowerCase(java.util.Locale.ROOT));
            // A watch ended before its transport started (a replica draining right after registering it) still
            // tells its client, once started, where to resume.
            if (started && !endSent) {
                endSent = true;
                sink.end(end, SeqNo.of(lastDelivered));
            }
            return;
        }
        takeReadOutcome();
        if (keepaliveRequested && !closed && sink.ready()) {
            keepaliveRequested = false;
            sink.keepalive();
        }
        while (!closed) {
            if (!sink.ready()) {
                return;
            }
            WatchedVersion v = nextVersion();
            if (v != null) {
                sink.version(v);
                lastDelivered = v.seqno().value();
                long now = owner.nowNanos();
                progressNanos = now;
                lastSendNanos = now;
                owner.metrics().versionsSent(1);
                continue;
            }
            if (next() > feed.head() || reading || backoff) {
                return;
            }
            reading = true;
            feed.read(next()).whenComplete((versions, error) -> {
                readOutcome = error != null ? error : versions;
                drain();
            });
            return;
        }
    }

    @SuppressWarnings("unchecked")
    private void takeReadOutcome() {
        Object outcome = readOutcome;
        if (outcome == null) {
            return;
        }
        readOutcome = null;
        reading = false;
        if (outcome instanceof Throwable error) {
            LOG.debugf("watch of shard %s: reading from %s failed, retrying on the next tick: %s", feed.shard,
                    SeqNo.of(next()), error.getMessage());
            backoff = true;
            return;
        }
        List<WatchedVersion> versions = (List<WatchedVersion>) outcome;
        if (versions.isEmpty()) {
            backoff = true; // nothing at or after next: the head was learned from a poll that raced; wait a tick
            return;
        }
        long first = versions.get(0).seqno().value();
        if (first > next()) {
            if (markClosed("truncated")) {
                sink.truncated(SeqNo.of(next()), SeqNo.of(first));
            }
            return;
        }
        page = versions;
        pagePos = 0;
    }

    /** The next version to send: the one after the last sent. */
    private long next() {
        return lastDelivered + 1;
    }

    /** The version {@code next} from the page in hand or the shard's recent window, or null. */
    private WatchedVersion nextVersion() {
        while (pagePos < page.size()) {
            WatchedVersion v = page.get(pagePos++);
            if (v.seqno().value() == next()) {
                return v;
            }
        }
        page = List.of();
        pagePos = 0;
        WatchedVersion recent = feed.recent(next());
        if (recent != null && recent.seqno().value() != next()) {
            throw new IllegalStateException("invariant violated: the recent window of shard " + feed.shard
                    + " returned " + recent.seqno() + " for " + SeqNo.of(next()));
        }
        return recent;
    }

    @Override
    public String toString() {
        return "Watcher{" + feed.shard + " after " + SeqNo.of(lastDelivered) + ", head " + SeqNo.of(Math.max(0, feed.head()))
                + (reading ? ", reading" : "") + (backoff ? ", backing off" : "") + (closed ? ", closed" : "") + "}";
    }
}
