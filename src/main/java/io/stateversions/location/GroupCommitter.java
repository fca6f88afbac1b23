package io.stateversions.location;

import io.stateversions.location.Consensus.CasRequest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.IntConsumer;

/**
 * Group commit of compare-and-sets. With nothing in flight, a compare-and-set goes at once, alone if nothing else is
 * queued: one caller sees no added latency. While a group is in flight, compare-and-sets queue, and when a group
 * finishes the next group is whatever is queued (oldest first, up to {@code maxSize}, no key twice: a second
 * compare-and-set of a key waits for a later group). A further group goes while others are in flight (up to
 * {@code maxInFlight} in all) only when a full group is waiting: storage that answers slowly gets more statements at
 * once, and storage that is busy gets fewer, larger ones, which cost it less per compare-and-set. There is no timer.
 *
 * <p>Why not every free slot at once: with 64 clients appending over 1,000 shards on 2 cores shared with
 * PostgreSQL, in back-to-back runs, four statements in flight made groups of 2.7 on average and PostgreSQL spent
 * 58 µs of CPU per append; one at a time made groups of 5.3 and 37 µs, and the service committed 12 % more. This
 * rule keeps one at a time there, and lets statements multiply where groups fill up.
 *
 * <p>The sender decides how a group reaches storage (the PostgreSQL backend: one statement, one transaction) and
 * answers each member's outcome; a failure of the group fails every member with it (determinate or
 * indeterminate, as the sender classified it). Callers then apply their usual rules per member.
 *
 * <p>Thread-safe; the monitor is held only to move requests between the queue and a group, never across I/O.
 */
public final class GroupCommitter {

    /** Sends one group to storage: the outcome of each member, in order, or one failure for all. */
    @FunctionalInterface
    public interface Sender {
        CompletionStage<List<CasResult>> send(List<CasRequest> group);
    }

    private record Member(CasRequest request, CompletableFuture<CasResult> result) {}

    private final int maxSize;
    private final int maxInFlight;
    private final Sender sender;
    private final IntConsumer groupSizes;
    private final ArrayDeque<Member> queue = new ArrayDeque<>();
    private int inFlight;

    /**
     * @param maxSize     the most compare-and-sets in one group (1: every one alone)
     * @param maxInFlight the most groups being sent at once
     * @param groupSizes  told the size of every group sent
     */
    public GroupCommitter(int maxSize, int maxInFlight, Sender sender, IntConsumer groupSizes) {
        if (maxSize < 1 || maxInFlight < 1) {
            throw new IllegalArgumentException("group commit needs maxSize >= 1 and maxInFlight >= 1, got " + maxSize
                    + " and " + maxInFlight);
        }
        this.maxSize = maxSize;
        this.maxInFlight = maxInFlight;
        this.sender = sender;
        this.groupSizes = groupSizes;
    }

    /** Sends {@code request} in the next group that has room; completes with its outcome. */
    public CompletionStage<CasResult> submit(CasRequest request) {
        Member member = new Member(request, new CompletableFuture<>());
        List<Member> group;
        synchronized (this) {
            queue.add(member);
            if (!mayStart()) {
                return member.result();
            }
            inFlight++;
            group = take();
        }
        send(group);
        return member.result();
    }

    /** Whether a group may go now (monitor held): the first at once, a further one only when it would be full. */
    private boolean mayStart() {
        return !queue.isEmpty() && (inFlight == 0 || (inFlight < maxInFlight && queue.size() >= maxSize));
    }

    /** The next group: queued members in order, distinct keys, at most {@code maxSize}; a repeated key waits. */
    private List<Member> take() {
        List<Member> group = new ArrayList<>(Math.min(queue.size(), maxSize));
        Set<String> keys = new HashSet<>();
        List<Member> later = null;
        while (group.size() < maxSize && !queue.isEmpty()) {
            Member next = queue.poll();
            if (keys.add(next.request().key())) {
                group.add(next);
            } else {
                if (later == null) {
                    later = new ArrayList<>();
                }
                later.add(next);
            }
        }
        if (later != null) {
            for (int i = later.size() - 1; i >= 0; i--) {
                queue.addFirst(later.get(i));
            }
        }
        return group;
    }

    private void send(List<Member> group) {
        groupSizes.accept(group.size());
        CompletionStage<List<CasResult>> sent;
        try {
            sent = sender.send(group.stream().map(Member::request).toList());
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        sent.whenComplete((results, error) -> {
            List<List<Member>> next = null;
            synchronized (this) {
                inFlight--;
                while (mayStart()) {
                    inFlight++;
                    if (next == null) {
                        next = new ArrayList<>(2);
                    }
                    next.add(take());
                }
            }
            // The next groups go out before this one's callers hear: their follow-ups join a later group.
            if (next != null) {
                next.forEach(this::send);
            }
            Throwable failure = error == null ? null : Failures.unwrap(error);
            if (failure == null && results.size() != group.size()) {
                failure = new IllegalStateException("invariant violated: a group of " + group.size()
                        + " compare-and-sets was answered with " + results.size() + " outcomes");
            }
            for (int i = 0; i < group.size(); i++) {
                if (failure == null) {
                    group.get(i).result().complete(results.get(i));
                } else {
                    group.get(i).result().completeExceptionally(failure);
                }
            }
        });
    }
}
