package io.stateversions.stateversions;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.location.ContractViolation;
import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/** The retry loops on virtual time: the scheduler records the sleeps and the test runs the retries. */
class RetriesTest {

    /** A scheduler that records each delay and runs the task when told to. */
    static final class ManualScheduler implements Retries.Scheduler {
        final List<Duration> delays = new ArrayList<>();
        final Deque<Runnable> due = new ArrayDeque<>();
        boolean refusing;

        @Override
        public void schedule(Duration delay, Runnable task) {
            if (refusing) {
                throw new RejectedExecutionException("shutting down");
            }
            delays.add(delay);
            due.add(task);
        }

        void runAll() {
            while (!due.isEmpty()) {
                due.poll().run();
            }
        }
    }

    private final ManualScheduler scheduler = new ManualScheduler();
    private final List<String> retried = new ArrayList<>();
    private final Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, scheduler,
            (op, mode, retry, error, sleep) -> retried.add(op + "/" + mode + "/" + retry), () -> 1.0);

    /** An operation that fails with the given errors, in order, then returns "done". */
    private static Supplier<CompletionStage<String>> failing(AtomicInteger calls, RuntimeException... errors) {
        return () -> {
            int call = calls.getAndIncrement();
            return call < errors.length ? CompletableFuture.failedFuture(errors[call]) : CompletableFuture.completedFuture("done");
        };
    }

    @Test
    void persistDefaultsBackOffFrom4msDoublingTo16s() {
        RetryPolicy policy = RetryPolicy.PERSIST_DEFAULTS;
        assertThat(policy.sleep(1, 1.0)).isEqualTo(Duration.ofMillis(4));
        assertThat(policy.sleep(2, 1.0)).isEqualTo(Duration.ofMillis(8));
        assertThat(policy.sleep(3, 1.0)).isEqualTo(Duration.ofMillis(16));
        assertThat(policy.sleep(12, 1.0)).isEqualTo(Duration.ofMillis(8192));
        assertThat(policy.sleep(13, 1.0)).isEqualTo(Duration.ofSeconds(16));
        assertThat(policy.sleep(1000, 1.0)).isEqualTo(Duration.ofSeconds(16));
        assertThat(policy.sleep(1, 0.9)).isEqualTo(Duration.ofNanos(3_600_000));
        assertThat(policy.sleep(1000, 1.1)).isEqualTo(Duration.ofMillis(17_600));
        assertThatThrownBy(() -> policy.sleep(1, 1.2)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> policy.sleep(0, 1.0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void jitterStaysWithinTenPercent() {
        Retries jittered = new Retries(RetryPolicy.PERSIST_DEFAULTS, scheduler, Retries.Listener.NONE);
        AtomicInteger calls = new AtomicInteger();
        RuntimeException[] errors = new RuntimeException[60];
        Arrays.fill(errors, new Determinate("busy"));
        CompletableFuture<String> result = jittered.external("op", failing(calls, errors));
        scheduler.runAll();
        assertThat(result).isCompletedWithValue("done");
        for (int i = 0; i < scheduler.delays.size(); i++) {
            Duration base = RetryPolicy.PERSIST_DEFAULTS.sleep(i + 1, 1.0);
            assertThat(scheduler.delays.get(i).toNanos())
                    .isBetween((long) (base.toNanos() * 0.9) - 1, (long) (base.toNanos() * 1.1) + 1);
        }
        assertThat(scheduler.delays.stream().distinct().count()).as("jitter varies the sleeps").isGreaterThan(40);
    }

    @Test
    void externalRetriesEveryExternalErrorUntilSuccess() {
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<String> result = retries.external("fetch", failing(calls,
                new Determinate("d"), new Indeterminate("i"), new Determinate("d"), new Indeterminate("i")));
        assertThat(result).isNotDone();
        scheduler.runAll();
        assertThat(result).isCompletedWithValue("done");
        assertThat(calls).hasValue(5);
        assertThat(scheduler.delays).containsExactly(Duration.ofMillis(4), Duration.ofMillis(8), Duration.ofMillis(16),
                Duration.ofMillis(32));
        assertThat(retried).containsExactly("fetch/EXTERNAL/1", "fetch/EXTERNAL/2", "fetch/EXTERNAL/3", "fetch/EXTERNAL/4");
    }

    @Test
    void determinateRetriesDeterminateAndReturnsTheFirstIndeterminate() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        Indeterminate unknown = new Indeterminate("may have happened");
        CompletableFuture<String> result = retries.determinate("cas", failing(calls,
                new Determinate("serialization failure"), new Determinate("serialization failure"), unknown,
                new Determinate("never reached")));
        scheduler.runAll();
        assertThat(result).isCompletedExceptionally();
        assertThat(cause(result)).isSameAs(unknown);
        assertThat(calls).hasValue(3);
        assertThat(retried).containsExactly("cas/DETERMINATE/1", "cas/DETERMINATE/2");
    }

    @Test
    void neverRetriesBugs() throws Exception {
        AtomicInteger calls = new AtomicInteger();
        ContractViolation bug = new ContractViolation("truncate beyond head");
        CompletableFuture<String> result = retries.external("truncate", failing(calls, bug));
        scheduler.runAll();
        assertThat(cause(result)).isSameAs(bug);
        assertThat(calls).hasValue(1);

        CompletableFuture<String> thrown = retries.external("throws", () -> {
            throw new IllegalStateException("thrown, not returned");
        });
        assertThat(cause(thrown)).isInstanceOf(IllegalStateException.class);
        assertThat(scheduler.delays).isEmpty();
    }

    @Test
    void cancellingStopsTheLoop() {
        AtomicInteger calls = new AtomicInteger();
        CompletableFuture<String> result = retries.external("op", failing(calls, new Determinate("a"), new Determinate("b")));
        result.cancel(false);
        scheduler.runAll();
        assertThat(calls).hasValue(1);
    }

    @Test
    void aRefusingSchedulerEndsTheLoopWithTheLastError() throws Exception {
        scheduler.refusing = true;
        Determinate error = new Determinate("down");
        CompletableFuture<String> result = retries.external("op", failing(new AtomicInteger(), error));
        assertThat(cause(result)).isSameAs(error);
    }

    private static Throwable cause(CompletableFuture<?> future) throws InterruptedException {
        try {
            future.get();
            throw new AssertionError("expected a failure");
        } catch (ExecutionException e) {
            return e.getCause();
        }
    }

}
