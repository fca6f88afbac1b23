package io.stateversions.testing;

import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A second process for the two-process linearizability test: runs {@link Appender}s against a PostgreSQL consensus
 * and prints {@code committed <seqno> <payload>} for every acknowledged commit, then {@code done}.
 *
 * <p>Arguments: {@code <postgres url> <key> <workers> <entries per worker> <worker name prefix>}.
 */
public final class CasWorker {

    private CasWorker() {}

    public static void main(String[] args) throws Exception {
        String url = args[0];
        String key = args[1];
        int workers = Integer.parseInt(args[2]);
        int perWorker = Integer.parseInt(args[3]);
        String prefix = args[4];
        Vertx vertx = Vertx.vertx();
        PostgresPools.Settings settings = new PostgresPools.Settings(workers, Duration.ofSeconds(30),
                Duration.ofMinutes(5), Duration.ofSeconds(5), Duration.ofSeconds(30));
        PostgresConsensus consensus = PostgresPools.consensus(vertx, url, settings, () -> {});
        List<Thread> threads = new ArrayList<>();
        List<Throwable> failures = new ArrayList<>();
        for (int w = 0; w < workers; w++) {
            String worker = prefix + w;
            Thread thread = new Thread(() -> {
                try {
                    Appender.append(consensus, key, worker, perWorker, (seqno, payload) -> {
                        synchronized (System.out) {
                            System.out.println("committed " + seqno + " " + payload);
                        }
                    });
                } catch (Throwable e) {
                    synchronized (failures) {
                        failures.add(e);
                    }
                }
            });
            thread.start();
            threads.add(thread);
        }
        for (Thread thread : threads) {
            thread.join();
        }
        consensus.close();
        vertx.close();
        if (!failures.isEmpty()) {
            failures.forEach(Throwable::printStackTrace);
            System.exit(1);
        }
        System.out.println("done");
        System.exit(0);
    }
}
