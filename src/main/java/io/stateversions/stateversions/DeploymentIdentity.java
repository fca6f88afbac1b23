package io.stateversions.stateversions;

import io.stateversions.core.SeqNo;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.Failures;
import io.stateversions.location.VersionedData;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jboss.logging.Logger;

/**
 * Proof that a replica's Consensus and Blob are the pair its deployment uses. Replicas that share a consensus but
 * not its blob store would otherwise run: their states name rollups that the other blob store never held, and every
 * read of them fails forever. Replicas that share a blob store but not a consensus would run too, and the leaked-blob
 * sweep of one would delete the blobs of the other's shard of the same id.
 *
 * <h2>What is stored</h2>
 * <ul>
 *   <li>Consensus key {@value #CONSENSUS_KEY}: one version, v1, never changed, naming the deployment (a random UUID)
 *       and, for error messages, the blob store it was created with. The key is not a shard id, and it sorts after
 *       every shard id ({@code s} and a lower-case UUID, whose first character is at most {@code f}), so listings of
 *       shards skip it and page past it.</li>
 *   <li>Blob key {@code deployment/<id>}: the marker of deployment {@code id}, {@code pending} from before the id
 *       was offered to Consensus, {@code created} once Consensus holds it. Nothing else writes, lists or deletes under
 *       {@code deployment/} (GC and the leaked-blob sweep work per shard prefix).</li>
 * </ul>
 *
 * <h2>The check at start-up ({@link #establish})</h2>
 * <ol>
 *   <li>Read the consensus identity C. If there is none: if the blob store holds the created marker of a
 *       deployment and the consensus still has no identity when read again after that listing, refuse (as in step
 *       4, before anything is written); else pick X, write marker X as pending, and compare-and-set the identity to
 *       X expecting none. C is then X, or, on a mismatch, the identity read again (another replica won); a loser
 *       deletes its marker X (best effort).</li>
 *   <li>Refuse unless this replica's Blob holds marker C.</li>
 *   <li>If marker C is pending, rewrite it as created (unless Consensus lives in this process only).</li>
 *   <li>Refuse if the blob store holds the created marker of a deployment other than C.</li>
 * </ol>
 * Storage failures are retried: every step can be repeated (a repeated compare-and-set that had landed mismatches
 * and then reads its own X). A refusal is a {@link MismatchException} and is never retried.
 *
 * <h2>Why it is correct</h2>
 * <ul>
 *   <li><b>Replicas that pass on one consensus use one blob store.</b> The identity of a consensus is set once (a
 *       compare-and-set expecting none) and never changed, so they all read the same C. Marker C is written only by
 *       the replica that picked C, into its own blob store and before C could be read from Consensus, and rewritten
 *       (step 3) only where it was read. So step 2 passes only on the blob store of C's creator (or a copy an
 *       operator made: the way to migrate a bucket).</li>
 *   <li><b>Replicas on one blob store but different consensuses do not all pass.</b> Their consensuses hold
 *       different ids (random UUIDs). A later start finds the other deployment's created marker in step 1 or step 4
 *       and refuses. Two that start at once each write "created" (step 3) before they list (step 4); Blob is
 *       linearizable, so the one whose step 3 came second lists after the other's step 3 and refuses.</li>
 *   <li><b>No refusal on shared storage.</b> Step 4 refuses only for a marker other than C, and a consensus names
 *       one deployment for good, so that marker's deployment has another consensus. Step 1 can list the created
 *       marker of a deployment that another replica created on this very consensus after the first read; but a
 *       marker is created only after its compare-and-set committed, so the read after the listing sees it, and the
 *       replica goes on to step 2 with it.</li>
 *   <li><b>Replicas on shared storage that start at once all pass, with one id.</b> The compare-and-set has one
 *       winner W, whose marker was written before W could be read; the losers' own markers are pending, and pending
 *       markers never make anyone refuse.</li>
 *   <li><b>Crashes.</b> A creator that dies between its compare-and-set and step 3 leaves marker C pending: the
 *       next start rewrites it. One that dies before its compare-and-set leaves a pending marker that no consensus
 *       names: it is ignored (a few bytes).</li>
 * </ul>
 * A deployment whose Consensus lives in one process ({@code mem://}) never writes "created": it claims no blob
 * store, so the next process on a fresh in-memory consensus can use the same one. It still refuses a blob store
 * that a durable deployment created.
 *
 * <p>Readiness repeats steps 2 and a cheap form of 1 ({@link #checkConsensus}, {@link #checkBlob}): the identity
 * in Consensus must still be the one this replica established, and its marker must still exist.
 */
public final class DeploymentIdentity {

    private static final Logger LOG = Logger.getLogger(DeploymentIdentity.class);

    /** The Consensus key of the identity; see the class comment for why it sorts after every shard id. */
    public static final String CONSENSUS_KEY = "stateversions-deployment";
    /** The Blob prefix of the markers; a marker's key is the prefix and the deployment id. */
    public static final String MARKER_PREFIX = "deployment/";

    private static final SeqNo IDENTITY_SEQNO = SeqNo.of(1);
    private static final String PENDING = "pending";
    private static final String CREATED = "created";

    /** Where the stores are, as the logs name them: URLs without credentials, or descriptions. */
    public record Locations(String consensus, String blob) {}

    /** The deployment a replica belongs to; {@code created}: this replica created it now. */
    public record Deployment(UUID id, boolean created) {}

    /**
     * The stores belong to different deployments: a configuration error. The message names both locations and what
     * to set; it carries no stack trace, which would only hide it.
     */
    public static final class MismatchException extends RuntimeException {
        MismatchException(String message) {
            super(message, null, false, false);
        }
    }

    private final Consensus consensus;
    private final Blob blob;
    private final Locations locations;
    private final boolean consensusInProcess;
    private final Retries retries;
    private volatile boolean stopped;
    private volatile String lastFailure;
    private volatile Deployment established;

    /**
     * @param consensusInProcess Consensus lives in this process only ({@code mem://}): its deployments claim no blob
     *     store
     */
    public DeploymentIdentity(Consensus consensus, Blob blob, Locations locations, boolean consensusInProcess) {
        this.consensus = consensus;
        this.blob = blob;
        this.locations = locations;
        this.consensusInProcess = consensusInProcess;
        this.retries = new Retries(RetryPolicy.PERSIST_DEFAULTS, this::schedule,
                (op, mode, retry, error, sleep) -> lastFailure = op + ": " + error.getMessage());
    }

    public static String markerKey(UUID id) {
        return MARKER_PREFIX + id;
    }

    public Locations locations() {
        return locations;
    }

    /** The deployment found by {@link #establish}, if it succeeded. */
    public Optional<Deployment> established() {
        return Optional.ofNullable(established);
    }

    /**
     * {@link #establish()}, waiting at most {@code timeout} for storage. Fails with {@link MismatchException} when
     * the stores belong to different deployments, and with an {@link IllegalStateException} naming both locations
     * and the last storage error when storage did not answer in time (retries then stop).
     */
    public Deployment establish(Duration timeout) {
        CompletableFuture<Deployment> check = establish();
        try {
            return check.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            stopped = true;
            throw new IllegalStateException("Consensus " + locations.consensus() + " and blob store "
                    + locations.blob() + " did not complete the deployment identity check within "
                    + timeout.toMillis() + " ms (stateversions.deployment.start-timeout); last error: "
                    + (lastFailure == null ? "none (no answer)" : lastFailure));
        } catch (ExecutionException e) {
            Throwable cause = Failures.unwrap(e);
            throw cause instanceof RuntimeException runtime ? runtime : new IllegalStateException(cause);
        } catch (InterruptedException e) {
            stopped = true;
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during the deployment identity check", e);
        }
    }

    /**
     * Finds this replica's deployment, creating it if Consensus has none, and checks that Blob belongs to it (the
     * steps of the class comment). Retries storage failures until it succeeds or refuses.
     */
    public CompletableFuture<Deployment> establish() {
        return readIdentity().thenCompose(current -> current.isPresent()
                ? verify(current.get(), false)
                : createdMarkerOtherThan(Optional.empty()).thenCompose(other -> other.isEmpty() ? create()
                        : readIdentity().thenCompose(again -> {
                            if (again.isEmpty()) {
                                throw new MismatchException(otherDeployment(other.get(), Optional.empty()));
                            }
                            return verify(again.get(), false); // created meanwhile, on this consensus
                        })))
                .thenApply(deployment -> {
                    established = deployment;
                    return deployment;
                });
    }

    /** Completes iff Consensus still holds the identity this replica established; one read, not retried. */
    public CompletableFuture<Void> checkConsensus() {
        Deployment own = established;
        if (own == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("deployment identity not checked yet"));
        }
        return consensus.head(CONSENSUS_KEY).toCompletableFuture().thenAccept(head -> {
            Optional<Identity> now = head.map(Identity::decode);
            if (now.isEmpty() || !now.get().id().equals(own.id())) {
                throw new MismatchException("consensus " + locations.consensus() + " "
                        + now.map(i -> "now belongs to deployment " + i.id()).orElse("holds no deployment identity")
                        + ", but this replica started in deployment " + own.id()
                        + ": the consensus was replaced or reset; restart the replica to check its storage again");
            }
        });
    }

    /** Completes iff Blob still holds the marker of the deployment this replica established; one read. */
    public CompletableFuture<Void> checkBlob() {
        Deployment own = established;
        if (own == null) {
            return CompletableFuture.failedFuture(new IllegalStateException("deployment identity not checked yet"));
        }
        return blob.get(markerKey(own.id())).toCompletableFuture().thenAccept(marker -> {
            if (marker.isEmpty()) {
                throw new MismatchException("blob store " + locations.blob() + " lacks " + markerKey(own.id())
                        + ", the marker of this replica's deployment: the blob store was replaced or the marker"
                        + " deleted; restart the replica to check its storage again");
            }
        });
    }

    // --------------------------------------------------------------------------------------------------- steps

    private CompletableFuture<Optional<Identity>> readIdentity() {
        return retries.external("deployment identity: consensus head", () -> consensus.head(CONSENSUS_KEY))
                .thenApply(head -> head.map(Identity::decode));
    }

    /** Step 1 for a consensus without identity: offer a new one, after its marker. */
    private CompletableFuture<Deployment> create() {
        UUID id = UUID.randomUUID();
        Identity offered = new Identity(id, locations.blob());
        Marker pending = new Marker(id, PENDING, locations.consensus());
        return retries.external("deployment identity: blob set", () -> blob.set(markerKey(id), pending.encode()))
                .thenCompose(marked -> retries.external("deployment identity: consensus compare-and-set",
                        () -> consensus.compareAndSet(CONSENSUS_KEY, Optional.empty(),
                                new VersionedData(IDENTITY_SEQNO, offered.encode()))))
                .thenCompose(result -> result == CasResult.COMMITTED
                        ? CompletableFuture.completedFuture(Optional.of(offered)) : readIdentity())
                .thenCompose(winner -> {
                    Identity current = winner.orElseThrow(() -> new IllegalStateException("consensus "
                            + locations.consensus() + " refused the identity " + id + " of an empty key, and the key"
                            + " is still empty: Consensus broke its compare-and-set contract"));
                    boolean won = current.id().equals(id);
                    if (!won) {
                        blob.delete(markerKey(id)).whenComplete((deleted, error) -> {
                            if (error != null) {
                                LOG.debugf("Could not delete the unused marker %s (harmless): %s", markerKey(id),
                                        error.getMessage());
                            }
                        });
                    }
                    return verify(current, won);
                });
    }

    /** Steps 2 to 4. */
    private CompletableFuture<Deployment> verify(Identity current, boolean created) {
        String key = markerKey(current.id());
        return retries.external("deployment identity: blob get", () -> blob.get(key)).thenCompose(stored -> {
            if (stored.isEmpty()) {
                throw new MismatchException("Blob store " + locations.blob() + " is not the blob store of deployment "
                        + current.id() + ", which consensus " + locations.consensus() + " belongs to: it lacks the"
                        + " marker " + key + ". Replicas that share a consensus must share its blob store: set"
                        + " stateversions.blob.url to the blob store the other replicas use. Deployment " + current.id()
                        + " was created with blob store " + current.blob() + ".");
            }
            Marker marker = Marker.decode(key, stored.get());
            CompletableFuture<Void> claimed = marker.state().equals(PENDING) && !consensusInProcess
                    ? retries.external("deployment identity: blob set",
                            () -> blob.set(key, marker.withState(CREATED).encode()))
                    : CompletableFuture.completedFuture(null);
            return claimed.thenCompose(done -> createdMarkerOtherThan(Optional.of(current))).thenApply(other -> {
                if (other.isPresent()) {
                    throw new MismatchException(otherDeployment(other.get(), Optional.of(current)));
                }
                return new Deployment(current.id(), created);
            });
        });
    }

    /** Steps 1 and 4: the created marker of a deployment other than {@code own} in Blob, if there is one. */
    private CompletableFuture<Optional<Marker>> createdMarkerOtherThan(Optional<Identity> own) {
        return retries.external("deployment identity: blob list", () -> {
            List<String> keys = new ArrayList<>();
            return blob.list(MARKER_PREFIX, (BlobMetadata m) -> keys.add(m.key())).thenApply(done -> keys);
        }).thenCompose(keys -> {
            CompletableFuture<Optional<Marker>> found = CompletableFuture.completedFuture(Optional.empty());
            for (String key : keys) {
                if (own.isPresent() && key.equals(markerKey(own.get().id()))) {
                    continue;
                }
                found = found.thenCompose(earlier -> earlier.isPresent() ? CompletableFuture.completedFuture(earlier)
                        : retries.external("deployment identity: blob get", () -> blob.get(key)).thenApply(stored ->
                                stored.flatMap(value -> Marker.tryDecode(key, value))
                                        .filter(marker -> marker.state().equals(CREATED))));
            }
            return found;
        });
    }

    private String otherDeployment(Marker other, Optional<Identity> own) {
        return "Blob store " + locations.blob() + " belongs to deployment " + other.id() + ", created on consensus "
                + other.consensus() + ", but consensus " + locations.consensus()
                + own.map(i -> " belongs to deployment " + i.id()).orElse(" has no deployment yet")
                + ". Replicas that share a blob store must share its consensus: set stateversions.consensus.url to the"
                + " consensus the other replicas use. If deployment " + other.id() + " and its consensus are gone for"
                + " good, delete " + markerKey(other.id()) + " from the blob store and start again.";
    }

    private void schedule(Duration delay, Runnable task) {
        if (stopped) {
            throw new RejectedExecutionException("the deployment identity check was given up");
        }
        Retries.Scheduler.DEFAULT.schedule(delay, task);
    }

    // ------------------------------------------------------------------------------------------------- values

    /** The value of {@link #CONSENSUS_KEY}. */
    private record Identity(UUID id, String blob) {

        byte[] encode() {
            return Fields.encode(Map.of("deployment", id.toString(), "blob", blob, "created",
                    Instant.now().toString()));
        }

        static Identity decode(VersionedData entry) {
            Map<String, String> fields = Fields.decode(entry.data());
            if (!entry.seqno().equals(IDENTITY_SEQNO) || !fields.containsKey("deployment")) {
                throw new IllegalStateException("consensus key " + CONSENSUS_KEY + " holds " + entry + " "
                        + fields + ", not a deployment identity written by this service");
            }
            return new Identity(Fields.uuid(CONSENSUS_KEY, fields), fields.getOrDefault("blob", "unknown"));
        }
    }

    /** The value of a marker: its deployment, whether Consensus holds it yet, and the consensus it was made on. */
    private record Marker(UUID id, String state, String consensus) {

        Marker withState(String newState) {
            return new Marker(id, newState, consensus);
        }

        byte[] encode() {
            return Fields.encode(Map.of("deployment", id.toString(), "state", state, "consensus", consensus));
        }

        static Marker decode(String key, byte[] value) {
            Map<String, String> fields = Fields.decode(value);
            UUID id = Fields.uuid(key, fields);
            if (!key.equals(markerKey(id))) {
                throw new IllegalStateException("blob " + key + " holds the marker of deployment " + id);
            }
            return new Marker(id, fields.getOrDefault("state", PENDING), fields.getOrDefault("consensus", "unknown"));
        }

        /** A key under the prefix that is not a marker (written by someone else) is no deployment's. */
        static Optional<Marker> tryDecode(String key, byte[] value) {
            try {
                return Optional.of(decode(key, value));
            } catch (IllegalStateException e) {
                LOG.warnf("Ignoring %s in blob store: %s", key, e.getMessage());
                return Optional.empty();
            }
        }
    }

    /** Both values are UTF-8 lines {@code name=value}, readable with any tool that shows the store. */
    private static final class Fields {

        static byte[] encode(Map<String, String> fields) {
            StringBuilder text = new StringBuilder();
            fields.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(field -> text.append(field.getKey())
                    .append('=').append(field.getValue().replace('\n', ' ')).append('\n'));
            return text.toString().getBytes(StandardCharsets.UTF_8);
        }

        static Map<String, String> decode(byte[] value) {
            Map<String, String> fields = new LinkedHashMap<>();
            for (String line : new String(value, StandardCharsets.UTF_8).split("\n")) {
                int eq = line.indexOf('=');
                if (eq > 0) {
                    fields.put(line.substring(0, eq), line.substring(eq + 1));
                }
            }
            return fields;
        }

        static UUID uuid(String where, Map<String, String> fields) {
            try {
                return UUID.fromString(fields.getOrDefault("deployment", ""));
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(where + " names no deployment id: " + fields);
            }
        }
    }
}
