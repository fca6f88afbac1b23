package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** A {@link Consensus} that forwards every call to another: subclasses override the calls they observe or delay. */
public abstract class ForwardingConsensus implements Consensus {

    protected final Consensus delegate;

    protected ForwardingConsensus(Consensus delegate) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
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
        return delegate.scan(key, from, limit);
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
