package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.List;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;

/** A {@link Consensus} that counts the versions its scans return: to see how many diffs a read fetched. */
public final class CountingConsensus extends ForwardingConsensus {

    private final AtomicLong scanned = new AtomicLong();

    public CountingConsensus(Consensus delegate) {
        super(delegate);
    }

    /** The versions every scan so far returned, together. */
    public long scanned() {
        return scanned.get();
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        return super.scan(key, from, limit).thenApply(entries -> {
            scanned.addAndGet(entries.size());
            return entries;
        });
    }
}
