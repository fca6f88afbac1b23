package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionStage;

/** A {@link Consensus} that passes every call through and records the key of every scan, in order. */
public final class ScanRecordingConsensus extends ForwardingConsensus {

    private final List<String> scanned = new ArrayList<>();

    public ScanRecordingConsensus(Consensus delegate) {
        super(delegate);
    }

    /** The keys scanned since the last call (or since creation), in order, and forgets them. */
    public synchronized List<String> takeScanned() {
        List<String> taken = List.copyOf(scanned);
        scanned.clear();
        return taken;
    }

    /** How many of the scans recorded since the last {@link #takeScanned} were of {@code key}. */
    public synchronized long scansOf(String key) {
        return scanned.stream().filter(key::equals).count();
    }

    @Override
    public CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit) {
        synchronized (this) {
            scanned.add(key);
        }
        return super.scan(key, from, limit);
    }
}
