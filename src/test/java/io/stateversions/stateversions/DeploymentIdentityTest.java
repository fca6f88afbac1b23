package io.stateversions.stateversions;

import static io.stateversions.stateversions.DeploymentIdentity.CONSENSUS_KEY;
import static io.stateversions.stateversions.DeploymentIdentity.markerKey;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.core.SeqNo;
import io.stateversions.location.Blob;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.location.memory.MemoryConsensus;
import io.stateversions.stateversions.DeploymentIdentity.Deployment;
import io.stateversions.stateversions.DeploymentIdentity.Locations;
import io.stateversions.stateversions.DeploymentIdentity.MismatchException;
import io.stateversions.testing.Chaos;
import io.stateversions.testing.ChaosBlob;
import io.stateversions.testing.ChaosConsensus;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The deployment identity check ({@link DeploymentIdentity}) on real storage semantics: a replica is a
 * {@code DeploymentIdentity} over its own clients of the stores. A backend's subclass only says how to open a fresh,
 * empty store and a second client of one.
 */
abstract class DeploymentIdentityTest {

    private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

    /** A new, empty consensus. */
    protected abstract Consensus openConsensus();

    /** Another client of {@code consensus}: what a second replica uses. */
    protected abstract Consensus peer(Consensus consensus);

    /** A new, empty blob store. */
    protected abstract Blob openBlob();

    /** Another client of {@code blob}. */
    protected abstract Blob peer(Blob blob);

    private final List<AutoCloseable> opened = new ArrayList<>();
    /** The location name of each store and client, as the service would log it; clients of one store share it. */
    private final Map<Object, String> names = new IdentityHashMap<>();

    @AfterEach
    void closeOpened() throws Exception {
        Collections.reverse(opened);
        for (AutoCloseable client : opened) {
            client.close();
        }
    }

    // ---------------------------------------------------------------------------------------------------- tests

    @Test
    void a_first_start_creates_the_deployment_and_restarts_on_the_same_storage_join_it() {
        Consensus consensus = consensus();
        Blob blob = blob();

        Deployment first = replica(consensus, blob).establish(START_TIMEOUT);

        assertThat(first.created()).isTrue();
        VersionedData identity = await(consensus.head(CONSENSUS_KEY)).orElseThrow();
        assertThat(identity.seqno()).isEqualTo(SeqNo.of(1));
        assertThat(text(identity.data())).contains("deployment=" + first.id()).contains("blob=" + name(blob));
        assertThat(text(await(blob.get(markerKey(first.id()))).orElseThrow()))
                .contains("deployment=" + first.id()).contains("state=created").contains("consensus=" + name(consensus));

        DeploymentIdentity restarted = replica(clientOf(consensus), clientOf(blob));
        assertThat(restarted.establish(START_TIMEOUT)).isEqualTo(new Deployment(first.id(), false));
        await(restarted.checkConsensus());
        await(restarted.checkBlob());
        assertThat(keys(blob)).containsExactly(markerKey(first.id()));
        assertThat(await(consensus.scan(CONSENSUS_KEY, SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(identity);
    }

    @Test
    void a_replica_on_the_same_consensus_with_another_blob_store_refuses_to_start_and_says_what_to_set() {
        Consensus consensus = consensus();
        Blob blobA = blob();
        Blob blobB = blob();
        Deployment a = replica(consensus, blobA).establish(START_TIMEOUT);

        assertThatThrownBy(() -> replica(clientOf(consensus), blobB).establish(START_TIMEOUT))
                .isInstanceOf(MismatchException.class)
                .hasMessageContaining("Blob store " + name(blobB) + " is not the blob store of deployment " + a.id()
                        + ", which consensus " + name(consensus) + " belongs to")
                .hasMessageContaining("set stateversions.blob.url to the blob store the other replicas use")
                .hasMessageContaining("created with blob store " + name(blobA));
        assertThat(keys(blobB)).as("the refused replica wrote nothing").isEmpty();
    }

    @Test
    void a_replica_on_the_same_blob_store_with_another_consensus_refuses_to_start_and_writes_nothing() {
        Consensus consensusA = consensus();
        Consensus consensusB = consensus();
        Blob blob = blob();
        Deployment a = replica(consensusA, blob).establish(START_TIMEOUT);

        assertThatThrownBy(() -> replica(consensusB, clientOf(blob)).establish(START_TIMEOUT))
                .isInstanceOf(MismatchException.class)
                .hasMessageContaining("Blob store " + name(blob) + " belongs to deployment " + a.id()
                        + ", created on consensus " + name(consensusA) + ", but consensus " + name(consensusB)
                        + " has no deployment yet")
                .hasMessageContaining("set stateversions.consensus.url to the consensus the other replicas use")
                .hasMessageContaining("delete " + markerKey(a.id()));
        assertThat(await(consensusB.head(CONSENSUS_KEY))).as("the refused replica wrote nothing").isEmpty();
        assertThat(keys(blob)).containsExactly(markerKey(a.id()));
    }

    @Test
    void replicas_starting_at_once_on_shared_storage_all_start_in_one_deployment() {
        Consensus consensus = consensus();
        Blob blob = blob();

        List<CompletableFuture<Deployment>> starts = startAtOnce(8, Chaos.Op.CONSENSUS_CAS, 1,
                chaos -> replica(as(new ChaosConsensus(clientOf(consensus), chaos), consensus), clientOf(blob)));

        List<Deployment> deployments = starts.stream().map(DeploymentIdentityTest::await).toList();
        assertThat(deployments.stream().map(Deployment::id).distinct()).hasSize(1);
        assertThat(deployments.stream().filter(Deployment::created)).hasSize(1);
        UUID id = deployments.get(0).id();
        // The losers delete their unused markers in the background.
        Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(keys(blob)).containsExactly(markerKey(id)));
    }

    @Test
    void replicas_starting_at_once_on_one_consensus_with_their_own_blob_stores_one_starts() {
        Consensus consensus = consensus();

        List<CompletableFuture<Deployment>> starts = startAtOnce(3, Chaos.Op.CONSENSUS_CAS, 1,
                chaos -> replica(as(new ChaosConsensus(clientOf(consensus), chaos), consensus), blob()));

        List<Deployment> started = new ArrayList<>();
        List<Throwable> refused = new ArrayList<>();
        for (CompletableFuture<Deployment> start : starts) {
            try {
                started.add(await(start));
            } catch (CompletionException e) {
                refused.add(e.getCause());
            }
        }
        assertThat(started).hasSize(1);
        assertThat(refused).hasSize(2).allSatisfy(e -> assertThat(e).isInstanceOf(MismatchException.class)
                .hasMessageContaining("is not the blob store of deployment " + started.get(0).id()));
    }

    /**
     * Both find the blob store without markers (their first listing is held until both made it), so both create
     * their deployments: the one that marks the store created second then lists the other's marker and refuses.
     */
    @Test
    void replicas_starting_at_once_on_one_blob_store_with_their_own_consensuses_do_not_both_start() {
        Blob blob = blob();

        List<CompletableFuture<Deployment>> starts = startAtOnce(2, Chaos.Op.BLOB_LIST, 1,
                chaos -> replica(consensus(), as(new ChaosBlob(clientOf(blob), chaos), blob)));

        List<Throwable> refused = new ArrayList<>();
        for (CompletableFuture<Deployment> start : starts) {
            try {
                await(start);
            } catch (CompletionException e) {
                refused.add(e.getCause());
            }
        }
        assertThat(refused).isNotEmpty().allSatisfy(e -> assertThat(e).isInstanceOf(MismatchException.class)
                .hasMessageContaining("Blob store " + name(blob) + " belongs to deployment "));
    }

    /**
     * A replica reads no identity; before it lists the markers, another replica on the same storage creates the
     * deployment and marks the store created. The created marker is then not another deployment's: the consensus
     * now names it, and the first replica joins it.
     */
    @Test
    void a_replica_that_read_no_identity_joins_the_deployment_created_meanwhile_on_its_storage() {
        Consensus consensus = consensus();
        Blob blob = blob();
        CompletableFuture<Void> createdMeanwhile = new CompletableFuture<>();
        Chaos slow = chaos(0);
        Chaos.Trap listing = slow.trap(Chaos.Op.BLOB_LIST, key -> true, "the listing after the empty read", 1,
                Chaos.When.BEFORE, () -> createdMeanwhile);
        CompletableFuture<Deployment> late = replica(clientOf(consensus), as(new ChaosBlob(clientOf(blob), slow), blob))
                .establish();
        await(listing.reached());

        Deployment first = replica(clientOf(consensus), clientOf(blob)).establish(START_TIMEOUT);
        createdMeanwhile.complete(null);

        assertThat(await(late)).isEqualTo(new Deployment(first.id(), false));
    }

    @Test
    void storage_failures_at_start_up_are_retried_until_storage_answers() {
        Consensus consensus = consensus();
        Blob blob = blob();
        // Every call fails, as on a database server that is still starting.
        Chaos chaos = chaos(0).oddsForAll(new Chaos.Odds(1, 0, 0)).enable();

        CompletableFuture<Deployment> start = replica(as(new ChaosConsensus(consensus, chaos), consensus),
                as(new ChaosBlob(blob, chaos), blob)).establish();

        Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> chaos.calls(Chaos.Op.CONSENSUS_HEAD) >= 3);
        assertThat(start).isNotDone();
        chaos.disable();
        Deployment deployment = await(start);
        assertThat(deployment.created()).isTrue();
        assertThat(replica(clientOf(consensus), clientOf(blob)).establish(START_TIMEOUT).id()).isEqualTo(deployment.id());
    }

    @Test
    void random_determinate_and_indeterminate_failures_at_start_up_are_retried() {
        Consensus consensus = consensus();
        Blob blob = blob();
        List<Chaos> chaoses = new ArrayList<>();
        List<CompletableFuture<Deployment>> starts = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            Chaos chaos = chaos(i).oddsForAll(new Chaos.Odds(0.25, 0.25, 0)).enable();
            chaoses.add(chaos);
            starts.add(replica(as(new ChaosConsensus(clientOf(consensus), chaos), consensus),
                    as(new ChaosBlob(clientOf(blob), chaos), blob)).establish());
        }

        List<Deployment> deployments = starts.stream().map(DeploymentIdentityTest::await).toList();
        assertThat(deployments.stream().map(Deployment::id).distinct()).as("%s", chaoses).hasSize(1);
        assertThat(deployments.stream().filter(Deployment::created)).as("%s", chaoses).hasSize(1);
    }

    /** The compare-and-set lands but its reply is lost: the retry mismatches, and the identity read is its own. */
    @Test
    void a_lost_compare_and_set_reply_is_retried_and_the_replica_finds_its_own_identity() {
        Consensus consensus = consensus();
        Blob blob = blob();
        Chaos chaos = chaos(0);
        Chaos.Trap lost = chaos.loseReply(Chaos.Op.CONSENSUS_CAS, key -> true, "the offer", 1,
                () -> CompletableFuture.completedFuture(null));

        Deployment deployment = replica(as(new ChaosConsensus(consensus, chaos), consensus), blob)
                .establish(START_TIMEOUT);

        assertThat(lost.fired()).isTrue();
        assertThat(deployment.created()).isTrue();
        assertThat(keys(blob)).containsExactly(markerKey(deployment.id()));
    }

    @Test
    void storage_that_does_not_answer_fails_start_up_after_the_timeout_naming_both_locations() {
        Consensus consensus = consensus();
        Blob blob = blob();
        Chaos chaos = chaos(0).odds(Chaos.Op.CONSENSUS_HEAD, new Chaos.Odds(1, 0, 0)).enable();
        DeploymentIdentity replica = replica(as(new ChaosConsensus(consensus, chaos), consensus), blob);

        long started = System.nanoTime();
        assertThatThrownBy(() -> replica.establish(Duration.ofMillis(500)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Consensus " + name(consensus) + " and blob store " + name(blob)
                        + " did not complete the deployment identity check within 500 ms"
                        + " (stateversions.deployment.start-timeout)")
                .hasMessageContaining("last error: deployment identity: consensus head: chaos");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));

        // The retries stop: at most the attempt in flight when the check gave up still runs.
        long calls = chaos.calls(Chaos.Op.CONSENSUS_HEAD);
        Awaitility.await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
                .until(() -> chaos.calls(Chaos.Op.CONSENSUS_HEAD) <= calls + 1);
    }

    @Test
    void markers_left_by_starts_that_died_do_not_stop_later_starts() {
        Consensus consensus = consensus();
        Blob blob = blob();
        // A replica that dies before its compare-and-set leaves a pending marker that no consensus names.
        Chaos racer = chaos(0);
        Chaos.Trap racerOffer = racer.hang(Chaos.Op.CONSENSUS_CAS, key -> true, "the racer's offer", 1,
                Chaos.When.BEFORE);
        replica(as(new ChaosConsensus(clientOf(consensus), racer), consensus), clientOf(blob)).establish();
        await(racerOffer.reached());
        // The creator dies after its compare-and-set, before it marks the blob store created (its second set).
        Chaos creator = chaos(1);
        Chaos.Trap claim = creator.hang(Chaos.Op.BLOB_SET, key -> true, "the claim", 2, Chaos.When.BEFORE);
        replica(clientOf(consensus), as(new ChaosBlob(clientOf(blob), creator), blob)).establish();
        String created = await(claim.reached());
        assertThat(text(await(blob.get(created)).orElseThrow())).contains("state=pending");

        Deployment restarted = replica(clientOf(consensus), clientOf(blob)).establish(START_TIMEOUT);

        assertThat(markerKey(restarted.id())).isEqualTo(created);
        assertThat(restarted.created()).isFalse();
        assertThat(text(await(blob.get(created)).orElseThrow())).contains("state=created");
        assertThat(keys(blob)).hasSize(2);
    }

    @Test
    void deployments_on_an_in_process_consensus_claim_no_blob_store_and_refuse_one_a_durable_deployment_claims() {
        Blob blob = blob();
        Deployment first = replica(named(new MemoryConsensus(), "mem://"), blob, true).establish(START_TIMEOUT);
        Deployment second = replica(named(new MemoryConsensus(), "mem://"), clientOf(blob), true)
                .establish(START_TIMEOUT);
        assertThat(second.id()).isNotEqualTo(first.id());
        assertThat(second.created()).isTrue();

        Deployment durable = replica(consensus(), clientOf(blob)).establish(START_TIMEOUT);

        assertThatThrownBy(() -> replica(named(new MemoryConsensus(), "mem://"), clientOf(blob), true)
                .establish(START_TIMEOUT))
                .isInstanceOf(MismatchException.class)
                .hasMessageContaining("Blob store " + name(blob) + " belongs to deployment " + durable.id());
    }

    @Test
    void the_readiness_checks_fail_once_the_marker_is_deleted() {
        Consensus consensus = consensus();
        Blob blob = blob();
        DeploymentIdentity replica = replica(consensus, blob);
        assertThatThrownBy(() -> await(replica.checkBlob())).hasMessageContaining("not checked yet");
        Deployment deployment = replica.establish(START_TIMEOUT);
        await(replica.checkConsensus());
        await(replica.checkBlob());

        await(blob.delete(markerKey(deployment.id())));

        await(replica.checkConsensus());
        assertThatThrownBy(() -> await(replica.checkBlob())).cause().isInstanceOf(MismatchException.class)
                .hasMessageContaining("blob store " + name(blob) + " lacks " + markerKey(deployment.id()));
    }

    // --------------------------------------------------------------------------------------------------- helpers

    private Consensus consensus() {
        return named(openConsensus(), "consensus#" + (names.size() + 1));
    }

    private Blob blob() {
        return named(openBlob(), "blob#" + (names.size() + 1));
    }

    private Consensus clientOf(Consensus consensus) {
        return as(peer(consensus), consensus);
    }

    private Blob clientOf(Blob blob) {
        return as(peer(blob), blob);
    }

    private <T extends AutoCloseable> T named(T store, String name) {
        opened.add(store);
        names.put(store, name);
        return store;
    }

    /** {@code client} reaches {@code store}: it takes its name, and is closed after the test. */
    private <T extends AutoCloseable> T as(T client, Object store) {
        if (!names.containsKey(client)) {
            named(client, name(store));
        }
        return client;
    }

    private String name(Object store) {
        return names.get(store);
    }

    private DeploymentIdentity replica(Consensus consensus, Blob blob) {
        return replica(consensus, blob, false);
    }

    private DeploymentIdentity replica(Consensus consensus, Blob blob, boolean consensusInProcess) {
        return new DeploymentIdentity(consensus, blob, new Locations(name(consensus), name(blob)),
                consensusInProcess);
    }

    private static Chaos chaos(int replica) {
        return new Chaos("replica " + replica, Chaos.seed(20_261_124L + replica));
    }

    /**
     * Starts {@code n} replicas, each with its own {@link Chaos}, and holds the {@code nth} call of {@code op} of
     * each until all of them have reached it: e.g. every compare-and-set of a fleet's first start waits until every
     * replica has read the empty identity and offered its own.
     */
    private List<CompletableFuture<Deployment>> startAtOnce(int n, Chaos.Op op, long nth,
            Function<Chaos, DeploymentIdentity> replicaWith) {
        CompletableFuture<Void> allReached = new CompletableFuture<>();
        List<Chaos.Trap> traps = new ArrayList<>();
        List<CompletableFuture<Deployment>> starts = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Chaos chaos = chaos(i);
            traps.add(chaos.trap(op, key -> true, "held until every replica reaches it", nth, Chaos.When.BEFORE,
                    () -> allReached));
            starts.add(replicaWith.apply(chaos).establish());
        }
        CompletableFuture.allOf(traps.stream().map(Chaos.Trap::reached).toArray(CompletableFuture[]::new))
                .thenRun(() -> allReached.complete(null));
        return starts;
    }

    private List<String> keys(Blob blob) {
        List<String> keys = Collections.synchronizedList(new ArrayList<>());
        await(blob.list("", metadata -> keys.add(metadata.key())));
        return keys;
    }

    private static String text(byte[] value) {
        return new String(value, StandardCharsets.UTF_8);
    }

    static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new CompletionException(e.getCause());
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
