package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;

/**
 * A {@link Consensus} that passes every call through, except one armed call. The next compare-and-set on a given
 * key can first run another action (a racing writer that commits before it), can lose its reply after
 * committing, failing with {@link Indeterminate} (or a misclassified {@link Determinate}) although it landed, or
 * can fail without running. The next scan of a key can be overtaken: an
 * action (a racing GC) runs after the scan read its entries and before the caller sees them. Arming is one-shot.
 *
 * <p>Closing it does not close the delegate, which the test owns.
 */
public final class FaultyConsensus extends ForwardingConsensus {

    /**
     * One armed call: {@code before} runs first; {@code failInstead} fails the CaS without running it;
     * {@code failAfterCommit} fails it once it committed, after {@code after} ran.
     */
    private record Armed(String key, Supplier<? extends CompletionStage<?>> before, ExternalError failInstead,
            ExternalError failAfterCommit, Supplier<? extends CompletionStage<?>> after, Runnable onFire,
            boolean onScan) {}

    private static final Supplier<CompletionStage<?>> NOTHING = () -> CompletableFuture.completedFuture(null);

    private final AtomicReference<Armed> armed = new AtomicReference<>();

    public FaultyConsensus(Consensus delegate) {
        super(delegate);
    }

    /** The next CaS on {@code key} commits (if it can) and then fails with {@link Indeterminate}. */
    public void loseReplyOfNextCas(String key, Runnable onFire) {
        arm(new Armed(key, NOTHING, null, new Indeterminate("injected: the compare-and-set of " + key
                + " committed but its reply was lost"), NOTHING, onFire, false));
    }

    /**
     * The next CaS on {@code key} commits (if it can), then {@code after} runs to completion, then the CaS fails with
     * {@code failure} although it landed: a failure misclassified as {@link Determinate} is one that a server
     * reported after committing (CockroachDB's 57014).
     */
    public void failAfterNextCas(String key, Supplier<? extends CompletionStage<?>> after, ExternalError failure) {
        arm(new Armed(key, NOTHING, null, Objects.requireNonNull(failure, "failure"),
                Objects.requireNonNull(after, "after"), () -> {}, false));
    }

    /**
     * The next CaS on {@code key} does not reach the delegate: {@code before} runs to completion (a racing writer),
     * then the CaS fails with {@code failure}. It may use this consensus: the arming is cleared before it starts.
     */
    public void failNextCas(String key, Supplier<? extends CompletionStage<?>> before, ExternalError failure) {
        arm(new Armed(key, Objects.requireNonNull(before, "before"), Objects.requireNonNull(failure, "failure"),
                null, NOTHING, () -> {}, false));
    }

    /**
     * Before the next CaS on {@code key} runs, {@code before} runs to completion (a racing writer). It may use this
     * consensus: the arming is cleared before it starts.
     */
    public void beforeNextCas(String key, Supplier<? extends CompletionStage<?>> before, Runnable onFire) {
        arm(new Armed(key, Objects.requireNonNull(before, "before"), null, null, NOTHING, onFire, false));
    }

    /**
     * The next scan of {@code key} reads its entries, then {@code after} runs to completion, then the caller gets
     * the (by now stale) entries. {@code after} may use this consensus: the arming is cleared before it starts.
     */
    public void afterNextScan(String key, Supplier<? extends CompletionStage<?>> after) {
        arm(new Armed(key, Objects.requireNonNull(after, "after"), null, null, NOTHING, () -> {}, true));
    }

    /** Takes the arming if it is for this kind of call on {@code key}. */
    private Armed take(String key, boolean scan) {
        Armed a = armed.get();
        return a != null && a.key().equals(key) && a.onScan() == scan && armed.compareAndSet(a, null) ? a : null;
    }

    private void arm(Armed a) {
        if (!armed.compareAndSet(null, a)) {
            throw new IllegalStateException("a fault is already armed: " + armed.get());
        }
    }

    /** Clears an arming that did not fire; returns whether there was one. */
    public boolean disarm() {
        return armed.getAndSet(null) != null;
    }

    @Override
    public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        Armed a = take(key, false);
        if (a == null) {
            return delegate.compareAndSet(key, expected, newData);
        }
        a.onFire().run();
        CompletionStage<?> before = a.before().get();
        if (a.failInstead() != null) {
            return before.thenCompose(ignored -> CompletableFuture.failedFuture(a.failInstead()));
        }
        return before.thenCompose(ignored -> delegate.compareAndSet(key, expected, newData))
                .thenCompose(result -> a.failAfterCommit() != null && result == CasResult.COMMITTED
                        ? a.after().get().thenCompose(ignored -> CompletableFuture.<CasResult>failedFuture(
                                a.failAfterCommit()))
                        : CompletableFuture.completedFuture(result));
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        Armed a = take(key, true);
        if (a == null) {
            return delegate.scan(key, from, limit);
        }
        return delegate.scan(key, from, limit)
                .thenCompose(entries -> a.before().get().thenApply(ignored -> entries));
    }
}
