package io.stateversions.location.memory;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.AbstractConsensus;
import io.stateversions.location.Consensus;
import io.stateversions.location.KeyOrder;
import io.stateversions.location.VersionedData;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * {@link Consensus} in process memory (URL {@code mem://}): for unit tests and throw-away runs. It applies the
 * same validation and truncation rules as the durable backends; its data lives as long as the instance.
 *
 * <p>Each key's log is guarded by its own monitor, held only for in-memory work, so operations on one key are
 * linearizable and keys do not contend.
 */
public final class MemoryConsensus extends AbstractConsensus {

    private final ConcurrentSkipListMap<String, Log> logs = new ConcurrentSkipListMap<>(KeyOrder.CODE_POINT);

    @Override
    protected CompletionStage<Optional<VersionedData>> doHead(String key) {
        Log log = logs.get(key);
        if (log == null) {
            return CompletableFuture.completedFuture(Optional.empty());
        }
        synchronized (log) {
            return CompletableFuture.completedFuture(
                    log.entries.isEmpty() ? Optional.empty() : Optional.of(log.entries.get(log.entries.size() - 1)));
        }
    }

    @Override
    protected CompletionStage<CasResult> doCompareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        Log log = logs.computeIfAbsent(key, k -> new Log());
        synchronized (log) {
            SeqNo head = log.entries.isEmpty() ? null : log.entries.get(log.entries.size() - 1).seqno();
            boolean matches = expected.isEmpty() ? head == null : expected.get().equals(head);
            if (!matches) {
                return CompletableFuture.completedFuture(CasResult.EXPECTATION_MISMATCH);
            }
            log.entries.add(newData);
            return CompletableFuture.completedFuture(CasResult.COMMITTED);
        }
    }

    @Override
    protected CompletionStage<List<VersionedData>> doScan(String key, SeqNo from, long limit) {
        Log log = logs.get(key);
        if (log == null) {
            return CompletableFuture.completedFuture(List.of());
        }
        synchronized (log) {
            int start = log.indexOfFirstAtOrAfter(from);
            int end = (int) Math.min(log.entries.size(), start + Math.min(limit, Integer.MAX_VALUE));
            return CompletableFuture.completedFuture(List.copyOf(log.entries.subList(start, end)));
        }
    }

    @Override
    protected CompletionStage<Long> doTruncate(String key, SeqNo seqno) {
        Log log = logs.get(key);
        if (log == null) {
            return CompletableFuture.failedFuture(truncateBeyondHead(key, seqno, null));
        }
        synchronized (log) {
            if (log.entries.isEmpty()) {
                return CompletableFuture.failedFuture(truncateBeyondHead(key, seqno, null));
            }
            SeqNo head = log.entries.get(log.entries.size() - 1).seqno();
            if (seqno.isAfter(head)) {
                return CompletableFuture.failedFuture(truncateBeyondHead(key, seqno, head));
            }
            int deleted = log.indexOfFirstAtOrAfter(seqno);
            log.entries.subList(0, deleted).clear();
            return CompletableFuture.completedFuture((long) deleted);
        }
    }

    @Override
    protected CompletionStage<List<String>> doListKeys(String after, int limit) {
        List<String> keys = new ArrayList<>(Math.min(limit, 1024));
        for (var entry : logs.tailMap(after, false).entrySet()) {
            if (keys.size() == limit) {
                break;
            }
            Log log = entry.getValue();
            synchronized (log) {
                if (!log.entries.isEmpty()) {
                    keys.add(entry.getKey());
                }
            }
        }
        return CompletableFuture.completedFuture(keys);
    }

    /** One key's entries in ascending seqno order. Guarded by its own monitor. */
    private static final class Log {
        final ArrayList<VersionedData> entries = new ArrayList<>();

        int indexOfFirstAtOrAfter(SeqNo seqno) {
            int index = Collections.binarySearch(entries, new VersionedData(seqno, new byte[0]),
                    (a, b) -> a.seqno().compareTo(b.seqno()));
            return index >= 0 ? index : -index - 1;
        }
    }
}
