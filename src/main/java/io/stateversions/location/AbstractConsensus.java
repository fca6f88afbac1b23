package io.stateversions.location;

import io.stateversions.core.SeqNo;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The argument checks of the {@link Consensus} contract, done once for every backend: each public method checks
 * its arguments and reports a violation, or anything its backend throws instead of returning, through the
 * returned stage, so callers have exactly one failure path. Backends implement the {@code do*} methods and may
 * assume valid arguments.
 */
public abstract class AbstractConsensus implements Consensus {

    @Override
    public final CompletionStage<Optional<VersionedData>> head(String key) {
        try {
            checkKey(key);
            return doHead(key);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        try {
            checkKey(key);
            Objects.requireNonNull(expected, "expected");
            Objects.requireNonNull(newData, "newData");
            if (expected.isPresent() && newData.seqno().compareTo(expected.get()) <= 0) {
                throw new ContractViolation("compareAndSet on " + key + ": new seqno " + newData.seqno()
                        + " must be greater than expected " + expected.get());
            }
            return doCompareAndSet(key, expected, newData);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        try {
            checkKey(key);
            Objects.requireNonNull(from, "from");
            if (limit < 0) {
                throw new ContractViolation("scan on " + key + ": limit must be >= 0, got " + limit);
            }
            return limit == 0 ? CompletableFuture.completedFuture(List.of()) : doScan(key, from, limit);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<Long> truncate(String key, SeqNo seqno) {
        try {
            checkKey(key);
            Objects.requireNonNull(seqno, "seqno");
            return doTruncate(key, seqno);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final CompletionStage<List<String>> listKeys(String after, int limit) {
        try {
            Objects.requireNonNull(after, "after");
            if (limit <= 0) {
                throw new ContractViolation("listKeys: limit must be > 0, got " + limit);
            }
            return doListKeys(after, limit);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    protected abstract CompletionStage<Optional<VersionedData>> doHead(String key);

    /** Called with {@code newData.seqno() > expected} already checked. */
    protected abstract CompletionStage<CasResult> doCompareAndSet(String key, Optional<SeqNo> expected,
            VersionedData newData);

    /** Called with {@code limit >= 1}. */
    protected abstract CompletionStage<List<VersionedData>> doScan(String key, SeqNo from, long limit);

    /** Must fail with {@link #truncateBeyondHead} when the key has no data or {@code seqno} is above its head. */
    protected abstract CompletionStage<Long> doTruncate(String key, SeqNo seqno);

    protected abstract CompletionStage<List<String>> doListKeys(String after, int limit);

    /** The error for a truncation the contract forbids; {@code head} is null for a key without data. */
    protected static ContractViolation truncateBeyondHead(String key, SeqNo seqno, SeqNo head) {
        return new ContractViolation("truncate " + key + " to " + seqno + ": upper bound too high, "
                + (head == null ? "the key has no data" : "head is " + head));
    }

    static void checkKey(String key) {
        Objects.requireNonNull(key, "key");
        if (key.isEmpty()) {
            throw new ContractViolation("key must not be empty");
        }
    }
}
