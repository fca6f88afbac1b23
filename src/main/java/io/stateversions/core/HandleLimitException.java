package io.stateversions.core;

/**
 * A command would leave its shard holding more live handles than {@link PersistConfig#maxHandles}. The command
 * changes nothing; the API answers {@code 429 too_many_handles}. It is the client's to resolve (expire the handles it
 * no longer uses, or let their leases lapse), not a failure of storage.
 */
public final class HandleLimitException extends RuntimeException {

    private final int handles;
    private final int maxHandles;

    public HandleLimitException(int handles, int maxHandles) {
        super(handles + " live handles (leased readers, critical readers and writers), at most " + maxHandles
                + " per shard");
        this.handles = handles;
        this.maxHandles = maxHandles;
    }

    /** The live handles the shard holds already. */
    public int handles() {
        return handles;
    }

    public int maxHandles() {
        return maxHandles;
    }
}
