package io.stateversions.testing;

import io.stateversions.location.Determinate;
import io.stateversions.location.Indeterminate;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Seeded fault injection for storage calls, shared by {@link ChaosBlob} and {@link ChaosConsensus}. Each call has
 * an {@link Op} kind and a key, and can be made to:
 * <ul>
 *   <li>fail with {@link Determinate} without reaching storage (it certainly had no effect);</li>
 *   <li>reach storage, and then fail with {@link Indeterminate} (the effect happened, the reply was lost);</li>
 *   <li>hang: return a stage that never completes, as if the process died during the call, either before the call
 *       reached storage ({@link When#BEFORE}) or after storage performed it ({@link When#AFTER}).</li>
 * </ul>
 *
 * <p><b>Random faults</b> follow per-kind {@link Odds}, drawn from one {@code java.util.Random} per kind, seeded
 * from {@link #seed}: the n-th call of a kind always gets the same decision. Which call is the n-th can still
 * depend on thread scheduling, so a replay with the same seed repeats the faults, not necessarily the interleaving.
 * The seed is printed when the chaos is created and is part of {@link #toString}, for assertion messages; replay
 * with {@code -Dchaos.seed=<seed>}. Random faults are off until {@link #enable}.
 *
 * <p><b>Traps</b> are deterministic: {@link #hang} and {@link #trap} hang (or hold until a gate opens) the n-th call
 * of a kind whose key matches, and {@link #loseReply} lets it take effect and fails it indeterminately once a gate
 * opens; calls are counted from the moment the trap is set, whether random faults are on or not.
 */
public final class Chaos {

    /** The kinds of storage call. */
    public enum Op {
        BLOB_GET, BLOB_SET, BLOB_DELETE, BLOB_LIST, BLOB_RESTORE,
        CONSENSUS_HEAD, CONSENSUS_CAS, CONSENSUS_SCAN, CONSENSUS_TRUNCATE, CONSENSUS_LIST_KEYS
    }

    /** Where a hanging call stops: before storage saw it, or after storage performed it. */
    public enum When { BEFORE, AFTER }

    /** The probabilities of each fault for one kind of call; they must sum to at most 1. */
    public record Odds(double determinate, double indeterminate, double hang) {

        public static final Odds NONE = new Odds(0, 0, 0);

        public Odds {
            if (determinate < 0 || indeterminate < 0 || hang < 0 || determinate + indeterminate + hang > 1) {
                throw new IllegalArgumentException("invalid odds " + determinate + "/" + indeterminate + "/" + hang);
            }
        }
    }

    /** The system property that replays a seed. */
    public static final String SEED_PROPERTY = "chaos.seed";

    /** {@code -Dchaos.seed} if given, else {@code defaultSeed}. */
    public static long seed(long defaultSeed) {
        String property = System.getProperty(SEED_PROPERTY);
        return property == null || property.isBlank() ? defaultSeed : Long.parseLong(property.trim());
    }

    private final long seed;
    private final String name;
    private final Map<Op, Random> randoms = new EnumMap<>(Op.class);
    private final Map<Op, Odds> odds = new EnumMap<>(Op.class);
    private final Map<Op, AtomicLong> calls = new EnumMap<>(Op.class);
    private final AtomicLong determinate = new AtomicLong();
    private final AtomicLong indeterminate = new AtomicLong();
    private final AtomicLong hangs = new AtomicLong();
    private final List<Trap> traps = new ArrayList<>();
    private volatile boolean enabled;
    private volatile boolean dead;
    private final java.util.concurrent.atomic.AtomicInteger inFlight = new java.util.concurrent.atomic.AtomicInteger();
    private final CompletableFuture<Void> drained = new CompletableFuture<>();

    public Chaos(String name, long seed) {
        this.name = Objects.requireNonNull(name, "name");
        this.seed = seed;
        for (Op op : Op.values()) {
            randoms.put(op, new Random(seed * 31 + op.ordinal()));
            odds.put(op, Odds.NONE);
            calls.put(op, new AtomicLong());
        }
        System.out.println("chaos " + name + ": seed " + seed + " (replay with -D" + SEED_PROPERTY + "=" + seed + ")");
    }

    public long seed() {
        return seed;
    }

    /** Sets the odds of {@code op}. */
    public synchronized Chaos odds(Op op, Odds value) {
        odds.put(op, Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Sets the odds of every kind. */
    public synchronized Chaos oddsForAll(Odds value) {
        for (Op op : Op.values()) {
            odds(op, value);
        }
        return this;
    }

    /** Turns random faults on. */
    public Chaos enable() {
        enabled = true;
        return this;
    }

    /** Turns random faults off; traps stay set. Calls already hanging keep hanging. */
    public Chaos disable() {
        enabled = false;
        return this;
    }

    /**
     * Kills the process that makes these calls: every later call hangs before it reaches storage. Calls that already
     * reached storage still take effect, as a dead process's last requests may; the returned stage completes once
     * they all have, after which this process changes nothing more.
     */
    public CompletableFuture<Void> kill() {
        dead = true;
        checkDrained();
        return drained;
    }

    private void checkDrained() {
        if (dead && inFlight.get() == 0) {
            drained.complete(null);
        }
    }

    /** A deterministic fault: the n-th matching call after the trap was set hangs, or waits for a gate. */
    public final class Trap {
        private final Op op;
        private final Predicate<String> keys;
        private final String description;
        private final When when;
        private final Supplier<CompletionStage<?>> gate;
        private final long nth;
        private final boolean loseReply;
        private final AtomicLong seen = new AtomicLong();
        private final CompletableFuture<String> reached = new CompletableFuture<>();

        private Trap(Op op, Predicate<String> keys, String description, long nth, When when,
                Supplier<CompletionStage<?>> gate, boolean loseReply) {
            this.op = op;
            this.loseReply = loseReply;
            this.keys = keys;
            this.description = description;
            this.nth = nth;
            this.when = when;
            this.gate = gate;
        }

        /**
         * Completes with the trapped call's key when it is caught: as the call arrives ({@link When#BEFORE}) or
         * once storage has performed it ({@link When#AFTER}).
         */
        public CompletableFuture<String> reached() {
            return reached;
        }

        /** Whether it caught its call. */
        public boolean fired() {
            return reached.isDone();
        }

        private boolean matches(Op call, String key) {
            return call == op && keys.test(key) && seen.incrementAndGet() == nth;
        }

        @Override
        public String toString() {
            return "trap(" + when + " call " + nth + " of " + op + " on " + description
                    + (loseReply ? ", reply lost" : "") + ")";
        }
    }

    /**
     * Hangs forever the {@code nth} (from 1) call of {@code op} whose key matches {@code keys}, counted from now:
     * the call is never answered, like a process killed during it.
     */
    public Trap hang(Op op, Predicate<String> keys, String description, long nth, When when) {
        return trap(op, keys, description, nth, when, CompletableFuture::new);
    }

    /**
     * Holds the {@code nth} matching call until {@code gate} completes, then lets it go on (a slow process rather
     * than a dead one).
     */
    public synchronized Trap trap(Op op, Predicate<String> keys, String description, long nth, When when,
            Supplier<CompletionStage<?>> gate) {
        return addTrap(new Trap(op, keys, description, nth, when, gate, false));
    }

    /**
     * Lets the {@code nth} matching call take effect, holds its reply until {@code gate} completes, and then fails
     * it with {@link Indeterminate}: a reply lost after a long delay, during which others may act.
     */
    public Trap loseReply(Op op, Predicate<String> keys, String description, long nth,
            Supplier<CompletionStage<?>> gate) {
        return addTrap(new Trap(op, keys, description, nth, When.AFTER, gate, true));
    }

    private synchronized Trap addTrap(Trap trap) {
        if (trap.nth < 1) {
            throw new IllegalArgumentException("nth counts from 1, got " + trap.nth);
        }
        traps.add(trap);
        return trap;
    }

    private synchronized Trap springTrap(Op op, String key) {
        for (int i = 0; i < traps.size(); i++) {
            if (traps.get(i).matches(op, key)) {
                return traps.remove(i);
            }
        }
        return null;
    }

    /** The fault a call gets. */
    private enum Fault { NONE, DETERMINATE, INDETERMINATE, HANG_BEFORE, HANG_AFTER }

    private Fault draw(Op op) {
        calls.get(op).incrementAndGet();
        if (!enabled) {
            return Fault.NONE;
        }
        Odds o;
        double p;
        boolean before;
        Random random = randoms.get(op);
        synchronized (random) {
            synchronized (this) {
                o = odds.get(op);
            }
            p = random.nextDouble();
            before = random.nextBoolean();
        }
        if (p < o.determinate()) {
            return Fault.DETERMINATE;
        }
        if (p < o.determinate() + o.indeterminate()) {
            return Fault.INDETERMINATE;
        }
        if (p < o.determinate() + o.indeterminate() + o.hang()) {
            return before ? Fault.HANG_BEFORE : Fault.HANG_AFTER;
        }
        return Fault.NONE;
    }

    /**
     * Runs one storage call of kind {@code op} on {@code key}, with whatever fault a trap or the dice decide.
     * Never throws: every failure is reported through the returned stage.
     */
    public <T> CompletionStage<T> call(Op op, String key, Supplier<? extends CompletionStage<T>> operation) {
        if (dead) {
            calls.get(op).incrementAndGet();
            return new CompletableFuture<>();
        }
        Trap trap = springTrap(op, key);
        if (trap != null) {
            return sprung(trap, key, operation);
        }
        return switch (draw(op)) {
            case NONE -> run(operation);
            case DETERMINATE -> {
                determinate.incrementAndGet();
                yield CompletableFuture.failedFuture(new Determinate(
                        "chaos " + name + " (seed " + seed + "): injected determinate failure of " + op + " " + key));
            }
            case INDETERMINATE -> {
                indeterminate.incrementAndGet();
                // Storage performs the call, whatever its outcome; the caller only learns that it may have.
                yield run(operation).handle((value, error) -> null).thenCompose(ignored ->
                        CompletableFuture.<T>failedFuture(new Indeterminate("chaos " + name + " (seed " + seed
                                + "): injected indeterminate failure of " + op + " " + key + " after it ran")));
            }
            case HANG_BEFORE -> {
                hangs.incrementAndGet();
                yield new CompletableFuture<>();
            }
            case HANG_AFTER -> {
                hangs.incrementAndGet();
                yield run(operation).handle((value, error) -> null)
                        .thenCompose(ignored -> new CompletableFuture<T>());
            }
        };
    }

    private <T> CompletionStage<T> sprung(Trap trap, String key, Supplier<? extends CompletionStage<T>> operation) {
        if (trap.when == When.BEFORE) {
            trap.reached.complete(key);
            return trap.gate.get().thenCompose(ignored -> run(operation));
        }
        CompletableFuture<T> performed = run(operation);
        return performed.handle((value, error) -> null).thenCompose(ignored -> {
            trap.reached.complete(key);
            return trap.gate.get();
        }).thenCompose(ignored -> trap.loseReply
                ? CompletableFuture.<T>failedFuture(new Indeterminate("chaos " + name + " (seed " + seed + "): the reply"
                        + " of " + trap.op + " " + key + " was lost after it ran"))
                : performed);
    }

    /** Sends a call to storage, counting it in flight until storage answers; a dead process sends nothing. */
    private <T> CompletableFuture<T> run(Supplier<? extends CompletionStage<T>> operation) {
        // Counted before the check, so that kill() either waits for this call or this call sees the kill.
        inFlight.incrementAndGet();
        if (dead) {
            inFlight.decrementAndGet();
            checkDrained();
            return new CompletableFuture<>();
        }
        CompletableFuture<T> sent;
        try {
            sent = operation.get().toCompletableFuture();
        } catch (RuntimeException e) {
            sent = CompletableFuture.failedFuture(e);
        }
        return sent.whenComplete((value, error) -> {
            inFlight.decrementAndGet();
            checkDrained();
        });
    }

    /** The number of calls of {@code op} so far. */
    public long calls(Op op) {
        return calls.get(op).get();
    }

    @Override
    public String toString() {
        return "chaos " + name + " (seed " + seed + ", replay with -D" + SEED_PROPERTY + "=" + seed
                + (dead ? "; killed" : "") + "; injected "
                + determinate.get() + " determinate, " + indeterminate.get() + " indeterminate, " + hangs.get()
                + " hangs)";
    }
}
