package io.stateversions.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.ExternalError;
import io.stateversions.location.Failures;
import io.stateversions.location.Indeterminate;
import io.stateversions.stateversions.Retries;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.TimeUnit;

/**
 * Every meter of the service: its name, tags and unit are defined here and nowhere else, and meters are recorded
 * at boundaries (the storage decorators), not at call sites. Prometheus names are the Micrometer names with dots
 * as underscores and the unit appended, e.g. {@code stateversions_consensus_operation_seconds_count}.
 *
 * <p>Storage timers are registered up front for every operation and outcome it can have (only a compare-and-set can
 * lose: {@code mismatch}), so recording one is an array lookup and a series that cannot happen is never scraped.
 */
@Singleton
public class Metrics {

    /** The outcome tag of a storage operation. */
    public enum Outcome {
        OK, MISMATCH, DETERMINATE, INDETERMINATE, INVALID;

        final String tag = name().toLowerCase(Locale.ROOT);

        /** The outcome of a failed operation. */
        static Outcome of(Throwable error) {
            Throwable cause = Failures.unwrap(error);
            if (cause instanceof Determinate) {
                return DETERMINATE;
            }
            if (cause instanceof Indeterminate) {
                return INDETERMINATE;
            }
            return cause instanceof ContractViolation ? INVALID : INDETERMINATE;
        }
    }

    /** The operations of {@link io.stateversions.location.Consensus}. */
    public enum ConsensusOp {
        HEAD, COMPARE_AND_SET, SCAN, TRUNCATE, LIST_KEYS;

        final String tag = name().toLowerCase(Locale.ROOT);
    }

    /** The operations of {@link io.stateversions.location.Blob}. */
    public enum BlobOp {
        GET, SET, DELETE, LIST, RESTORE;

        final String tag = name().toLowerCase(Locale.ROOT);
    }

    /** Histogram buckets of storage latencies, from sub-millisecond commits to minute-long uploads. */
    private static final Duration[] STORAGE_BUCKETS = {
        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60)
    };

    private final MeterRegistry registry;
    private final Timer[][] consensusTimers;
    private final Timer[][] blobTimers;
    private final Counter consensusBytesWritten;
    private final Counter consensusBytesRead;
    private final Counter blobBytesWritten;
    private final Counter blobBytesRead;
    private final ConcurrentMap<String, Counter> retries = new ConcurrentHashMap<>();
    private final DistributionSummary groupCommitSizes;

    public Metrics(MeterRegistry registry) {
        this.registry = registry;
        this.consensusTimers = new Timer[ConsensusOp.values().length][Outcome.values().length];
        for (ConsensusOp op : ConsensusOp.values()) {
            for (Outcome outcome : Outcome.values()) {
                if (outcome == Outcome.MISMATCH && op != ConsensusOp.COMPARE_AND_SET) {
                    continue;
                }
                consensusTimers[op.ordinal()][outcome.ordinal()] = storageTimer("stateversions.consensus.operation",
                        "Consensus (PostgreSQL) operations by outcome", op.tag, outcome);
            }
        }
        this.blobTimers = new Timer[BlobOp.values().length][Outcome.values().length];
        for (BlobOp op : BlobOp.values()) {
            for (Outcome outcome : Outcome.values()) {
                if (outcome == Outcome.MISMATCH) {
                    continue;
                }
                blobTimers[op.ordinal()][outcome.ordinal()] = storageTimer("stateversions.blob.operation",
                        "Blob (object storage) operations by outcome", op.tag, outcome);
            }
        }
        this.consensusBytesWritten = bytes("stateversions.consensus.bytes", "written", "Bytes of committed entries");
        this.consensusBytesRead = bytes("stateversions.consensus.bytes", "read", "Bytes of entries read");
        this.blobBytesWritten = bytes("stateversions.blob.bytes", "written", "Bytes of values stored");
        this.blobBytesRead = bytes("stateversions.blob.bytes", "read", "Bytes of values read");
        this.groupCommitSizes = DistributionSummary.builder("stateversions.consensus.group.size")
                .description("Compare-and-sets per group statement sent to PostgreSQL (group commit): its count is"
                        + " the statements, its sum the compare-and-sets")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64)
                .register(registry);
    }

    /** A group of {@code size} compare-and-sets was sent as one statement. */
    public void consensusGroup(int size) {
        groupCommitSizes.record(size);
    }

    public void consensus(ConsensusOp op, Outcome outcome, long nanos) {
        timer(consensusTimers, op, outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    public void blob(BlobOp op, Outcome outcome, long nanos) {
        timer(blobTimers, op, outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    private static Timer timer(Timer[][] timers, Enum<?> op, Outcome outcome) {
        Timer timer = timers[op.ordinal()][outcome.ordinal()];
        if (timer == null) {
            throw new IllegalStateException("no storage operation ends so: " + op + " " + outcome);
        }
        return timer;
    }

    public void consensusBytesWritten(long bytes) {
        consensusBytesWritten.increment(bytes);
    }

    public void consensusBytesRead(long bytes) {
        consensusBytesRead.increment(bytes);
    }

    public void blobBytesWritten(long bytes) {
        blobBytesWritten.increment(bytes);
    }

    public void blobBytesRead(long bytes) {
        blobBytesRead.increment(bytes);
    }

    /** A {@link Retries.Listener}: counts retries by operation and loop. */
    public void retrying(String op, Retries.Mode mode, int retry, ExternalError error, Duration sleep) {
        retries.computeIfAbsent(op + '\0' + mode, key -> Counter.builder("stateversions.retries")
                .description("Storage calls retried after a failure (persist's retry_external / retry_determinate)")
                .tag("op", op)
                .tag("mode", mode.name().toLowerCase(Locale.ROOT))
                .register(registry)).increment();
    }

    private Timer storageTimer(String name, String description, String op, Outcome outcome) {
        return Timer.builder(name)
                .description(description)
                .tag("op", op)
                .tag("outcome", outcome.tag)
                .serviceLevelObjectives(STORAGE_BUCKETS)
                .register(registry);
    }

    private Counter bytes(String name, String direction, String description) {
        return Counter.builder(name).baseUnit("bytes").description(description).tag("direction", direction)
                .register(registry);
    }
}
