package io.stateversions.machine;

import io.stateversions.core.DiffSizes;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.OptionalLong;

/**
 * The encoded sizes of the consecutive diffs one machine has seen (committed, or applied in a refresh), from the
 * first it saw or from its shard's latest rollup on: what the size-aware rollup policy needs
 * ({@link DiffSizes}), which state does not hold. A gap (the machine skipped versions: a slow-path refresh, a
 * state installed from elsewhere) restarts it at the next diff seen; until a rollup at or after that diff is
 * linked, the sizes since the latest rollup are unknown and the policy decides by versions, as persist does.
 *
 * <p>Kept as running totals in one array, trimmed to the diffs after the latest rollup; it never holds more than
 * {@link #MAX_DIFFS} (then it restarts: a shard that goes that long without a rollup rolls up by versions).
 * Thread-safe: a machine's commits and its refreshes may record at once.
 */
final class DiffSizeLog {

    /** The most diffs remembered: 8 MiB of totals. */
    static final int MAX_DIFFS = 1 << 20;

    /** The seqno of the first diff remembered ({@code totals[0]}); meaningless while {@link #count} is 0. */
    private long first;
    /** {@code totals[i]} = the bytes of the diffs {@code first .. first + i}. */
    private long[] totals = new long[0];
    private int count;

    /** Remembers that the diff to {@code seqno} was {@code bytes} long. Diffs already remembered are ignored. */
    synchronized void record(SeqNo seqno, int bytes) {
        long s = seqno.value();
        if (count > 0 && s < first + count) {
            return; // seen: a commit and a refresh may both report it
        }
        if (count == 0 || s > first + count || count == MAX_DIFFS) {
            first = s;
            count = 0;
        }
        if (count == totals.length) {
            long[] grown = new long[Math.min(MAX_DIFFS, Math.max(4, count * 2))];
            System.arraycopy(totals, 0, grown, 0, count);
            totals = grown;
        }
        totals[count] = (count == 0 ? 0 : totals[count - 1]) + bytes;
        count++;
    }

    /** Forgets every diff: the versions they belonged to are gone from Consensus (the machine reloaded). */
    synchronized void clear() {
        count = 0;
    }

    /** Records each of {@code diffs} that took a state past {@code from}, up to {@code to} (inclusive). */
    synchronized void recordApplied(List<VersionedData> diffs, SeqNo from, SeqNo to) {
        for (VersionedData diff : diffs) {
            if (diff.seqno().isAfter(from) && !diff.seqno().isAfter(to)) {
                record(diff.seqno(), diff.data().length);
            }
        }
    }

    /**
     * The policy's input for a transition built on {@code prev}: the bytes of the diffs after a seqno up to
     * {@code prev}'s. Forgets the diffs at or below {@code prev}'s latest rollup first: no later state needs them.
     */
    DiffSizes before(State prev) {
        trimThrough(prev.latestRollup().getKey());
        long upTo = prev.seqno().value();
        return seqno -> bytesBetween(seqno.value(), upTo);
    }

    /** The bytes of the diffs {@code (after, upTo]}; empty unless every one of them is remembered. */
    synchronized OptionalLong bytesBetween(long after, long upTo) {
        if (upTo <= after) {
            return OptionalLong.of(0);
        }
        if (count == 0 || after + 1 < first || upTo > first + count - 1) {
            return OptionalLong.empty();
        }
        long through = totals[(int) (upTo - first)];
        long before = after + 1 == first ? 0 : totals[(int) (after - first)];
        return OptionalLong.of(through - before);
    }

    private synchronized void trimThrough(SeqNo rollup) {
        long drop = rollup.value() - first + 1; // the diffs first .. rollup
        if (count == 0 || drop <= 0) {
            return;
        }
        if (drop >= count) {
            count = 0;
            return;
        }
        int keep = count - (int) drop;
        long base = totals[(int) drop - 1];
        for (int i = 0; i < keep; i++) {
            totals[i] = totals[i + (int) drop] - base;
        }
        first += drop;
        count = keep;
    }
}
