package io.stateversions.testing;

import io.stateversions.core.SeqNo;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.Failures;
import io.stateversions.location.VersionedData;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BiConsumer;

/**
 * A contending writer for linearizability checks: appends {@code count} entries to one key by reading the head and
 * compare-and-setting head + 1, retrying lost races and determinate failures, and reports each entry it was told
 * is committed. Used in-process and from a second JVM ({@link CasWorker}).
 */
public final class Appender {

    private Appender() {}

    /**
     * @param committed told {@code (seqno, payload)} for every entry this appender committed
     * @throws AssertionError on any outcome other than commit, mismatch or a determinate failure
     */
    public static void append(Consensus consensus, String key, String worker, int count,
            BiConsumer<Long, String> committed) throws InterruptedException {
        for (int i = 0; i < count; ) {
            try {
                Optional<VersionedData> head = consensus.head(key).toCompletableFuture().get(60, TimeUnit.SECONDS);
                long next = head.map(h -> h.seqno().value() + 1).orElse(1L);
                String payload = worker + ":" + i;
                CasResult result = consensus.compareAndSet(key, head.map(VersionedData::seqno),
                        new VersionedData(SeqNo.of(next), payload.getBytes(StandardCharsets.UTF_8)))
                        .toCompletableFuture().get(60, TimeUnit.SECONDS);
                if (result == CasResult.COMMITTED) {
                    committed.accept(next, payload);
                    i++;
                }
            } catch (ExecutionException e) {
                if (!(Failures.unwrap(e) instanceof Determinate)) {
                    throw new AssertionError("unexpected failure of " + worker, e.getCause());
                }
            } catch (TimeoutException e) {
                throw new AssertionError(worker + " got no answer within 60 s", e);
            }
        }
    }
}
