package io.stateversions.location;

import io.stateversions.core.SeqNo;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
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
            expected.ifPresent(e -> checkNext(key, e, newData));
            return doCompareAndSet(key, expected, newData);
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
    }

    @Override
    public final List<CompletionStage<CasResult>> compareAndSetAll(List<CasRequest> group) {
        try {
            Objects.requireNonNull(group, "group");
            Set<String> keys = new HashSet<>();
            for (CasRequest request : group) {
                checkKey(request.key());
                checkNext(request.key(), request.expected(), request.newData());
                if (!keys.add(request.key())) {
                    throw new ContractViolation("compareAndSetAll: key " + request.key() + " is twice in the group");
                }
            }
            return group.isEmpty() ? List.of() : doCompareAndSetAll(group);
        } catch (RuntimeException e) {
            List<CompletionStage<CasResult>> failed = new ArrayList<>(group == null ? 0 : group.size());
            for (int i = 0; group != null && i < group.size(); i++) {
                failed.add(CompletableFuture.failedFuture(e));
            }
            return failed;
        }
    }

    /** The precondition of a compare-and-set with an expected head: it writes exactly the next seqno. */
    private static void checkNext(String key, SeqNo expected, VersionedData newData) {
        Objects.requireNonNull(expected, "expected");
        Objects.requireNonNull(newData, "newData");
        if (expected.equals(SeqNo.MAX) || !newData.seqno().equals(expected.next())) {
            throw new ContractViolation("compareAndSet on " + key + ": new seqno " + newData.seqno()
                    + " must be expected + 1 (expected " + expected + ")");
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

    /** Called with {@code newData.seqno() == expected + 1} already checked. */
    protected abstract CompletionStage<CasResult> doCompareAndSet(String key, Optional<SeqNo> expected,
            VersionedData newData);

    /**
     * Called with a non-empty group of distinct keys, each member's precondition checked; one stage per member.
     * By default each member is its own {@link #doCompareAndSet}.
     */
    protected List<CompletionStage<CasResult>> doCompareAndSetAll(List<CasRequest> group) {
        List<CompletionStage<CasResult>> outcomes = new ArrayList<>(group.size());
        for (CasRequest request : group) {
            outcomes.add(doCompareAndSet(request.key(), Optional.of(request.expected()), request.newData()));
        }
        return outcomes;
    }

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
