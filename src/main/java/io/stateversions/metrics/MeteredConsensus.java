package io.stateversions.metrics;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.metrics.Metrics.ConsensusOp;
import io.stateversions.metrics.Metrics.Outcome;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/** Times every {@link Consensus} operation by outcome, and counts the bytes it moves. */
public final class MeteredConsensus implements Consensus {

    private final Consensus delegate;
    private final Metrics metrics;

    public MeteredConsensus(Consensus delegate, Metrics metrics) {
        this.delegate = delegate;
        this.metrics = metrics;
    }

    /** The backend behind the meters. */
    public Consensus delegate() {
        return delegate;
    }

    @Override
    public CompletionStage<Optional<VersionedData>> head(String key) {
        long start = System.nanoTime();
        return delegate.head(key).whenComplete((head, error) -> {
            metrics.consensus(ConsensusOp.HEAD, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start);
            if (head != null && head.isPresent()) {
                metrics.consensusBytesRead(head.get().data().length);
            }
        });
    }

    @Override
    public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        long start = System.nanoTime();
        return delegate.compareAndSet(key, expected, newData).whenComplete((result, error) ->
                casDone(newData, start, result, error));
    }

    /** Each member is timed and counted as one compare-and-set. */
    @Override
    public List<CompletionStage<CasResult>> compareAndSetAll(List<CasRequest> group) {
        long start = System.nanoTime();
        List<CompletionStage<CasResult>> outcomes = delegate.compareAndSetAll(group);
        List<CompletionStage<CasResult>> metered = new java.util.ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            VersionedData newData = group.get(i).newData();
            metered.add(outcomes.get(i).whenComplete((result, error) -> casDone(newData, start, result, error)));
        }
        return metered;
    }

    private void casDone(VersionedData newData, long start, CasResult result, Throwable error) {
        long nanos = System.nanoTime() - start;
        if (error != null) {
            metrics.consensus(ConsensusOp.COMPARE_AND_SET, Outcome.of(error), nanos);
        } else if (result == CasResult.COMMITTED) {
            metrics.consensus(ConsensusOp.COMPARE_AND_SET, Outcome.OK, nanos);
            metrics.consensusBytesWritten(newData.data().length);
        } else {
            metrics.consensus(ConsensusOp.COMPARE_AND_SET, Outcome.MISMATCH, nanos);
        }
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        long start = System.nanoTime();
        return delegate.scan(key, from, limit).whenComplete((entries, error) -> {
            metrics.consensus(ConsensusOp.SCAN, error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start);
            if (entries != null) {
                long bytes = 0;
                for (VersionedData entry : entries) {
                    bytes += entry.data().length;
                }
                metrics.consensusBytesRead(bytes);
            }
        });
    }

    @Override
    public CompletionStage<Long> truncate(String key, SeqNo seqno) {
        long start = System.nanoTime();
        return delegate.truncate(key, seqno).whenComplete((deleted, error) -> metrics.consensus(ConsensusOp.TRUNCATE,
                error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start));
    }

    @Override
    public CompletionStage<List<String>> listKeys(String after, int limit) {
        long start = System.nanoTime();
        return delegate.listKeys(after, limit).whenComplete((keys, error) -> metrics.consensus(ConsensusOp.LIST_KEYS,
                error == null ? Outcome.OK : Outcome.of(error), System.nanoTime() - start));
    }

    @Override
    public void close() {
        delegate.close();
    }

    @Override
    public String toString() {
        return delegate.toString();
    }
}
