package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A {@link Consensus} whose calls go through a {@link Chaos}: they may fail determinately, fail indeterminately
 * after taking effect (a compare-and-set that committed, a truncation that deleted), or hang. Closing it does not
 * close the delegate, which the test owns.
 */
public final class ChaosConsensus implements Consensus {

    private final Consensus delegate;
    private final Chaos chaos;

    public ChaosConsensus(Consensus delegate, Chaos chaos) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.chaos = Objects.requireNonNull(chaos, "chaos");
    }

    @Override
    public CompletionStage<Optional<VersionedData>> head(String key) {
        return chaos.call(Chaos.Op.CONSENSUS_HEAD, key, () -> delegate.head(key));
    }

    @Override
    public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        return chaos.call(Chaos.Op.CONSENSUS_CAS, key, () -> delegate.compareAndSet(key, expected, newData));
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        return chaos.call(Chaos.Op.CONSENSUS_SCAN, key, () -> delegate.scan(key, from, limit));
    }

    @Override
    public CompletionStage<Long> truncate(String key, SeqNo seqno) {
        return chaos.call(Chaos.Op.CONSENSUS_TRUNCATE, key, () -> delegate.truncate(key, seqno));
    }

    @Override
    public CompletionStage<List<String>> listKeys(String after, int limit) {
        return chaos.call(Chaos.Op.CONSENSUS_LIST_KEYS, after, () -> delegate.listKeys(after, limit));
    }
}
