package io.stateversions.location;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;

/**
 * What the contract tests of {@link Consensus} and {@link Blob} share: clients opened by a test are closed after it,
 * last opened first, and stages are awaited with a bound, their failure rethrown as a {@link CompletionException}
 * around the backend's own exception.
 */
abstract class LocationContractTest<T extends AutoCloseable> {

    static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final List<T> opened = new ArrayList<>();

    /** Registers a client to close after the test; returns it. */
    protected T track(T client) {
        opened.add(client);
        return client;
    }

    @AfterEach
    void closeOpened() throws Exception {
        Collections.reverse(opened);
        for (T client : opened) {
            client.close();
        }
        opened.clear();
    }

    protected static <V> V await(CompletionStage<V> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
