package io.stateversions.watch;

import io.stateversions.core.SeqNo;

/**
 * Where a {@link Watcher} sends its events: one client's stream (a gRPC call, an SSE response). Calls come from any
 * thread, one at a time per watcher, and must not block. A sink that stops being {@link #ready()} must call
 * {@link Watcher#ready()} once it is again, and {@link Watcher#cancel()} when the client goes away.
 */
public interface WatchSink {

    /** Can take an event now without buffering it beyond the transport's own bounded buffer. */
    boolean ready();

    void version(WatchedVersion version);

    /**
     * {@code next}, the version the watcher needed, was garbage-collected; {@code earliest} is the earliest one still
     * stored. The watch ends after this event: the client refetches the state and watches from its seqno.
     */
    void truncated(SeqNo next, SeqNo earliest);

    /**
     * The watch ends without the client asking for it; the client may watch again from {@code lastDelivered}
     * (the last version it was sent) without a gap.
     */
    void end(Watcher.End reason, SeqNo lastDelivered);

    /** Nothing happened for a while: a transport that needs traffic to stay open sends some. */
    default void keepalive() {}
}
