package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Consensus} that counts the versions its scans return: to see how many diffs a read fetched. */
public final class CountingConsensus implements Consensus {

    private final Consensus delegate;
    private final AtomicLong scanned = new AtomicLong();

    public CountingConsensus(Consensus delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /** The versions every scan so far returned, together. */
    public long scanned() {
        return scanned.get();
    }

    @Override
    public CompletionStage<Optional<VersionedData>> head(String key) {
        return delegate.head(key);
    }

    @Override
    public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        return delegate.compareAndSet(key, expected, newData);
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        return delegate.scan(key, from, limit).thenApply(entries -> {
            scanned.addAndGet(entries.size());
            return entries;
        });
    }

    @Override
    public CompletionStage<Long> truncate(String key, SeqNo seqno) {
        return delegate.truncate(key, seqno);
    }

    @Override
    public CompletionStage<List<String>> listKeys(String after, int limit) {
        return delegate.listKeys(after, limit);
    }
}
