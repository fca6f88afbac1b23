package io.stateversions.machine;

import io.stateversions.core.GcReq;
import io.stateversions.core.RoutineMaintenance;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.Transition;
import io.stateversions.location.Failures;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * Performs the routine maintenance that committing transitions assign (spec §13), server-side and off the hot
 * path: the commit that assigns a rollup or a GC returns at once, and the work runs afterwards in this shard's
 * worker. Per shard there is at most one rollup write and one GC in flight; requests that arrive meanwhile are
 * coalesced (the largest GC seqno wins) and run next. Maintenance commits ({@code add_rollup},
 * {@code remove_rollups}) are themselves transitions, so any follow-up work they assign comes back here.
 *
 * <p>Correctness never depends on maintenance running: assignments are recorded in state, every step is
 * idempotent, and a lost request is assigned again by a later commit.
 */
public final class Maintenance implements ShardMachine.CommitListener {

    private static final Logger LOG = Logger.getLogger(Maintenance.class);

    private final RollupWriter rollups;
    private final GarbageCollector gc;
    private final Executor executor;
    private final MachineMetrics metrics;
    private final ConcurrentHashMap<ShardId, ShardWork> shards = new ConcurrentHashMap<>();

    public Maintenance(RollupWriter rollups, GarbageCollector gc, Executor executor) {
        this(rollups, gc, executor, MachineMetrics.NONE);
    }

    public Maintenance(RollupWriter rollups, GarbageCollector gc, Executor executor, MachineMetrics metrics) {
        this.metrics = metrics;
        this.rollups = rollups;
        this.gc = gc;
        this.executor = executor;
    }

    @Override
    public void committed(ShardMachine machine, Transition.Committable<Void> commit, int commands) {
        RoutineMaintenance m = commit.maintenance();
        Optional<GcReq> gcRequest = m.garbageCollection();
        if (gcRequest.isPresent()
                && GarbageCollector.nothingToCollect(commit.state(), gcRequest.get().newSeqnoSince())) {
            // What the GC would answer at once (most assigned GCs): counted as its no-op, without a task for it.
            metrics.gc("noop", 0, 0, 0, 0);
            gcRequest = Optional.empty();
        }
        if (m.writeRollup().isEmpty() && gcRequest.isEmpty()) {
            return;
        }
        ShardWork work = shards.computeIfAbsent(machine.shard(), shard -> new ShardWork(machine));
        m.writeRollup().ifPresent(ignored -> work.rollup.request(SeqNo.MIN));
        gcRequest.ifPresent(req -> work.gc.request(req.newSeqnoSince()));
    }

    /**
     * Completes when the shard's maintenance is done: what is in flight and queued now, and the follow-up work that
     * it assigns (a GC's {@code remove_rollups} may assign a rollup, a rollup's {@code add_rollup} a GC), until
     * both workers are idle at once. For tests and shutdown; commits by others meanwhile may assign more.
     */
    public CompletableFuture<Void> idle(ShardId shard) {
        ShardWork work = shards.get(shard);
        return work == null ? CompletableFuture.completedFuture(null) : work.idle();
    }

    private final class ShardWork {
        final Worker rollup;
        final Worker gc;
        // Workers running. A follow-up is requested by a commit inside the running task, so its worker starts
        // before the requesting one stops: the count reaches 0 only when the shard is really quiescent.
        private int running;
        private CompletableFuture<Void> idle = CompletableFuture.completedFuture(null);

        ShardWork(ShardMachine machine) {
            this.rollup = new Worker(this, machine.shard(), "rollup",
                    ignored -> rollups.write(machine).thenApply(r -> null));
            this.gc = new Worker(this, machine.shard(), "gc", seqno -> Maintenance.this.gc.run(machine, seqno)
                    .thenApply(r -> null));
        }

        synchronized CompletableFuture<Void> idle() {
            return idle;
        }

        synchronized void started() {
            if (running++ == 0) {
                idle = new CompletableFuture<>();
            }
        }

        void stopped() {
            CompletableFuture<Void> done = null;
            synchronized (this) {
                if (--running == 0) {
                    done = idle;
                }
            }
            if (done != null) {
                done.complete(null);
            }
        }
    }

    /** One kind of maintenance of one shard: at most one run in flight, requests coalesced to the largest seqno. */
    private final class Worker {
        private final ShardWork work;
        private final ShardId shard;
        private final String kind;
        private final java.util.function.Function<SeqNo, CompletableFuture<Void>> task;
        private SeqNo pending;
        private boolean running;

        Worker(ShardWork work, ShardId shard, String kind,
                java.util.function.Function<SeqNo, CompletableFuture<Void>> task) {
            this.work = work;
            this.shard = shard;
            this.kind = kind;
            this.task = task;
        }

        synchronized void request(SeqNo seqno) {
            if (pending != null && kind.equals("gc")) {
                metrics.gcCoalesced();
            }
            pending = pending == null || seqno.isAfter(pending) ? seqno : pending;
            if (!running) {
                running = true;
                work.started();
                executor.execute(this::runNext);
            }
        }

        private void runNext() {
            SeqNo seqno;
            synchronized (this) {
                seqno = pending;
                pending = null;
            }
            run(() -> task.apply(seqno)).whenComplete((ignored, error) -> {
                if (error != null) {
                    LOG.warnf("%s of shard %s failed (a later commit assigns it again): %s", kind, shard,
                            Failures.unwrap(error).toString());
                }
                boolean stopped = false;
                synchronized (this) {
                    if (pending != null) {
                        executor.execute(this::runNext);
                    } else {
                        running = false;
                        stopped = true;
                    }
                }
                if (stopped) {
                    work.stopped();
                }
            });
        }

        private CompletableFuture<Void> run(Supplier<CompletableFuture<Void>> body) {
            try {
                return body.get();
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }
}
