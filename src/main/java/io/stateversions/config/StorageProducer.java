package io.stateversions.config;

import io.quarkus.arc.InjectableInstance;
import io.quarkus.runtime.StartupEvent;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.UrlQuery;
import io.stateversions.location.postgres.PostgresConsensus;
import io.stateversions.location.postgres.PostgresPools;
import io.stateversions.location.s3.S3Blob;
import io.stateversions.location.s3.S3Clients;
import io.stateversions.location.s3.S3Location;
import io.stateversions.metrics.MeteredBlob;
import io.stateversions.metrics.MeteredConsensus;
import io.stateversions.metrics.StorageSpans;
import io.stateversions.metrics.Metrics;
import io.stateversions.stateversions.DeploymentIdentity;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.RetryPolicy;
import io.stateversions.metrics.WatchMeters;
import io.stateversions.watch.CommitBus;
import io.stateversions.watch.PostgresCommitBus;
import io.stateversions.watch.WatchConfig;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Instance;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import jakarta.interceptor.Interceptor;
import java.net.URI;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.jboss.logging.Logger;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The one place that picks the storage backends, by URL (spec §7.6), and wraps them in the metering decorators.
 *
 * <p>Consensus: {@code stateversions.consensus.url} if set; else the Quarkus-managed reactive datasource if one is
 * active (configured, or started by Dev Services where Docker exists); else an embedded PostgreSQL under the data
 * directory. Blob: {@code stateversions.blob.url} if set; else a file store under the data directory. So with no
 * configuration at all the service runs on durable local storage.
 *
 * <p>Both beans are created on the main thread at start-up (blocking work such as starting the embedded server
 * never lands on an event loop), and the consensus schema is prepared in the background right away. Before any
 * other start-up work, the {@link DeploymentIdentity} check proves that the two stores belong to one deployment;
 * start-up fails if they do not, or if they do not answer within {@code stateversions.deployment.start-timeout}.
 */
@ApplicationScoped
public class StorageProducer {

    private static final Logger LOG = Logger.getLogger(StorageProducer.class);

    private final StorageConfig config;
    private final Vertx vertx;
    private final InjectableInstance<Pool> managedPool;
    private final Optional<String> managedPoolUrl;
    private final Instance<S3AsyncClient> managedS3;
    /** {@code quarkus.s3.aws.region}: the managed S3 client's region; unset, the SDK's default chain decides. */
    private final Optional<String> managedS3Region;
    private final Instance<EmbeddedConsensusServer> embedded;
    private final Metrics metrics;
    private final Optional<String> managedUser;
    private final Optional<String> managedPassword;
    /** Where commit notifications are sent and received: the consensus database, when it is PostgreSQL. */
    private volatile PgConnectOptions notificationTarget;
    private volatile String notificationDescription;
    /** Where the stores are, as logged when they were opened: for the deployment identity's messages. */
    private volatile String consensusLocation;
    private volatile String blobLocation;
    private volatile boolean consensusInProcess;

    public StorageProducer(StorageConfig config, Vertx vertx, InjectableInstance<Pool> managedPool,
            @ConfigProperty(name = "quarkus.datasource.reactive.url") Optional<String> managedPoolUrl,
            @ConfigProperty(name = "quarkus.datasource.username") Optional<String> managedUser,
            @ConfigProperty(name = "quarkus.datasource.password") Optional<String> managedPassword,
            @ConfigProperty(name = "quarkus.s3.aws.region") Optional<String> managedS3Region,
            Instance<S3AsyncClient> managedS3, Instance<EmbeddedConsensusServer> embedded, Metrics metrics) {
        this.managedUser = managedUser;
        this.managedPassword = managedPassword;
        this.config = config;
        this.vertx = vertx;
        this.managedPool = managedPool;
        this.managedPoolUrl = managedPoolUrl;
        this.managedS3 = managedS3;
        this.managedS3Region = managedS3Region;
        this.embedded = embedded;
        this.metrics = metrics;
    }

    /**
     * Injecting them creates them now, on the main thread, and the deployment identity is checked before the other
     * start-up observers run (it throws, failing start-up, when the stores do not belong together); the consensus
     * schema is then prepared in the background, and commit notifications start once it is known to be PostgreSQL
     * (CockroachDB has no {@code LISTEN}).
     */
    void start(@Observes @Priority(Interceptor.Priority.LIBRARY_BEFORE) StartupEvent event, Consensus consensus,
            Blob blob, CommitBus bus, WatchConfig watch, DeploymentIdentity identity) {
        long started = System.nanoTime();
        DeploymentIdentity.Deployment deployment = identity.establish(config.deployment().startTimeout());
        LOG.infof("Deployment %s: consensus %s, blob %s; %s, checked in %d ms", deployment.id(),
                identity.locations().consensus(), identity.locations().blob(),
                deployment.created() ? "created now" : "existing", (System.nanoTime() - started) / 1_000_000);
        if (consensus instanceof MeteredConsensus metered && metered.delegate() instanceof PostgresConsensus postgres) {
            startNotifications(postgres, bus, watch);
        }
    }

    private void startNotifications(PostgresConsensus postgres, CommitBus bus, WatchConfig watch) {
        if (!(bus instanceof PostgresCommitBus notifications)) {
            postgres.prepare();
            return;
        }
        postgres.prepare().whenComplete((dialect, error) -> {
            if (error != null) {
                vertx.setTimer(NOTIFICATIONS_RETRY_MS, t -> startNotifications(postgres, bus, watch));
            } else if (dialect == PostgresConsensus.Dialect.COCKROACH) {
                LOG.infof("Commit notifications: off (CockroachDB has no LISTEN/NOTIFY); watchers poll every %s",
                        watch.fallbackPollInterval());
                notifications.close();
            } else {
                notifications.start();
            }
        });
    }

    private static final long NOTIFICATIONS_RETRY_MS = 5_000;

    /**
     * Commit notifications between the replicas: PostgreSQL {@code LISTEN/NOTIFY} on the consensus database,
     * unless turned off or the consensus is not PostgreSQL (then {@link CommitBus#NONE}: watchers poll).
     */
    @Produces
    @Singleton
    CommitBus commitBus(Consensus consensus, WatchConfig watchConfig, WatchMeters meters) {
        CommitBus bus;
        PgConnectOptions target = notificationTarget; // set while the consensus was opened
        if (!watchConfig.notifications()) {
            LOG.infof("Commit notifications: off (stateversions.watch.notifications=false); watchers poll every %s",
                    watchConfig.fallbackPollInterval());
            bus = CommitBus.NONE;
        } else if (target == null) {
            bus = CommitBus.NONE;
        } else {
            bus = new PostgresCommitBus(vertx, target, notificationDescription, meters);
        }
        meters.bind(bus);
        return bus;
    }

    void closeCommitBus(@Disposes CommitBus bus) {
        bus.close();
    }

    @Produces
    @Singleton
    Consensus consensus(StorageSpans spans) {
        return new MeteredConsensus(openConsensus(), metrics, spans);
    }

    void closeConsensus(@Disposes Consensus consensus) {
        consensus.close();
    }

    @Produces
    @Singleton
    Blob blob(StorageSpans spans) {
        return new MeteredBlob(openBlob(), metrics, spans);
    }

    void closeBlob(@Disposes Blob blob) {
        blob.close();
    }

    @Produces
    @Singleton
    DeploymentIdentity deploymentIdentity(Consensus consensus, Blob blob) {
        // The parameters open both stores first, which records where they are.
        return new DeploymentIdentity(consensus, blob,
                new DeploymentIdentity.Locations(consensusLocation, blobLocation), consensusInProcess);
    }

    /** Persist's retry loops, with the default backoff, counted by {@link Metrics}. */
    @Produces
    @Singleton
    Retries retries() {
        return new Retries(RetryPolicy.PERSIST_DEFAULTS, Retries.Scheduler.DEFAULT, metrics::retrying);
    }

    private Consensus openConsensus() {
        Optional<String> url = config.consensus().url().filter(u -> !u.isBlank());
        if (url.isPresent()) {
            return consensusAt(url.get(), "");
        }
        List<Pool> active = managedPool.listActive();
        if (!active.isEmpty()) {
            String where = managedPoolUrl.map(UrlQuery::redact).orElse("the Quarkus reactive datasource");
            LOG.infof("Consensus: %s (the Quarkus-managed reactive datasource)", where);
            consensusLocation = where;
            managedPoolUrl.ifPresent(u -> notifyAt(managedConnectOptions(u), where));
            return new PostgresConsensus(active.get(0), () -> {}, where, // Quarkus closes its own pool
                    config.consensus().postgres().statementTimeout(), groupCommit());
        }
        if (!embedded.isResolvable()) {
            throw new IllegalStateException("stateversions.consensus.url is not set, no Quarkus datasource is configured,"
                    + " and this build has no embedded PostgreSQL (native executables do not): set"
                    + " stateversions.consensus.url to a postgres:// URL");
        }
        EmbeddedConsensusServer server = embedded.get();
        String embeddedUrl = server.start();
        // The server stops after the pool is closed, so that no connection sees it go away.
        return consensusAt(embeddedUrl, " (" + server.describe() + ")", server::stop);
    }

    /** How the PostgreSQL backend groups compare-and-sets, its group sizes counted by {@link Metrics}. */
    private PostgresConsensus.GroupCommit groupCommit() {
        StorageConfig.Postgres postgres = config.consensus().postgres();
        return new PostgresConsensus.GroupCommit(postgres.groupCommitMaxSize(), postgres.groupCommitMaxInFlight(),
                metrics::consensusGroup);
    }

    private Consensus consensusAt(String url, String note) {
        return consensusAt(url, note, () -> {});
    }

    private Consensus consensusAt(String url, String note, Runnable afterClose) {
        StorageConfig.Postgres postgres = config.consensus().postgres();
        StorageUrls.Opened<Consensus> opened = StorageUrls.consensus(url, vertx, new PostgresPools.Settings(
                postgres.maxPoolSize(), postgres.acquireTimeout(), postgres.maxLifetime(), postgres.connectTimeout(),
                postgres.statementTimeout(), groupCommit()), afterClose);
        if (opened.inProcess()) {
            LOG.warnf("Consensus: %s, in memory: every shard is lost when the process exits", opened.location());
        } else {
            LOG.infof("Consensus: %s%s", opened.location(), note);
            notifyAt(PostgresPools.connectOptions(url), opened.location());
        }
        consensusLocation = opened.location() + note;
        consensusInProcess = opened.inProcess();
        return opened.store();
    }

    private void notifyAt(PgConnectOptions options, String description) {
        notificationTarget = options;
        notificationDescription = description;
    }

    /** The managed datasource's URL (Dev Services write it as {@code vertx-reactive:postgresql://…}) and credentials. */
    private PgConnectOptions managedConnectOptions(String url) {
        String plain = url.startsWith("vertx-reactive:") ? url.substring("vertx-reactive:".length()) : url;
        PgConnectOptions options = PgConnectOptions.fromUri(plain);
        managedUser.ifPresent(options::setUser);
        managedPassword.ifPresent(options::setPassword);
        return options;
    }

    private Blob openBlob() {
        Optional<String> url = config.blob().url().filter(u -> !u.isBlank());
        StorageUrls.Opened<Blob> opened;
        if (url.isEmpty()) {
            opened = StorageUrls.fileBlob(Path.of(config.dataDir()).resolve("blob"), false,
                    config.blob().fileIoThreads());
            LOG.infof("Blob: %s", opened.location());
            blobLocation = opened.location() + " (the default: stateversions.blob.url is not set)";
            return opened.store();
        }
        StorageConfig.S3 s3 = config.blob().s3();
        opened = StorageUrls.blob(url.get(), new S3Clients.Timeouts(s3.operationTimeout(), s3.attemptTimeout(),
                s3.connectTimeout(), s3.readTimeout()), config.blob().fileIoThreads(), () -> {
                    if (managedS3Region.filter(r -> !r.isBlank()).isEmpty()) {
                        S3Clients.requireRegion(UrlQuery.redact(url.get()), Optional.of("QUARKUS_S3_AWS_REGION"
                                + " (quarkus.s3.aws.region)"));
                    }
                    return managedS3.get();
                });
        if (opened.inProcess()) {
            LOG.warnf("Blob: %s, in memory: every blob is lost when the process exits", opened.location());
        } else if (opened.store() instanceof S3Blob && !S3Location.parse(url.get()).needsOwnClient()) {
            LOG.infof("Blob: %s (the S3 client configured by quarkus.s3.*)", opened.location());
        } else {
            LOG.infof("Blob: %s", opened.location());
        }
        blobLocation = opened.location();
        return opened.store();
    }

    /** {@link StorageUrls#fileDirectory}. */
    static Path fileDirectory(URI uri, String redacted) {
        return StorageUrls.fileDirectory(uri, redacted);
    }

    /** {@link StorageUrls#parse}. */
    static URI parse(String url, String what) {
        return StorageUrls.parse(url, what);
    }
}
