package io.stateversions.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Large answers are rendered on the CPU pool, small ones where their read completed. */
class LargeAnswersTest {

    private final ExecutorService cpu = Executors.newSingleThreadExecutor(task -> new Thread(task, "test-cpu"));
    private final LargeAnswers answers = LargeAnswers.on(cpu);

    @AfterEach
    void stop() {
        cpu.shutdownNow();
    }

    private String renderedOn(int batches) throws Exception {
        CompletableFuture<Integer> read = new CompletableFuture<>();
        var rendered = answers.render(read, n -> n, n -> "small on " + Thread.currentThread().getName(),
                n -> "large on " + Thread.currentThread().getName()).toCompletableFuture();
        Thread loop = new Thread(() -> read.complete(batches), "event-loop");
        loop.start();
        loop.join();
        return rendered.get(10, TimeUnit.SECONDS);
    }

    @Test
    void an_answer_of_the_threshold_or_more_batches_is_rendered_on_the_cpu_pool() throws Exception {
        assertThat(renderedOn(LargeAnswers.OFF_LOOP_BATCHES)).isEqualTo("large on test-cpu");
        assertThat(renderedOn(100_000)).isEqualTo("large on test-cpu");
    }

    @Test
    void a_smaller_answer_is_rendered_on_the_thread_that_completed_the_read() throws Exception {
        assertThat(renderedOn(LargeAnswers.OFF_LOOP_BATCHES - 1)).isEqualTo("small on event-loop");
        assertThat(renderedOn(0)).isEqualTo("small on event-loop");
    }

    /** At shutdown the pool refuses work: a large answer still due is rendered where its read completed. */
    @Test
    void a_large_answer_refused_by_a_closing_pool_is_rendered_where_the_read_completed() throws Exception {
        cpu.shutdown();

        assertThat(renderedOn(LargeAnswers.OFF_LOOP_BATCHES)).isEqualTo("large on event-loop");
    }

    @Test
    void a_failed_read_or_rendering_fails_the_answer() {
        CompletableFuture<Integer> failedRead = CompletableFuture.failedFuture(new IllegalStateException("read"));
        assertThat(answers.render(failedRead, n -> n, n -> "x", n -> "y").toCompletableFuture())
                .failsWithin(10, TimeUnit.SECONDS).withThrowableThat().withRootCauseInstanceOf(IllegalStateException.class);
        assertThat(answers.render(CompletableFuture.completedFuture(1_000), n -> n, n -> "x", n -> {
            throw new IllegalArgumentException("render");
        }).toCompletableFuture()).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
                .withRootCauseInstanceOf(IllegalArgumentException.class);
    }
}
