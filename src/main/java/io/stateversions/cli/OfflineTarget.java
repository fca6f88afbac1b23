package io.stateversions.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.stateversions.api.ApiException;
import io.stateversions.api.ApiParams;
import io.stateversions.api.ShardApi;
import io.stateversions.api.ShardService;
import io.stateversions.api.rest.Views;
import io.stateversions.config.BuildInfo;
import io.stateversions.config.StorageUrls;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.Failures;
import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.location.s3.S3Clients;
import io.stateversions.machine.GarbageCollector;
import io.stateversions.machine.LeakedBlobSweeper;
import io.stateversions.machine.MachineConfig;
import io.stateversions.machine.MachineSettings;
import io.stateversions.machine.Machines;
import io.stateversions.machine.MaintenanceConfig;
import io.stateversions.machine.MaintenanceSettings;
import io.stateversions.machine.RollupWriter;
import io.stateversions.machine.ShardMachine;
import io.stateversions.stateversions.BlobInventory;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.stateversions.ShardInvariants;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.WatchMetrics;
import io.stateversions.watch.Watches;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Storage itself, for when the service is down: Consensus and Blob opened from their URLs by the service's own
 * mapping ({@link StorageUrls}), without Quarkus (a plain Vert.x instance runs the PostgreSQL pool), and read through
 * the service's own layers: a {@link ShardService} for the API's reads, {@link BlobInventory} and
 * {@link ShardInvariants} over a {@link StateVersions}. It only reads: no command is ever sent to a machine, so
 * nothing is committed and nothing is deleted (maintenance is online only, where one service decides it).
 */
final class OfflineTarget implements Target {

    /** How long one read may take: storage that does not answer by then is reported as down. */
    private static final long TIMEOUT_S = 30;

    private final Vertx vertx;
    private final Consensus consensus;
    private final Blob blob;
    private final StateVersions stateVersions;
    private final ShardApi api;
    private final String where;

    OfflineTarget(String consensusUrl, String blobUrl) {
        for (String url : new String[] {consensusUrl, blobUrl}) {
            if (url.startsWith("mem:")) {
                throw new CliException("an in-memory store (" + url + ") lives in the process that made it; offline"
                        + " mode reads durable storage: a postgres:// consensus and an s3:// or file:// blob store", 2);
            }
        }
        this.vertx = Vertx.vertx();
        try {
            this.consensus = StorageUrls.consensus(consensusUrl, vertx, new PostgresPools.Settings(2,
                    Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofSeconds(10), Duration.ofSeconds(60),
                    PostgresConsensus.GroupCommit.DEFAULTS), () -> {}).store();
            this.blob = StorageUrls.blob(blobUrl, new S3Clients.Timeouts(Duration.ofSeconds(180),
                    Duration.ofSeconds(90), Duration.ofSeconds(7), Duration.ofSeconds(30)), 4, () -> {
                        throw new CliException("blob URL " + io.stateversions.location.UrlQuery.redact(blobUrl)
                                + " names no endpoint, region or credentials; offline mode builds its own S3 client"
                                + " from the URL: add ?region=… (and endpoint=…, access-key:secret-key@)", 2);
                    }).store();
        } catch (IllegalArgumentException e) {
            vertx.close();
            throw new CliException(e.getMessage(), 2);
        }
        this.where = "offline: consensus " + io.stateversions.location.UrlQuery.redact(consensusUrl) + ", blob "
                + io.stateversions.location.UrlQuery.redact(blobUrl);
        PersistConfig cfg = PersistConfig.defaults(BuildInfo.VERSION);
        Retries retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, Retries.Listener.NONE);
        this.stateVersions = new StateVersions(cfg, consensus, blob, retries, StateVersionsMetrics.NONE,
                System::currentTimeMillis, "state-versions-cli");
        // Offline mode sends no command to a machine: one read of one shard at a time.
        MachineConfig machine = MachineSettings.DEFAULTS.withMaxBatchSize(1).withMaxQueuedCommands(1)
                .withIndeterminateRetries(0, 0).withRequestTimeout(Duration.ofSeconds(TIMEOUT_S))
                .withCache(16, Duration.ofMinutes(10));
        Machines machines = new Machines(stateVersions, machine, System::currentTimeMillis, "state-versions-cli",
                ShardMachine.CommitListener.NONE);
        Watches watches = new Watches(stateVersions, consensus, CommitBus.NONE, new Watches.Settings(
                Duration.ofSeconds(5), Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofSeconds(15), 1),
                System::nanoTime, WatchMetrics.NONE);
        this.api = new ShardService(machines, new RollupWriter(stateVersions), new GarbageCollector(stateVersions, 1),
                new LeakedBlobSweeper(stateVersions, 1), consensus, machine, MAINTENANCE, watches);
    }

    @Override
    public JsonNode shards(Optional<String> after, int limit) {
        Optional<ShardId> from = after.map(ApiParams::shardId);
        return tree(Views.ShardPage.of(join(api.listShards(from, limit))));
    }

    @Override
    public JsonNode state(String shard) {
        var state = join(api.getState(ApiParams.shardId(shard)));
        return tree(Views.ShardState.of(state, ShardApi.earliestSeqno(state)));
    }

    @Override
    public JsonNode versions(String shard, OptionalLong from, int limit) {
        Optional<SeqNo> start = from.isPresent() ? Optional.of(ApiParams.seqno("from", from.getAsLong()))
                : Optional.empty();
        return tree(Views.VersionsPage.of(join(api.listVersions(ApiParams.shardId(shard), start, limit))));
    }

    @Override
    public JsonNode diff(String shard, long seqno) {
        ShardId id = ApiParams.shardId(shard);
        ShardApi.Diffs diffs = join(api.listDiffs(id, Optional.of(ApiParams.seqno("seqno", seqno)), 1));
        if (diffs.diffs().size() == 1 && diffs.diffs().get(0).seqnoTo().value() == seqno) {
            return tree(Views.DiffView.of(diffs.diffs().get(0)));
        }
        ShardApi.Versions versions = join(api.listVersions(id, Optional.empty(), 1));
        throw Commands.noSuchVersion(shard, seqno, versions.earliest().value(), versions.current().value());
    }

    @Override
    public JsonNode rollups(String shard) {
        return tree(new Views.RollupsList(Views.rollups(join(api.listRollups(ApiParams.shardId(shard))))));
    }

    @Override
    public JsonNode blobs(String shard) {
        ShardId id = ApiParams.shardId(shard);
        join(api.getState(id)); // shard_not_found first, as online
        return tree(Views.BlobsView.of(join(BlobInventory.take(stateVersions, id)).orElseThrow(() ->
                new CliException("shard " + id + " has no versions"))));
    }

    @Override
    public JsonNode check(String shard) {
        ShardId id = ApiParams.shardId(shard);
        try {
            return tree(Views.CheckView.of(ShardInvariants.check(id, consensus, blob, stateVersions.cfg(), where)));
        } catch (ShardInvariants.Violation e) {
            return tree(Views.CheckView.violated(id.toString(), e.getMessage()));
        } catch (IllegalStateException e) {
            throw new CliException(e.getMessage());
        }
    }

    @Override
    public JsonNode gc(String shard) {
        throw onlineOnly("gc");
    }

    @Override
    public JsonNode rollup(String shard) {
        throw onlineOnly("rollup");
    }

    @Override
    public JsonNode sweep(String shard, OptionalLong graceMs) {
        throw onlineOnly("sweep");
    }

    private static CliException onlineOnly(String command) {
        return new CliException(command + " runs only against a service (--url): maintenance commits versions and"
                + " deletes blobs, which the service's replicas coordinate", 2);
    }

    /** The view as the REST API's JSON reads back: numbers as a parser types them, as online. */
    private static JsonNode tree(Object view) {
        try {
            return JSON.readTree(JSON.writeValueAsString(view));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("rendering " + view.getClass().getSimpleName(), e);
        }
    }

    private static final ObjectMapper JSON = Commands.JSON;

    /** The API's answer, or its error as a {@link CliException} with the API's code. */
    private static <T> T join(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = Failures.unwrap(e);
            if (cause instanceof ApiException api) {
                throw new CliException(api.code().httpStatus() + " " + api.code().code() + ": " + api.detail(),
                        api.code().httpStatus() == 400 ? StateVersionsCli.USAGE : CliException.FAILED);
            }
            if (cause instanceof CliException cli) {
                throw cli;
            }
            throw new CliException("reading storage failed: " + cause);
        } catch (TimeoutException e) {
            throw new CliException("storage did not answer within " + TIMEOUT_S + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    @Override
    public void close() {
        try {
            consensus.close();
            blob.close();
        } finally {
            vertx.close().toCompletionStage().toCompletableFuture().orTimeout(10, TimeUnit.SECONDS)
                    .exceptionally(e -> null).join();
        }
    }

    /** The service's defaults; only the leaked-blob grace is read, and offline mode never sweeps. */
    private static final MaintenanceConfig MAINTENANCE = MaintenanceSettings.SWEEP_OFF;
}
