package io.stateversions.location;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TimeoutsTest {

    private final Timeouts timeouts = new Timeouts("timeouts-test", 1);

    @AfterEach
    void stop() {
        timeouts.close();
    }

    @Test
    void aFutureNotCompleteInTimeFailsWithATimeoutOnTheWheelsThread() throws Exception {
        CompletableFuture<String> future = timeouts.orTimeout(new CompletableFuture<>(), 20, TimeUnit.MILLISECONDS);
        // Nothing else waits on the future, so its failure's dependents run on the thread that failed it.
        CompletableFuture<String> failure = future.handle((value, error) ->
                Thread.currentThread().getName() + ": " + error);

        assertThat(failure.get(10, TimeUnit.SECONDS)).isEqualTo("timeouts-test: "
                + TimeoutException.class.getName() + ": not complete within 20 ms");
        assertThatThrownBy(future::join).cause().isInstanceOf(TimeoutException.class);
    }

    @Test
    void completingAFutureCancelsItsBoundAndKeepsItsValue() throws Exception {
        CompletableFuture<String> future = timeouts.orTimeout(new CompletableFuture<>(), 1, TimeUnit.HOURS);
        assertThat(timeouts.pending()).isEqualTo(1);

        future.complete("answer");

        assertThat(future.get()).isEqualTo("answer");
        // A cancelled bound leaves the wheel at its next tick.
        CompletableFuture<Long> drained = new CompletableFuture<>();
        timeouts.orTimeout(new CompletableFuture<>(), 5, TimeUnit.MILLISECONDS)
                .whenComplete((value, error) -> drained.complete(timeouts.pending()));
        assertThat(drained.get(10, TimeUnit.SECONDS)).as("bounds left once the later one expired").isZero();
    }

    @Test
    void afterCloseAFutureGetsNoBoundAndNothingThrows() throws Exception {
        Timeouts stopped = new Timeouts("timeouts-closed", 1);
        stopped.close();

        CompletableFuture<String> future = stopped.orTimeout(new CompletableFuture<>(), 1, TimeUnit.MILLISECONDS);

        assertThat(stopped.pending()).isZero();
        future.complete("answer");
        assertThat(future.get()).isEqualTo("answer");
    }

    @Test
    void aFutureAlreadyDoneTakesNoBound() {
        CompletableFuture<String> done = CompletableFuture.completedFuture("done");

        assertThat(timeouts.orTimeout(done, 1, TimeUnit.HOURS)).isSameAs(done);
        assertThat(timeouts.pending()).isZero();
    }
}
