package io.stateversions.metrics;

import io.opentelemetry.api.trace.Span;
import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.metrics.Metrics.ConsensusOp;
import io.stateversions.metrics.Metrics.Outcome;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Times every {@link Consensus} operation by outcome, counts the bytes it moves, and traces it ({@link StorageSpans}).
 */
public final class MeteredConsensus implements Consensus {

    private static final String STORE = "consensus";

    private final Consensus delegate;
    private final Metrics metrics;
    private final StorageSpans spans;

    public MeteredConsensus(Consensus delegate, Metrics metrics) {
        this(delegate, metrics, StorageSpans.OFF);
    }

    public MeteredConsensus(Consensus delegate, Metrics metrics, StorageSpans spans) {
        this.delegate = delegate;
        this.metrics = metrics;
        this.spans = spans;
    }

    /** The backend behind the meters. */
    public Consensus delegate() {
        return delegate;
    }

    @Override
    public CompletionStage<Optional<VersionedData>> head(String key) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "head", key);
        return delegate.head(key).whenComplete((head, error) -> {
            Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
            metrics.consensus(ConsensusOp.HEAD, outcome, System.nanoTime() - start);
            StorageSpans.end(span, outcome, error);
            if (head != null && head.isPresent()) {
                metrics.consensusBytesRead(head.get().data().length);
            }
        });
    }

    @Override
    public CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "compare_and_set", key);
        return delegate.compareAndSet(key, expected, newData).whenComplete((result, error) ->
                casDone(newData, start, span, result, error));
    }

    /** Each member is timed and counted as one compare-and-set. */
    @Override
    public List<CompletionStage<CasResult>> compareAndSetAll(List<CasRequest> group) {
        long start = System.nanoTime();
        Span[] groupSpans = null;
        if (spans.on()) {
            groupSpans = new Span[group.size()];
            for (int i = 0; i < groupSpans.length; i++) {
                groupSpans[i] = spans.start(STORE, "compare_and_set", group.get(i).key());
            }
        }
        List<CompletionStage<CasResult>> outcomes = delegate.compareAndSetAll(group);
        List<CompletionStage<CasResult>> metered = new java.util.ArrayList<>(outcomes.size());
        for (int i = 0; i < outcomes.size(); i++) {
            VersionedData newData = group.get(i).newData();
            Span span = groupSpans == null ? null : groupSpans[i];
            metered.add(outcomes.get(i).whenComplete((result, error) -> casDone(newData, start, span, result, error)));
        }
        return metered;
    }

    private void casDone(VersionedData newData, long start, Span span, CasResult result, Throwable error) {
        long nanos = System.nanoTime() - start;
        Outcome outcome = error != null ? Outcome.of(error)
                : result == CasResult.COMMITTED ? Outcome.OK : Outcome.MISMATCH;
        metrics.consensus(ConsensusOp.COMPARE_AND_SET, outcome, nanos);
        if (outcome == Outcome.OK) {
            metrics.consensusBytesWritten(newData.data().length);
        }
        StorageSpans.end(span, outcome, error);
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "scan", key);
        return delegate.scan(key, from, limit).whenComplete((entries, error) -> {
            Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
            metrics.consensus(ConsensusOp.SCAN, outcome, System.nanoTime() - start);
            StorageSpans.end(span, outcome, error);
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
        Span span = spans.start(STORE, "truncate", key);
        return delegate.truncate(key, seqno).whenComplete((deleted, error) -> {
            Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
            metrics.consensus(ConsensusOp.TRUNCATE, outcome, System.nanoTime() - start);
            StorageSpans.end(span, outcome, error);
        });
    }

    @Override
    public CompletionStage<List<String>> listKeys(String after, int limit) {
        long start = System.nanoTime();
        Span span = spans.start(STORE, "list_keys", after);
        return delegate.listKeys(after, limit).whenComplete((keys, error) -> {
            Outcome outcome = error == null ? Outcome.OK : Outcome.of(error);
            metrics.consensus(ConsensusOp.LIST_KEYS, outcome, System.nanoTime() - start);
            StorageSpans.end(span, outcome, error);
        });
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
