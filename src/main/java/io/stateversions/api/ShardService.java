package io.stateversions.api;

import io.stateversions.core.AppendResult;
import io.stateversions.core.ApplyMergeResult;
import io.stateversions.core.BecomeTombstoneResult;
import io.stateversions.core.Bytes;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.Codecs;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.CompareAndDowngradeResult;
import io.stateversions.core.CriticalReaderId;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HandleLimitException;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.InvalidUsageException;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.Reads;
import io.stateversions.core.RegisterCriticalResult;
import io.stateversions.core.RegisterSchemaResult;
import io.stateversions.core.RegisterWriterResult;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.SnapshotResult;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Transition;
import io.stateversions.core.WorkResult;
import io.stateversions.core.WriterId;
import io.stateversions.location.Consensus;
import io.stateversions.location.Determinate;
import io.stateversions.location.Failures;
import io.stateversions.location.Indeterminate;
import io.stateversions.location.Timeouts;
import io.stateversions.location.VersionedData;
import io.stateversions.machine.EncodedSize;
import io.stateversions.machine.GarbageCollector;
import io.stateversions.machine.MaintenanceConfig;
import io.stateversions.machine.LeakedBlobSweeper;
import io.stateversions.machine.MachineConfig;
import io.stateversions.machine.MachineOverloadedException;
import io.stateversions.machine.RollupWriter;
import io.stateversions.machine.Machines;
import io.stateversions.machine.ShardMachine;
import io.stateversions.machine.ShardNotFoundException;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.watch.TooManyWatchersException;
import io.stateversions.watch.WatchSink;
import io.stateversions.watch.Watcher;
import io.stateversions.watch.Watches;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * {@link ShardApi} over the per-shard {@link Machines}: validates what syntax cannot, runs each operation as a
 * command or a linearizable read of its shard's machine, and turns every outcome into a result or an
 * {@link ApiException}. Storage failures become {@code storage_unavailable} (determinate) or
 * {@code outcome_unknown} (indeterminate, or a mutation not finished within the request timeout).
 */
@ApplicationScoped
public class ShardService implements ShardApi {

    private static final Logger LOG = Logger.getLogger(ShardService.class);
    /** The longest codec name (api.md). */
    static final int MAX_CODEC_CHARS = 256;
    /** The longest purpose of a handle. */
    static final int MAX_PURPOSE_CHARS = 1024;
    /** The longest opaque codec name. */
    static final int MAX_OPAQUE_CODEC_CHARS = 256;

    private final Machines machines;
    private final StateVersions stateVersions;
    private final Consensus consensus;
    private final PersistConfig cfg;
    private final MachineConfig config;
    private final String hostname;

    private final GarbageCollector gc;
    private final RollupWriter rollups;
    private final LeakedBlobSweeper sweeper;
    private final Duration defaultLeakedBlobGrace;
    /** The least grace a leaked-blob sweep may be asked for. */
    private final Duration leakedBlobMinGrace;
    /** The shortest writer lease a client may ask for: the configured minimum, at least 3 request timeouts. */
    private final long writerLeaseMinMs;

    private final Watches watches;

    @Inject
    public ShardService(Machines machines, RollupWriter rollups, GarbageCollector gc, LeakedBlobSweeper sweeper,
            Consensus consensus, MachineConfig config, MaintenanceConfig maintenanceConfig, Watches watches) {
        this.watches = watches;
        this.machines = machines;
        this.rollups = rollups;
        this.gc = gc;
        this.sweeper = sweeper;
        this.defaultLeakedBlobGrace = maintenanceConfig.leakedBlobGrace();
        this.leakedBlobMinGrace = maintenanceConfig.leakedBlobMinGrace();
        if (leakedBlobMinGrace.isNegative() || defaultLeakedBlobGrace.compareTo(leakedBlobMinGrace) < 0) {
            throw new IllegalArgumentException("stateversions.maintenance.leaked-blob-grace (" + defaultLeakedBlobGrace
                    + ") must be at least stateversions.maintenance.leaked-blob-min-grace (" + leakedBlobMinGrace
                    + "), which must not be negative");
        }
        this.stateVersions = machines.stateVersions();
        this.consensus = consensus;
        this.cfg = stateVersions.cfg();
        this.writerLeaseMinMs = Math.max(cfg.writerLeaseMinMs(), 3 * config.requestTimeout().toMillis());
        if (cfg.writerLeaseDurationMs() < writerLeaseMinMs) {
            throw new IllegalArgumentException("stateversions.state.writer-lease-duration (" + cfg.writerLeaseDurationMs()
                    + " ms) is below the shortest writer lease allowed, " + writerLeaseMinMs + " ms (the larger of"
                    + " stateversions.state.writer-lease-min and 3 x stateversions.machine.request-timeout)");
        }
        this.config = config;
        this.hostname = machines.hostname();
    }

    // ----------------------------------------------------------------------------------------------- shards

    @Override
    public CompletionStage<Opened> openShard(ShardId shard, Codecs codecs) {
        return mutation(() -> {
            Codecs valid = new Codecs(
                    ApiParams.text("keyCodec", codecs.key(), MAX_CODEC_CHARS, false),
                    ApiParams.text("valCodec", codecs.val(), MAX_CODEC_CHARS, false),
                    ApiParams.text("tsCodec", codecs.ts(), MAX_CODEC_CHARS, false),
                    ApiParams.text("diffCodec", codecs.diff(), MAX_CODEC_CHARS, false));
            return machines.open(shard, valid).thenApply(o -> new Opened(o.created(), o.state()));
        });
    }

    @Override
    public CompletionStage<ShardPage> listShards(Optional<ShardId> after, int limit) {
        return read(() -> {
            int n = ApiParams.limit(limit);
            return consensus.listKeys(after.map(ShardId::toString).orElse(""), n + 1).thenApply(keys -> {
                List<ShardId> shards = new ArrayList<>();
                for (String key : keys.subList(0, Math.min(n, keys.size()))) {
                    try {
                        shards.add(ShardId.parse(key));
                    } catch (IllegalArgumentException e) {
                        LOG.debugf("Consensus key %s is not a shard id; not listed", key);
                    }
                }
                // More shards follow iff the key after the page is one: the only other key, the deployment
                // identity, sorts after every shard id (DeploymentIdentity), so no shard comes after it.
                Optional<ShardId> next = keys.size() > n && isShardId(keys.get(n)) && !shards.isEmpty()
                        ? Optional.of(shards.get(shards.size() - 1)) : Optional.empty();
                return new ShardPage(shards, next);
            });
        });
    }

    private static boolean isShardId(String key) {
        try {
            ShardId.parse(key);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    @Override
    public CompletionStage<State> getState(ShardId shard) {
        return readFor(request -> machines.submit(shard, request, 0, ShardMachine::read));
    }

    @Override
    public CompletionStage<Versions> listVersions(ShardId shard, Optional<SeqNo> from, int limit) {
        return read(() -> livePage(shard, from, limit, (entry, diff) ->
                new VersionInfo(entry.seqno(), diff.walltimeMs(), entry.data().length))
                .thenApply(page -> new Versions(page.range().earliest(), page.range().current(), page.items(),
                        page.next())));
    }

    @Override
    public CompletionStage<State> getVersion(ShardId shard, SeqNo seqno) {
        return readFor(request -> machines.submit(shard, request, 0, ShardMachine::read).thenCompose(current -> {
            if (seqno.isAfter(current.seqno())) {
                throw new ApiException(ErrorCode.VERSION_NOT_FOUND, "shard " + shard + " has no version " + seqno
                        + " yet; its current version is " + current.seqno(), Map.of("current", current.seqno().value()));
            }
            if (seqno.equals(current.seqno())) {
                return CompletableFuture.completedFuture(current);
            }
            // From the greatest rollup at or below seqno (the current state names them), not from earliest.
            return stateVersions.fetchVersion(shard, seqno, current.collections().rollups(), request)
                    .thenApply(read -> {
                        if (read instanceof StateVersions.VersionRead.Found found) {
                            return found.state();
                        }
                        if (read instanceof StateVersions.VersionRead.Truncated t) {
                            throw truncated(shard, seqno, t.earliest());
                        }
                        throw new ShardNotFoundException(shard);
                    });
        }));
    }

    private static ApiException truncated(ShardId shard, SeqNo seqno, SeqNo earliest) {
        return new ApiException(ErrorCode.VERSION_TRUNCATED, "version " + seqno + " of shard " + shard
                + " was garbage-collected; the earliest live version is " + earliest,
                Map.of("earliest", earliest.value()));
    }

    @Override
    public CompletionStage<Diffs> listDiffs(ShardId shard, Optional<SeqNo> from, int limit) {
        return read(() -> livePage(shard, from, limit, (entry, diff) -> DiffChanges.view(diff))
                .thenApply(page -> new Diffs(page.items(), page.next())));
    }

    /**
     * The most diff bytes a page of versions or diffs reads (but for its first entry); a page ends early there, with
     * {@code next} set.
     */
    static final long PAGE_BYTES = 8L << 20;

    /** One page of live versions, each decoded and rendered; {@code next} is the seqno after the page. */
    private record LivePage<T>(LiveRange range, List<T> items, Optional<SeqNo> next) {}

    /**
     * The live versions of a shard from {@code from} (default and floor: the earliest), {@code limit} of them, or
     * fewer if their diffs pass {@link #PAGE_BYTES} (at least one): a request of a few bytes must not make the
     * service read and render a thousand diffs of megabytes each.
     */
    private <T> CompletableFuture<LivePage<T>> livePage(ShardId shard, Optional<SeqNo> from, int limit,
            java.util.function.BiFunction<VersionedData, StateDiff, T> render) {
        int n = ApiParams.limit(limit);
        return liveRange(shard).thenCompose(range -> {
            SeqNo start = from.filter(f -> f.isAfter(range.earliest)).orElse(range.earliest);
            return stateVersions.scanWithin(shard, start, n + 1, PAGE_BYTES).thenApply(scan -> {
                List<VersionedData> entries = scan.entries();
                List<T> items = new ArrayList<>();
                for (VersionedData entry : entries.subList(0, Math.min(n, entries.size()))) {
                    items.add(render.apply(entry, stateVersions.codec().decodeDiff(shard, entry.data())));
                }
                Optional<SeqNo> next = entries.size() > n ? Optional.of(entries.get(n).seqno())
                        : scan.overBudget() ? Optional.of(entries.get(entries.size() - 1).seqno().next())
                        : Optional.empty();
                return new LivePage<>(range, items, next);
            });
        });
    }

    private record LiveRange(SeqNo earliest, SeqNo current) {}

    /** The earliest and the current version in Consensus; shard_not_found if there are none. */
    private CompletableFuture<LiveRange> liveRange(ShardId shard) {
        String key = shard.toString();
        return consensus.head(key).thenCombine(consensus.scan(key, SeqNo.MIN, 1), (head, first) -> {
            if (head.isEmpty() || first.isEmpty()) {
                throw new ShardNotFoundException(shard);
            }
            return new LiveRange(first.get(0).seqno(), head.get().seqno());
        }).toCompletableFuture();
    }

    @Override
    public CompletionStage<Watcher> watch(ShardId shard, Optional<SeqNo> after, WatchSink sink) {
        // The watcher is registered after the (time-limited) read, so a read that times out leaves none behind.
        return read(() -> machines.submit(shard, 0, ShardMachine::read)).thenApply(current -> {
            SeqNo from = after.orElse(current.seqno());
            if (from.isAfter(current.seqno())) {
                throw new ApiException(ErrorCode.VERSION_NOT_FOUND, "shard " + shard + " has no version " + from
                        + " yet; its current version is " + current.seqno(), Map.of("current",
                        current.seqno().value()));
            }
            try {
                return watches.watch(shard, from, current.seqno(), sink);
            } catch (TooManyWatchersException e) {
                throw new ApiException(ErrorCode.TOO_MANY_WATCHERS, e.getMessage());
            } catch (io.stateversions.watch.DrainingException e) {
                throw new ApiException(ErrorCode.WATCH_INTERRUPTED, e.getMessage(), Map.of("lastSeqno",
                        from.value()));
            }
        });
    }

    @Override
    public CompletionStage<NavigableMap<SeqNo, HollowRollup>> listRollups(ShardId shard) {
        return read(() -> machines.submit(shard, 0, ShardMachine::read)
                .thenApply(state -> state.collections().rollups()));
    }

    // --------------------------------------------------------------------------------------- leased readers

    @Override
    public CompletionStage<LeasedReaderRegistered> registerLeasedReader(ShardId shard,
            Optional<LeasedReaderId> readerId, String purpose, OptionalLong leaseDurationMs) {
        return mutation(() -> {
            HandleDebug debug = debug(purpose);
            long lease = leaseDurationMs.isPresent() ? ApiParams.leaseDurationMs(leaseDurationMs.getAsLong())
                    : cfg.readerLeaseDurationMs();
            LeasedReaderId id = readerId.orElseGet(LeasedReaderId::random);
            long now = nowMs();
            return apply(shard, Command.REGISTER, withUpper(Commands.withHandleLimit(cfg.maxHandles(), now,
                    Commands.registerLeasedReader(id, debug, lease, now))), applied -> {
                        if (!applied.committed()) {
                            throw tombstoned(shard);
                        }
                        requireReader(shard, id, applied, lease);
                        // The seqno the reader holds: the commit's own for a new reader, its registration's for one
                        // registered before (a repeated register leaves its hold where it was).
                        LeasedReaderState reader = applied.value().result().reader();
                        return new LeasedReaderRegistered(reader.seqno(), id, reader.since(),
                                applied.value().upper(), lease);
                    });
        });
    }

    @Override
    public CompletionStage<SeqNo> heartbeatLeasedReader(ShardId shard, LeasedReaderId reader) {
        return mutation(() -> apply(shard, Command.HEARTBEAT_READER, Commands.heartbeatLeasedReader(reader, nowMs()),
                applied -> {
                    if (!applied.value()) {
                        throw readerExpired(shard, reader.toString());
                    }
                    requireReader(shard, reader, applied, -1);
                    return applied.seqno();
                }));
    }

    @Override
    public CompletionStage<SinceDowngraded> downgradeSince(ShardId shard, LeasedReaderId reader, Frontier since,
            Optional<SeqNo> outstandingSeqno) {
        return mutation(() -> apply(shard, Command.DOWNGRADE_SINCE,
                Commands.downgradeSince(reader, outstandingSeqno, since, nowMs()), applied -> {
                    if (!applied.committed()) {
                        throw readerExpired(shard, reader.toString());
                    }
                    requireReader(shard, reader, applied, -1);
                    return new SinceDowngraded(applied.seqno(), applied.value());
                }));
    }

    @Override
    public CompletionStage<SeqNo> expireLeasedReader(ShardId shard, LeasedReaderId reader) {
        return mutation(() -> apply(shard, Command.EXPIRE_READER, Commands.expireLeasedReader(reader),
                ShardMachine.Applied::seqno));
    }

    // ------------------------------------------------------------------------------------- critical readers

    @Override
    public CompletionStage<CriticalReaderRegistered> registerCriticalReader(ShardId shard, CriticalReaderId reader,
            String purpose, String opaqueCodec, long initialOpaque) {
        return mutation(() -> {
            HandleDebug debug = debug(purpose);
            String codec = ApiParams.text("opaqueCodec", opaqueCodec, MAX_OPAQUE_CODEC_CHARS, false);
            return apply(shard, Command.REGISTER, Commands.withHandleLimit(cfg.maxHandles(), nowMs(),
                    Commands.registerCriticalReader(reader, debug, codec, initialOpaque)), applied -> {
                        RegisterCriticalResult result = applied.value();
                        if (result instanceof RegisterCriticalResult.Registered r) {
                            return new CriticalReaderRegistered(applied.seqno(), reader, r.state().since(),
                                    r.state().opaque(), r.state().opaqueCodec());
                        }
                        if (result instanceof RegisterCriticalResult.OpaqueCodecMismatch m) {
                            throw new ApiException(ErrorCode.OPAQUE_CODEC_MISMATCH, "critical reader " + reader
                                    + " of shard " + shard + " uses opaque codec \"" + m.actualCodec()
                                    + "\", not \"" + codec + "\"", Map.of("actualOpaqueCodec", m.actualCodec()));
                        }
                        throw tombstoned(shard);
                    });
        });
    }

    @Override
    public CompletionStage<CriticalDowngraded> compareAndDowngradeSince(ShardId shard, CriticalReaderId reader,
            long expectedOpaque, long newOpaque, Frontier since) {
        return mutation(() -> apply(shard, Command.COMPARE_AND_DOWNGRADE_SINCE,
                Commands.compareAndDowngradeSince(reader, expectedOpaque, newOpaque, since), applied -> {
                    CompareAndDowngradeResult result = applied.value();
                    if (result instanceof CompareAndDowngradeResult.Downgraded d) {
                        return new CriticalDowngraded(applied.seqno(), d.since(), d.opaque());
                    }
                    if (result instanceof CompareAndDowngradeResult.OpaqueMismatch m) {
                        throw new ApiException(ErrorCode.OPAQUE_MISMATCH, "critical reader " + reader + " of shard "
                                + shard + " holds opaque " + m.currentOpaque() + ", not the expected "
                                + expectedOpaque + "; nothing was changed (linearized at version " + applied.seqno()
                                + ")", Map.of("currentOpaque", m.currentOpaque(), "since", m.since(),
                                        "seqno", applied.seqno().value()));
                    }
                    throw readerExpired(shard, reader.toString());
                }));
    }

    @Override
    public CompletionStage<SeqNo> expireCriticalReader(ShardId shard, CriticalReaderId reader) {
        return mutation(() -> apply(shard, Command.EXPIRE_CRITICAL_READER, Commands.expireCriticalReader(reader),
                ShardMachine.Applied::seqno));
    }

    // -------------------------------------------------------------------------------------- writers, appends

    @Override
    public CompletionStage<WriterRegistered> registerWriter(ShardId shard, WriterId writer, String purpose,
            OptionalLong leaseDurationMs) {
        return mutation(() -> {
            HandleDebug debug = debug(purpose);
            long lease = writerLease(leaseDurationMs);
            long now = nowMs();
            return apply(shard, Command.REGISTER, withUpper(Commands.withHandleLimit(cfg.maxHandles(), now,
                    Commands.registerWriter(writer, debug, lease, now))), applied -> {
                        if (applied.value().result() instanceof RegisterWriterResult.Registered r) {
                            return new WriterRegistered(applied.seqno(), writer, applied.value().upper(),
                                    r.state().leaseDurationMs());
                        }
                        throw tombstoned(shard);
                    });
        });
    }

    @Override
    public CompletionStage<SeqNo> heartbeatWriter(ShardId shard, WriterId writer) {
        return mutation(() -> apply(shard, Command.HEARTBEAT_WRITER, Commands.heartbeatWriter(writer, nowMs()),
                applied -> {
                    if (!applied.value()) {
                        throw new ApiException(ErrorCode.WRITER_EXPIRED, "writer " + writer
                                + " is not registered at shard " + shard + " (expired or never registered)");
                    }
                    return applied.seqno();
                }));
    }

    @Override
    public CompletionStage<SeqNo> expireWriter(ShardId shard, WriterId writer) {
        return mutation(() -> apply(shard, Command.EXPIRE_WRITER, Commands.expireWriter(writer),
                ShardMachine.Applied::seqno));
    }

    /**
     * The lease a writer asks for, or the configured default. A lease shorter than {@link #writerLeaseMinMs} is
     * refused: it could lapse between an append and its retry, and the retry would then meet a fresh writer without
     * the append's token and be told "upper mismatch", as if it had not committed.
     */
    private long writerLease(OptionalLong leaseDurationMs) {
        if (leaseDurationMs.isEmpty()) {
            return cfg.writerLeaseDurationMs();
        }
        long lease = ApiParams.leaseDurationMs(leaseDurationMs.getAsLong());
        if (lease < writerLeaseMinMs) {
            throw new ApiException(ErrorCode.INVALID_REQUEST, "leaseDurationMs " + lease + " is below the shortest"
                    + " writer lease, " + writerLeaseMinMs + " ms: a writer's lease must outlive its appends' retries",
                    Map.of("minLeaseDurationMs", writerLeaseMinMs));
        }
        return lease;
    }

    @Override
    public CompletionStage<Appended> compareAndAppend(ShardId shard, WriterId writer, IdempotencyToken token,
            HollowBatch batch, OptionalLong leaseDurationMs) {
        return mutation(() -> {
            if (token.equals(IdempotencyToken.SENTINEL)) {
                throw ApiException.invalidRequest("idempotencyToken " + token + " is reserved; use a random one");
            }
            long lease = writerLease(leaseDurationMs);
            ApiParams.requireDistinctParts("batch", batch);
            long inline = batch.inlineBytes();
            if (inline >= cfg.inlineWritesTotalMaxBytes()) {
                throw ApiException.invalidRequest("the batch's inline parts hold " + inline
                        + " bytes, at or above the shard's cap of " + cfg.inlineWritesTotalMaxBytes()
                        + "; write them to blob storage and append their keys");
            }
            long now = nowMs();
            Transition.Work<AppendResult> work = Commands.withHandleLimit(cfg.maxHandles(), now,
                    Commands.compareAndAppend(batch, writer, token, new HandleDebug(hostname, ""), now, lease,
                            cfg.inlineWritesTotalMaxBytes()));
            long bytes = EncodedSize.of(batch);
            // One append per writer per transition: see ShardMachine ("Batching").
            return apply(shard, Command.COMPARE_AND_APPEND, withUpper(work), writer, bytes, applied -> {
                AppendResult result = applied.value().result();
                Frontier upper = applied.value().upper();
                if (result instanceof AppendResult.Appended a) {
                    return new Appended(applied.seqno(), upper, false, a.mergeRequests());
                }
                if (result instanceof AppendResult.AlreadyCommitted) {
                    // After our own indeterminate CaS it is this call's append that landed (spec §17.2).
                    return new Appended(applied.seqno(), upper, !applied.sawIndeterminate(), List.of());
                }
                if (result instanceof AppendResult.TokenReused) {
                    throw new ApiException(ErrorCode.IDEMPOTENCY_TOKEN_REUSED, "writer " + writer + " already used"
                            + " idempotency token " + token + " for a different batch of shard " + shard + "; every"
                            + " append needs a fresh token (only its retries repeat it). Nothing was changed",
                            Map.of("writerId", writer.toString(), "idempotencyToken", token.toString()));
                }
                if (result instanceof AppendResult.UpperMismatch m) {
                    if (applied.sawIndeterminate() && !m.writerUpper().lessThan(batch.desc().upper())) {
                        throw new ApiException(ErrorCode.OUTCOME_UNKNOWN, "an indeterminate storage failure hit"
                                + " this append to shard " + shard + ", and writer " + writer + " has since written"
                                + " up to " + m.writerUpper() + ": whether this append landed cannot be told");
                    }
                    throw new ApiException(ErrorCode.UPPER_MISMATCH, "append [" + batch.desc().lower() + ", "
                            + batch.desc().upper() + ") to shard " + shard + " expected upper "
                            + batch.desc().lower() + " but the shard's upper is " + m.shardUpper(),
                            Map.of("currentUpper", m.shardUpper(), "writerUpper", m.writerUpper(),
                                    "seqno", applied.seqno().value()));
                }
                if (result instanceof AppendResult.InvalidBounds b) {
                    throw new ApiException(ErrorCode.INVALID_BOUNDS, "append upper " + b.upper()
                            + " is below its lower " + b.lower(), Map.of("lower", b.lower(), "upper", b.upper()));
                }
                if (result instanceof AppendResult.InvalidEmptyTimeInterval e) {
                    throw new ApiException(ErrorCode.INVALID_EMPTY_TIME_INTERVAL, "append with lower == upper == "
                            + e.lower() + " has " + e.parts().size() + " parts; an empty interval holds no updates",
                            Map.of("lower", e.lower(), "upper", e.upper()));
                }
                throw new ApiException(ErrorCode.INLINE_BACKPRESSURE, "shard " + shard + " holds too many inline"
                        + " bytes to take " + inline + " more (cap " + cfg.inlineWritesTotalMaxBytes()
                        + "); write the parts to blob storage and append their keys");
            });
        });
    }

    @Override
    public CompletionStage<Snapshot> snapshot(ShardId shard, long asOf) {
        return read(() -> {
            long t = ApiParams.timestamp("asOf", asOf);
            return machines.submit(shard, 0, ShardMachine::read).thenApply(state -> {
                SnapshotResult result = Reads.snapshot(state, t);
                Map<String, Object> bounds = Map.of("since", state.since(), "upper", state.upper(),
                        "seqno", state.seqno().value());
                if (result instanceof SnapshotResult.Batches b) {
                    return new Snapshot(state.seqno(), t, state.since(), state.upper(), b.batches());
                }
                if (result instanceof SnapshotResult.AsOfBeforeSince) {
                    throw new ApiException(ErrorCode.AS_OF_BEFORE_SINCE, "as-of " + t + " is before shard " + shard
                            + "'s since " + state.since() + ": the history it needs is compacted away", bounds);
                }
                throw new ApiException(ErrorCode.AS_OF_NOT_AVAILABLE, "as-of " + t + " is not before shard "
                        + shard + "'s upper " + state.upper() + ": not written yet", bounds);
            });
        });
    }

    // -------------------------------------------------------------------------- compaction, schemas, lifecycle

    @Override
    public CompletionStage<List<FueledMergeReq>> listMergeRequests(ShardId shard) {
        return read(() -> machines.submit(shard, 0, ShardMachine::read)
                .thenApply(state -> state.collections().trace().mergeRequests()));
    }

    @Override
    public CompletionStage<MergeApplied> applyMergeRes(ShardId shard, String id, FueledMergeRes res) {
        return mutation(() -> {
            if (res.inputs().size() < 2) {
                throw ApiException.invalidRequest("a merge replaces at least 2 batches, got " + res.inputs().size());
            }
            long inputInline = 0;
            for (HollowBatch input : res.inputs()) {
                inputInline += input.inlineBytes();
            }
            if (res.output().inlineBytes() > inputInline) {
                // The inputs must be in the trace for the merge to apply, so this keeps a merge from raising the
                // shard's inline bytes, which appends are capped on (inline_writes_total_max_bytes).
                throw ApiException.invalidRequest("the merge output's inline parts hold " + res.output().inlineBytes()
                        + " bytes, more than its inputs' " + inputInline + "; write them to blob storage and name"
                        + " their keys");
            }
            ApiParams.requireDistinctParts("output", res.output());
            String expected = new FueledMergeReq(res.output().desc(), res.inputs()).id();
            if (!expected.equals(id)) {
                throw ApiException.invalidRequest("merge id \"" + id + "\" does not match its output's bounds (\""
                        + expected + "\")");
            }
            return apply(shard, Command.MERGE_RES, Commands.applyMergeRes(res), null, EncodedSize.of(res), applied -> {
                if (applied.value() != ApplyMergeResult.NOT_APPLIED_NO_MATCH || !applied.sawIndeterminate()) {
                    return new MergeApplied(applied.seqno(), applied.value());
                }
                // A compare-and-set of this very call failed indeterminately, and the re-run found the inputs gone:
                // perhaps because that attempt landed. "Not applied" would make the compactor delete an output
                // that state may refer to (spec §22.7: applied must be monotone across retries).
                if (applied.state().collections().trace().batchAt(res.output().desc())
                        .filter(res.output()::equals).isPresent()) {
                    return new MergeApplied(applied.seqno(), ApplyMergeResult.APPLIED_EXACT);
                }
                throw new ApiException(ErrorCode.OUTCOME_UNKNOWN, "an indeterminate storage failure hit this merge"
                        + " of shard " + shard + ", and its inputs are no longer in the trace: whether it applied"
                        + " cannot be told. Keep the output; the leaked-blob sweep deletes it if no state refers to it");
            });
        });
    }

    @Override
    public CompletionStage<SchemaRegistered> registerSchema(ShardId shard, Bytes keySchema, Bytes valSchema) {
        return mutation(() -> apply(shard, Command.REGISTER_SCHEMA,
                Commands.registerSchema(new EncodedSchemas(keySchema, Bytes.EMPTY, valSchema, Bytes.EMPTY)), null,
                (long) keySchema.size() + valSchema.size(), applied -> {
                    if (applied.value() instanceof RegisterSchemaResult.Registered r) {
                        return new SchemaRegistered(applied.seqno(), r.id());
                    }
                    throw tombstoned(shard);
                }));
    }

    @Override
    public CompletionStage<State> finalizeShard(ShardId shard) {
        return mutation(() -> machines.submit(shard, 0, machine ->
                machine.apply(Command.BECOME_TOMBSTONE, Commands.becomeTombstone()).thenApply(applied -> {
                    BecomeTombstoneResult result = applied.value();
                    if (result instanceof BecomeTombstoneResult.NotFinalizable n) {
                        throw new ApiException(ErrorCode.NOT_FINALIZABLE, "shard " + shard
                                + " can be finalized only once since and upper are both []; since is " + n.since()
                                + ", upper " + n.upper(), Map.of("since", n.since(), "upper", n.upper()));
                    }
                    return applied.state();
                })));
    }

    @Override
    public CompletionStage<RollupWritten> writeRollup(ShardId shard) {
        return mutation(() -> machines.get(shard).thenCompose(rollups::write)
                .thenApply(r -> new RollupWritten(r.seqno(), r.rollupKey())));
    }

    @Override
    public CompletionStage<GcRun> runGc(ShardId shard) {
        return mutation(() -> machines.get(shard).thenCompose(gc::runToSeqnoSince)
                .thenCompose(result -> liveRange(shard).handle((range, error) -> {
                    if (error != null) {
                        // The GC has run (deleted, truncated): a failure to read the range after it is no
                        // "certainly not done" (503), whatever its kind. A retry finds nothing left to do.
                        throw new Indeterminate("GC of shard " + shard + " ran, but reading its live range after it"
                                + " failed: " + Failures.unwrap(error).getMessage(),
                                Failures.unwrap(error));
                    }
                    return new GcRun(result.seqno(), range.earliest(), result.rollupsDeleted(),
                            result.partsDeleted());
                })));
    }

    @Override
    public CompletionStage<LeakedBlobsSwept> sweepLeakedBlobs(ShardId shard, OptionalLong graceMs) {
        return mutation(() -> {
            Duration grace = graceMs.isPresent() ? Duration.ofMillis(ApiParams.graceMs(graceMs.getAsLong()))
                    : defaultLeakedBlobGrace;
            if (grace.compareTo(leakedBlobMinGrace) < 0) {
                // The grace is all that keeps a part uploaded but not yet appended (or a compaction output not yet
                // merged) from being deleted: it must exceed every client's upload-to-link window.
                throw new ApiException(ErrorCode.INVALID_REQUEST, "graceMs " + grace.toMillis() + " is below the"
                        + " least grace of a leaked-blob sweep, " + leakedBlobMinGrace.toMillis() + " ms: a younger"
                        + " blob may be one a client has written and is about to link",
                        Map.of("minGraceMs", leakedBlobMinGrace.toMillis()));
            }
            long now = nowMs(); // before the sweep lists anything: an earlier "now" only keeps more
            return machines.get(shard).thenCompose(machine -> sweeper.sweep(machine, grace, now))
                    .thenApply(r -> new LeakedBlobsSwept(r.seqno(), r.listed(), r.referenced(), r.deleted(),
                            r.tooYoung()));
        });
    }

    // ------------------------------------------------------------------------------------------- plumbing

    private long nowMs() {
        return machines.nowMs();
    }

    private HandleDebug debug(String purpose) {
        return new HandleDebug(hostname, ApiParams.text("purpose", purpose, MAX_PURPOSE_CHARS, true));
    }

    /** Runs {@code work} on the shard's machine and maps the outcome (in the completing thread). */
    private <R, T> CompletableFuture<T> apply(ShardId shard, Command cmd, Transition.Work<R> work,
            Function<ShardMachine.Applied<R>, T> map) {
        return apply(shard, cmd, work, null, 0, map);
    }

    /**
     * As above, never in one transition with another command of the same {@code exclusiveKey} (null: none), and
     * counting {@code queuedBytes} against the replica's cap of queued bytes ({@link EncodedSize}) while queued or
     * waiting for the shard's machine to load ({@link Machines#submit}).
     */
    private <R, T> CompletableFuture<T> apply(ShardId shard, Command cmd, Transition.Work<R> work,
            Object exclusiveKey, long queuedBytes, Function<ShardMachine.Applied<R>, T> map) {
        return machines.submit(shard, queuedBytes, machine -> machine.apply(cmd, work, exclusiveKey, queuedBytes))
                .thenApply(map);
    }

    /** A result and the shard's upper as the command left it. */
    private record WithUpper<R>(R result, Frontier upper) {}

    private static <R> Transition.Work<WithUpper<R>> withUpper(Transition.Work<R> work) {
        return (seqno, c) -> {
            WorkResult<R> r = work.apply(seqno, c);
            WithUpper<R> value = new WithUpper<>(r.value(), c.trace().upper());
            return r instanceof WorkResult.Continue<R> ? WorkResult.proceed(value) : WorkResult.stop(value);
        };
    }

    private static ApiException tombstoned(ShardId shard) {
        return new ApiException(ErrorCode.SHARD_TOMBSTONED, "shard " + shard + " is finalized (a tombstone)");
    }

    /**
     * A reader's command answers success only if the reader is still registered in the state its commit made: the
     * commit also expires lapsed leases, at the time it is computed, so a reader whose lease is shorter than the time
     * its command waited (queued behind other commands, or retrying through a storage failure) is removed by the very
     * commit that registered or heartbeated it. Answering 200 then would make the client believe it holds a since and
     * a seqno hold that GC no longer respects.
     */
    private static void requireReader(ShardId shard, LeasedReaderId reader, ShardMachine.Applied<?> applied,
            long leaseMs) {
        if (!applied.state().collections().leasedReaders().containsKey(reader)) {
            throw new ApiException(ErrorCode.READER_EXPIRED, "reader " + reader + " of shard " + shard + " lapsed"
                    + " before its command committed at " + applied.seqno() + (leaseMs >= 0 ? " (its lease is "
                    + leaseMs + " ms, shorter than the command waited)" : "") + "; register again, with a longer"
                    + " lease if it was short");
        }
    }

    private static ApiException readerExpired(ShardId shard, String reader) {
        return new ApiException(ErrorCode.READER_EXPIRED, "reader " + reader + " is not registered at shard "
                + shard + " (expired or never registered)");
    }

    private <T> CompletionStage<T> mutation(Supplier<? extends CompletionStage<T>> call) {
        return run(true, request -> call.get());
    }

    private <T> CompletionStage<T> read(Supplier<? extends CompletionStage<T>> call) {
        return run(false, request -> call.get());
    }

    /**
     * A read given its request's future, which is done once the caller has its answer or timed out: passed to
     * {@link Machines#get(ShardId, Future)} and the fetches of {@link StateVersions}, it stops their refetching of a
     * missing rollup for a caller that no longer waits. Work shared with other callers (a machine's batch and its
     * refresh) does not take it, and ends at its own bound.
     */
    private <T> CompletionStage<T> readFor(Function<Future<?>, ? extends CompletionStage<T>> call) {
        return run(false, call);
    }

    private <T> CompletionStage<T> run(boolean mutation, Function<Future<?>, ? extends CompletionStage<T>> call) {
        long timeoutMs = config.requestTimeout().toMillis();
        // On the shared wheel, not orTimeout: see Timeouts (no thread is woken per request).
        CompletableFuture<T> request = Timeouts.SHARED.orTimeout(new CompletableFuture<>(), timeoutMs,
                TimeUnit.MILLISECONDS);
        try {
            call.apply(request).whenComplete((value, error) -> {
                if (error == null) {
                    request.complete(value);
                } else {
                    request.completeExceptionally(error);
                }
            });
        } catch (RuntimeException e) {
            request.completeExceptionally(e);
        }
        return request
                .handle((value, error) -> {
                    if (error == null) {
                        return value;
                    }
                    throw toApi(Failures.unwrap(error), mutation, timeoutMs);
                });
    }

    /** The one place where failures become API errors. */
    static ApiException toApi(Throwable error, boolean mutation, long timeoutMs) {
        if (error instanceof ApiException api) {
            return api;
        }
        if (error instanceof ShardNotFoundException nf) {
            return new ApiException(ErrorCode.SHARD_NOT_FOUND, "shard " + nf.shard()
                    + " is not initialized; open it with PUT /v1/shards/" + nf.shard());
        }
        if (error instanceof InvalidUsageException usage) {
            return ApiException.invalidRequest(usage.getMessage());
        }
        if (error instanceof HandleLimitException limit) {
            return new ApiException(ErrorCode.TOO_MANY_HANDLES, "the shard holds " + limit.getMessage()
                    + "; expire the readers and writers it no longer needs, or wait for their leases to lapse",
                    Map.of("handles", limit.handles(), "maxHandles", limit.maxHandles()));
        }
        if (error instanceof CodecMismatchException cm) {
            return new ApiException(ErrorCode.CODEC_MISMATCH, cm.getMessage(), Map.of("actual", cm.actual()));
        }
        if (error instanceof MachineOverloadedException) {
            return new ApiException(ErrorCode.STORAGE_UNAVAILABLE, error.getMessage() + "; retry later");
        }
        if (error instanceof Determinate) {
            return new ApiException(ErrorCode.STORAGE_UNAVAILABLE, "storage failed, and the operation certainly"
                    + " did not happen: " + error.getMessage(), Map.of(), error);
        }
        if (error instanceof Indeterminate) {
            return new ApiException(ErrorCode.OUTCOME_UNKNOWN, "storage failed, and the operation may or may not"
                    + " have happened; retrying with the same ids and idempotency token is safe: "
                    + error.getMessage(), Map.of(), error);
        }
        if (error instanceof TimeoutException) {
            return mutation
                    ? new ApiException(ErrorCode.OUTCOME_UNKNOWN, "the operation did not finish within " + timeoutMs
                            + " ms (storage is slow or unavailable); it may still happen. Retrying with the same ids"
                            + " and idempotency token is safe")
                    : new ApiException(ErrorCode.STORAGE_UNAVAILABLE, "the read did not finish within " + timeoutMs
                            + " ms: storage is slow or unavailable");
        }
        return ApiException.internal(error);
    }
}
