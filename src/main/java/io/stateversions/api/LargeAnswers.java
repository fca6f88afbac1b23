package io.stateversions.api;

import io.stateversions.core.State;
import io.stateversions.stateversions.OffLoopExecutor;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * Renders answers that hold a whole state or a snapshot's batches (REST and gRPC alike) on the CPU pool
 * ({@link OffLoopExecutor}) when they hold {@value #OFF_LOOP_BATCHES} batches or more, and on the calling thread
 * (usually the event loop that completed the read) when they hold fewer. Rendering costs a few microseconds a batch:
 * a gRPC {@code GetState} of 20,000 batches took 60–160 ms to build and serialize, during which the event loop served
 * none of its other connections. Small answers, the common case, stay where they are: a hop to another thread would
 * cost more than rendering them.
 */
@ApplicationScoped
public class LargeAnswers {

    /** The fewest batches whose answer is rendered off the event loop (about a millisecond of rendering). */
    public static final int OFF_LOOP_BATCHES = 256;

    private final Executor cpu;

    @Inject
    public LargeAnswers(OffLoopExecutor cpu) {
        this((Executor) cpu);
    }

    private LargeAnswers(Executor cpu) {
        this.cpu = cpu;
    }

    /** Large answers rendered on {@code cpu} (tests). */
    public static LargeAnswers on(Executor cpu) {
        return new LargeAnswers(cpu);
    }

    /** The batches of {@code state}'s trace (O(1)). */
    public static int batches(State state) {
        return state.collections().trace().batches().size();
    }

    /**
     * {@code stage}'s result rendered: by {@code large} on the CPU pool if it holds at least
     * {@value #OFF_LOOP_BATCHES} batches ({@code batches}), which can do more of the work there than rendering (such
     * as serializing the answer); else by {@code small} on the thread that completes {@code stage}. A failure of
     * {@code stage} or of the rendering fails the returned stage.
     */
    public <T, R> CompletionStage<R> render(CompletionStage<T> stage, ToIntFunction<T> batches, Function<T, R> small,
            Function<T, R> large) {
        return stage.thenCompose(result -> isLarge(batches.applyAsInt(result))
                ? CompletableFuture.supplyAsync(() -> large.apply(result), this::execute)
                : CompletableFuture.completedFuture(small.apply(result)));
    }

    /** Whether an answer of {@code batches} batches is rendered off the event loop. */
    public static boolean isLarge(int batches) {
        return batches >= OFF_LOOP_BATCHES;
    }

    /**
     * Runs {@code task} on the CPU pool (the answer of a large result: rendering, serializing and sending it), or on
     * the calling thread if the pool refuses it (it is closing at shutdown): a request still being answered then is
     * answered late rather than failed.
     */
    public void execute(Runnable task) {
        try {
            cpu.execute(task);
        } catch (RejectedExecutionException closing) {
            task.run();
        }
    }
}
