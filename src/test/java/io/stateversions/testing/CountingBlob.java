package io.stateversions.testing;

import io.stateversions.location.Blob;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;

/** A {@link Blob} that counts its gets: to see how many rollups a read fetched, or that a loop reading it stopped. */
public final class CountingBlob extends ForwardingBlob {

    private final AtomicInteger gets = new AtomicInteger();

    public CountingBlob(Blob delegate) {
        super(delegate);
    }

    @Override
    public CompletionStage<Optional<byte[]>> get(String key) {
        gets.incrementAndGet();
        return super.get(key);
    }

    /** The gets made through this blob so far. */
    public int gets() {
        return gets.get();
    }

    /** Fails unless no get is made through this blob for half a second: nothing reads it in the background. */
    public void assertGetsStopped() {
        int before = gets.get();
        Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
                .until(() -> gets.get() == before);
    }
}
