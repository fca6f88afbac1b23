package io.stateversions.location;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.stateversions.core.SeqNo;
import io.stateversions.testing.Appender;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Consensus} contract (spec §7), once for every backend. A backend's test only says how to open a fresh,
 * isolated location, how to re-open one, and how to get a second client of the same location (in production: a
 * second replica). Nothing here may depend on the backend.
 */
public abstract class ConsensusContractTest extends LocationContractTest<Consensus> {


    /** A fresh, empty location with its own client. */
    protected abstract Consensus open();

    /** Closes {@code consensus} and opens a new client of the same location. */
    protected abstract Consensus reopen(Consensus consensus);

    /** A second client of the same location, independent of the first where the backend allows it. */
    protected abstract Consensus peer(Consensus consensus);

    protected Consensus consensus;

    @BeforeEach
    void openLocation() {
        consensus = track(open());
    }



    // ---------------------------------------------------------------------------------------------------------
    // Keys without data

    @Test
    void keyWithoutDataIsEmpty() {
        assertThat(await(consensus.head("s1"))).isEmpty();
        assertThat(await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL))).isEmpty();
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(1)), entry(2, "x"))))
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertViolation(consensus.truncate("s1", SeqNo.of(1)), "no data");
        assertViolation(consensus.truncate("s1", SeqNo.MIN), "no data");
        assertThat(await(consensus.head("s1"))).as("a failed CaS or truncate creates nothing").isEmpty();
        assertThat(await(consensus.listKeys("", 100))).doesNotContain("s1");
    }

    @Test
    void emptyStringIsNotAKey() {
        assertViolation(consensus.head(""), "key must not be empty");
        assertViolation(consensus.compareAndSet("", Optional.empty(), entry(1, "x")), "key must not be empty");
        assertViolation(consensus.scan("", SeqNo.MIN, 1), "key must not be empty");
        assertViolation(consensus.truncate("", SeqNo.MIN), "key must not be empty");
        assertThat(await(consensus.listKeys("", 100))).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Compare-and-set

    @Test
    void firstCommitRequiresAnEmptyKey() {
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(1, "one")))).isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.head("s1"))).contains(entry(1, "one"));
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(2, "two"))))
                .as("expected = none on a key with data")
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(await(consensus.head("s1"))).contains(entry(1, "one"));
    }

    @Test
    void commitsAppendAndKeepHistory() {
        appendRange("s1", 1, 3);
        assertThat(await(consensus.head("s1"))).contains(entry(3, "v3"));
        assertThat(await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL)))
                .containsExactly(entry(1, "v1"), entry(2, "v2"), entry(3, "v3"));
    }

    @Test
    void expectedTooLowOrTooHighIsAMismatchAndWritesNothing() {
        appendRange("s1", 1, 5);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(4)), entry(5, "stale"))))
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(6)), entry(7, "future"))))
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.MIN), entry(1, "zero"))))
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(seqnos("s1")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(await(consensus.head("s1"))).contains(entry(5, "v5"));
    }

    @Test
    void newSeqnoOtherThanExpectedPlusOneIsAnErrorNotAMismatch() {
        appendRange("s1", 1, 5);
        for (long seqno : new long[] {5, 3, 7, 100}) {
            assertViolation(consensus.compareAndSet("s1", Optional.of(SeqNo.of(5)), entry(seqno, "v" + seqno)),
                    "must be expected + 1");
        }
        // Also when the expectation itself is wrong: the precondition is checked first.
        assertViolation(consensus.compareAndSet("s1", Optional.of(SeqNo.of(9)), entry(2, "lower")),
                "must be expected + 1");
        assertViolation(consensus.compareAndSet("s1", Optional.of(SeqNo.MAX), entry(5, "beyond")),
                "must be expected + 1");
        assertThat(seqnos("s1")).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void theFirstEntryMayHaveAnySeqno() {
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(10, "ten"))))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(10)), entry(11, "eleven"))))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(seqnos("s1")).containsExactly(10L, 11L);
    }

    @Test
    void seqnosSpanZeroToTwoToTheSixtyThreeMinusOne() {
        assertThat(await(consensus.compareAndSet("s0", Optional.empty(), entry(0, "zero")))).isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.compareAndSet("s0", Optional.of(SeqNo.MIN), entry(1, "one"))))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.scan("s0", SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(entry(0, "zero"),
                entry(1, "one"));
        VersionedData beforeMax = new VersionedData(SeqNo.of(Long.MAX_VALUE - 1), bytes("max-1"));
        VersionedData max = new VersionedData(SeqNo.MAX, bytes("max"));
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), beforeMax))).isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(beforeMax.seqno()), max)))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.head("s1"))).contains(max);
        assertThat(await(consensus.scan("s1", SeqNo.MAX, 1))).containsExactly(max);
        assertThat(await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(beforeMax, max);
        assertThat(await(consensus.truncate("s1", SeqNo.MAX))).isEqualTo(1L);
        assertThat(await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(max);
        // Beyond the bounds a seqno cannot even be formed, so no backend can be asked to store one.
        assertThatThrownBy(() -> SeqNo.of(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> SeqNo.parse("v9223372036854775808")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(SeqNo.MAX::next).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void payloadsRoundTripExactly() {
        byte[] tenKib = new byte[10 * 1024];
        new Random(42).nextBytes(tenKib);
        byte[] empty = new byte[0];
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), new VersionedData(SeqNo.of(1), tenKib))))
                .isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(1)), new VersionedData(SeqNo.of(2), empty))))
                .isEqualTo(CasResult.COMMITTED);
        List<VersionedData> all = await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL));
        assertThat(all.get(0).data()).isEqualTo(tenKib);
        assertThat(all.get(1).data()).isEmpty();
        assertThat(await(track(reopen(consensus)).head("s1")).orElseThrow().data()).isEmpty();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Scan

    @Test
    void scanHonoursFromAndLimit() {
        appendRange("s1", 1, 10);
        assertThat(seqnosOf(await(consensus.scan("s1", SeqNo.of(1), 3)))).containsExactly(1L, 2L, 3L);
        assertThat(seqnosOf(await(consensus.scan("s1", SeqNo.of(4), Consensus.SCAN_ALL))))
                .containsExactly(4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(seqnosOf(await(consensus.scan("s1", SeqNo.of(10), 5)))).containsExactly(10L);
        assertThat(await(consensus.scan("s1", SeqNo.of(11), 5))).isEmpty();
        assertThat(await(consensus.scan("s1", SeqNo.MIN, 0))).isEmpty();
        assertThat(seqnosOf(await(consensus.scan("s1", SeqNo.MIN, 1)))).containsExactly(1L);
        assertViolation(consensus.scan("s1", SeqNo.MIN, -1), "limit must be >= 0");
    }

    @Test
    void scanStartsAtTheNextExistingSeqno() {
        appendRange("s1", 1, 5);
        assertThat(await(consensus.truncate("s1", SeqNo.of(5)))).isEqualTo(4L);
        assertThat(seqnosOf(await(consensus.scan("s1", SeqNo.of(2), Consensus.SCAN_ALL)))).containsExactly(5L);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Truncate

    @Test
    void truncateDeletesBelowAndCounts() {
        appendRange("s1", 1, 10);
        assertThat(await(consensus.truncate("s1", SeqNo.of(4)))).isEqualTo(3L);
        assertThat(seqnos("s1")).containsExactly(4L, 5L, 6L, 7L, 8L, 9L, 10L);
        assertThat(await(consensus.truncate("s1", SeqNo.of(4)))).as("repeated").isEqualTo(0L);
        assertThat(await(consensus.truncate("s1", SeqNo.of(2)))).as("below the earliest").isEqualTo(0L);
        assertThat(await(consensus.truncate("s1", SeqNo.MIN))).isEqualTo(0L);
        assertThat(await(consensus.truncate("s1", SeqNo.of(10)))).as("up to the head").isEqualTo(6L);
        assertThat(seqnos("s1")).containsExactly(10L);
        assertThat(await(consensus.truncate("s1", SeqNo.of(10)))).isEqualTo(0L);
        assertThat(await(consensus.head("s1"))).contains(entry(10, "v10"));
    }

    @Test
    void truncateBeyondTheHeadIsAnErrorAndDeletesNothing() {
        appendRange("s1", 1, 5);
        assertViolation(consensus.truncate("s1", SeqNo.of(6)), "head is v5");
        assertViolation(consensus.truncate("s1", SeqNo.MAX), "upper bound too high");
        assertThat(seqnos("s1")).containsExactly(1L, 2L, 3L, 4L, 5L);
    }

    @Test
    void commitsContinueAfterTruncation() {
        appendRange("s1", 1, 5);
        assertThat(await(consensus.truncate("s1", SeqNo.of(5)))).isEqualTo(4L);
        assertThat(await(consensus.compareAndSet("s1", Optional.of(SeqNo.of(4)), entry(5, "x"))))
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(await(consensus.compareAndSet("s1", Optional.empty(), entry(6, "x"))))
                .as("a truncated key still has data")
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        appendRange("s1", 6, 7);
        assertThat(seqnos("s1")).containsExactly(5L, 6L, 7L);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Keys

    @Test
    void keysAreIndependent() {
        appendRange("s1", 1, 5);
        appendRange("s2", 1, 2);
        assertThat(await(consensus.truncate("s1", SeqNo.of(5)))).isEqualTo(4L);
        assertThat(seqnos("s2")).containsExactly(1L, 2L);
        assertThat(await(consensus.compareAndSet("s2", Optional.of(SeqNo.of(5)), entry(6, "x"))))
                .as("s1's head does not satisfy an expectation on s2")
                .isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertViolation(consensus.truncate("s2", SeqNo.of(5)), "head is v2");
        assertThat(await(consensus.head("s1"))).contains(entry(5, "v5"));
    }

    @Test
    void listKeysPagesInCodePointOrder() {
        // U+FFFD sorts before U+1F600 by code point (and in UTF-8), after it by UTF-16 (String.compareTo).
        List<String> keys = new ArrayList<>(List.of("s-\uFFFD", "s-\uD83D\uDE00", "s-Z", "s-a", "s-\u00E9", "s-b"));
        IntStream.range(0, 20).forEach(i -> keys.add(String.format("k%03d", i)));
        for (String key : keys) {
            assertThat(await(consensus.compareAndSet(key, Optional.empty(), entry(1, key)))).isEqualTo(CasResult.COMMITTED);
        }
        List<String> expected = keys.stream().sorted(KeyOrder.CODE_POINT).toList();
        assertThat(expected).containsSubsequence("s-\uFFFD", "s-\uD83D\uDE00");

        List<String> listed = new ArrayList<>();
        String after = "";
        while (true) {
            List<String> page = await(consensus.listKeys(after, 7));
            assertThat(page.size()).isLessThanOrEqualTo(7);
            if (page.isEmpty()) {
                break;
            }
            listed.addAll(page);
            after = page.get(page.size() - 1);
        }
        assertThat(listed).containsExactlyElementsOf(expected);
        assertThat(await(consensus.listKeys("s-a", 100))).containsExactly("s-b", "s-\u00E9", "s-\uFFFD", "s-\uD83D\uDE00");
        assertViolation(consensus.listKeys("", 0), "limit must be > 0");
    }

    @Test
    void truncatedKeysAreStillListed() {
        appendRange("s1", 1, 3);
        await(consensus.truncate("s1", SeqNo.of(3)));
        assertThat(await(consensus.listKeys("", 10))).containsExactly("s1");
    }

    // ---------------------------------------------------------------------------------------------------------
    // Locations

    @Test
    void dataSurvivesReopening() {
        appendRange("s1", 1, 3);
        await(consensus.truncate("s1", SeqNo.of(2)));
        Consensus reopened = track(reopen(consensus));
        assertThat(await(reopened.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL))).containsExactly(entry(2, "v2"), entry(3, "v3"));
        assertThat(await(reopened.compareAndSet("s1", Optional.of(SeqNo.of(3)), entry(4, "v4")))).isEqualTo(CasResult.COMMITTED);
    }

    @Test
    void locationsAreIsolated() {
        Consensus other = track(open());
        appendRange("s1", 1, 3);
        assertThat(await(other.head("s1"))).isEmpty();
        assertThat(await(other.listKeys("", 10))).isEmpty();
        assertThat(await(other.compareAndSet("s1", Optional.empty(), entry(7, "other")))).isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.head("s1"))).contains(entry(3, "v3"));
        assertThat(await(other.head("s1"))).contains(entry(7, "other"));
    }

    @Test
    void peersSeeEachOthersCommits() {
        Consensus peer = track(peer(consensus));
        appendRange("s1", 1, 2);
        assertThat(await(peer.head("s1"))).contains(entry(2, "v2"));
        assertThat(await(peer.compareAndSet("s1", Optional.of(SeqNo.of(2)), entry(3, "peer")))).isEqualTo(CasResult.COMMITTED);
        assertThat(await(consensus.head("s1"))).contains(entry(3, "peer"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Groups

    @Test
    void aGroupDecidesEachMemberOnItsOwnKey() {
        appendRange("a", 1, 1);
        appendRange("b", 1, 2);
        appendRange("d", 1, 3);
        List<Consensus.CasRequest> group = List.of(
                new Consensus.CasRequest("a", SeqNo.of(1), entry(2, "a2")), // head: commits
                new Consensus.CasRequest("b", SeqNo.of(1), entry(2, "b2")), // stale
                new Consensus.CasRequest("c", SeqNo.of(1), entry(2, "c2")), // no data
                new Consensus.CasRequest("d", SeqNo.of(4), entry(5, "d5"))); // from the future

        List<Object> outcomes = consensus.compareAndSetAll(group).stream().map(ConsensusContractTest::outcome).toList();

        assertThat(outcomes).containsExactly(CasResult.COMMITTED, CasResult.EXPECTATION_MISMATCH,
                CasResult.EXPECTATION_MISMATCH, CasResult.EXPECTATION_MISMATCH);
        assertThat(seqnos("a")).containsExactly(1L, 2L);
        assertThat(await(consensus.head("a"))).contains(entry(2, "a2"));
        assertThat(seqnos("b")).containsExactly(1L, 2L);
        assertThat(await(consensus.head("b"))).contains(entry(2, "v2"));
        assertThat(await(consensus.head("c"))).isEmpty();
        assertThat(seqnos("d")).containsExactly(1L, 2L, 3L);
        assertThat(consensus.compareAndSetAll(List.of())).isEmpty();
    }

    @Test
    void anInvalidGroupFailsEveryMemberAndWritesNothing() {
        appendRange("a", 1, 1);
        appendRange("b", 1, 1);
        List<List<Consensus.CasRequest>> invalid = List.of(
                List.of(new Consensus.CasRequest("a", SeqNo.of(1), entry(2, "x")),
                        new Consensus.CasRequest("a", SeqNo.of(2), entry(3, "y"))),
                List.of(new Consensus.CasRequest("a", SeqNo.of(1), entry(2, "x")),
                        new Consensus.CasRequest("b", SeqNo.of(1), entry(5, "jump"))),
                List.of(new Consensus.CasRequest("a", SeqNo.of(1), entry(2, "x")),
                        new Consensus.CasRequest("", SeqNo.of(1), entry(2, "no key"))));
        for (List<Consensus.CasRequest> group : invalid) {
            List<CompletionStage<CasResult>> outcomes = consensus.compareAndSetAll(group);
            assertThat(outcomes).hasSize(group.size());
            for (CompletionStage<CasResult> outcome : outcomes) {
                assertThat(outcome(outcome)).as("group %s", group).isInstanceOf(ContractViolation.class);
            }
        }
        assertThat(seqnos("a")).containsExactly(1L);
        assertThat(seqnos("b")).containsExactly(1L);
    }

    /**
     * Groups from two clients over overlapping keys, and single compare-and-sets of the same keys, all at once: on
     * every key exactly one writer of each seqno commits, every acknowledged commit is in the log with its
     * payload, and the log has no gap.
     */
    @Test
    void concurrentGroupsAndSingleCasFromTwoClientsLoseNoCommit() throws Exception {
        Consensus peer = track(peer(consensus));
        List<String> keys = List.of("g0", "g1", "g2", "g3", "g4", "g5");
        for (String key : keys) {
            appendRange(key, 1, 1);
        }
        int workers = 6;
        int rounds = 20;
        Map<String, String> committed = new java.util.concurrent.ConcurrentHashMap<>();
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                Consensus client = w % 2 == 0 ? consensus : peer;
                int worker = w;
                done.add(threads.submit(() -> {
                    java.util.Random random = new java.util.Random(worker);
                    for (int round = 0; round < rounds; round++) {
                        List<String> chosen = new ArrayList<>(keys);
                        Collections.shuffle(chosen, random);
                        chosen = chosen.subList(0, 1 + random.nextInt(keys.size()));
                        List<Consensus.CasRequest> group = new ArrayList<>();
                        for (String key : chosen) {
                            SeqNo head = await(client.head(key)).orElseThrow().seqno();
                            group.add(new Consensus.CasRequest(key, head, entry(head.value() + 1,
                                    "w" + worker + "r" + round + key)));
                        }
                        List<CompletionStage<CasResult>> outcomes = group.size() == 1 && worker % 3 == 0
                                ? List.of(client.compareAndSet(group.get(0).key(), Optional.of(group.get(0).expected()),
                                        group.get(0).newData()))
                                : client.compareAndSetAll(group);
                        for (int i = 0; i < group.size(); i++) {
                            Object outcome = outcome(outcomes.get(i));
                            assertThat(outcome).as("only commits and mismatches: no serialization failures")
                                    .isIn(CasResult.COMMITTED, CasResult.EXPECTATION_MISMATCH);
                            if (outcome == CasResult.COMMITTED) {
                                Consensus.CasRequest r = group.get(i);
                                String previous = committed.put(r.key() + "@" + r.newData().seqno().value(),
                                        new String(r.newData().data(), StandardCharsets.UTF_8));
                                assertThat(previous).as("%s committed twice", r).isNull();
                            }
                        }
                    }
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        int total = 0;
        for (String key : keys) {
            List<VersionedData> log = await(consensus.scan(key, SeqNo.MIN, Consensus.SCAN_ALL));
            assertThat(seqnosOf(log)).containsExactlyElementsOf(LongStream.rangeClosed(1, log.size()).boxed().toList());
            for (VersionedData entry : log.subList(1, log.size())) {
                assertThat(new String(entry.data(), StandardCharsets.UTF_8)).as("%s at %s", key, entry.seqno())
                        .isEqualTo(committed.get(key + "@" + entry.seqno().value()));
                total++;
            }
        }
        assertThat(committed).hasSize(total);
        assertThat(total).as("commits").isGreaterThan(keys.size());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Concurrency

    @Test
    void sixteenConcurrentCasOnOneExpectedValueCommitExactlyOne() throws Exception {
        Consensus peer = track(peer(consensus));
        appendRange("s1", 1, 1);
        int racers = 16;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(racers);
        try {
            List<Future<Object>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                Consensus client = i % 2 == 0 ? consensus : peer;
                VersionedData attempt = entry(2, "racer-" + i);
                outcomes.add(threads.submit(() -> {
                    start.await();
                    return outcome(client.compareAndSet("s1", Optional.of(SeqNo.of(1)), attempt));
                }));
            }
            start.countDown();
            List<Object> results = new ArrayList<>();
            for (Future<Object> outcome : outcomes) {
                results.add(outcome.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            }
            assertThat(results).filteredOn(r -> r == CasResult.COMMITTED).hasSize(1);
            // Losers lost: a mismatch, or a failure that certainly did not happen (a serialization failure).
            assertThat(results).allMatch(r -> r == CasResult.COMMITTED || r == CasResult.EXPECTATION_MISMATCH
                    || r instanceof Determinate, "only commits, mismatches and determinate failures");
            int winner = results.indexOf(CasResult.COMMITTED);
            assertThat(await(consensus.head("s1"))).contains(entry(2, "racer-" + winner));
            assertThat(seqnos("s1")).containsExactly(1L, 2L);
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * Initializations of different keys do not conflict: 64 at once, from two clients, all commit at their first
     * attempt. (On PostgreSQL at SERIALIZABLE, the existence check of a missing key took a predicate lock on an index
     * page, and inserts of other keys into that page aborted with 40001: new shards opened together failed.)
     */
    @Test
    void concurrentInitializationsOfDifferentKeysAllCommit() throws Exception {
        Consensus peer = track(peer(consensus));
        int racers = 64;
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService threads = Executors.newFixedThreadPool(16);
        try {
            List<Future<Object>> outcomes = new ArrayList<>();
            for (int i = 0; i < racers; i++) {
                Consensus client = i % 2 == 0 ? consensus : peer;
                String key = "init-" + java.util.UUID.randomUUID();
                outcomes.add(threads.submit(() -> {
                    start.await();
                    return outcome(client.compareAndSet(key, Optional.empty(), entry(1, key)));
                }));
            }
            start.countDown();
            List<Object> results = new ArrayList<>();
            for (Future<Object> outcome : outcomes) {
                results.add(outcome.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
            }
            assertThat(results).as("outcomes of %d initializations of distinct keys", racers)
                    .allMatch(r -> r == CasResult.COMMITTED);
        } finally {
            threads.shutdownNow();
        }
    }

    /**
     * The linearizability check of compare-and-set under contention: workers on two clients (two replicas) each
     * append {@code perWorker} entries by read-head-then-CaS. Every entry a worker was told is committed must be
     * in the log at the seqno it committed, with its payload; nothing else may be in the log; no seqno is skipped.
     */
    @Test
    void concurrentAppendersFromTwoClientsLoseNoCommit() throws Exception {
        Consensus peer = track(peer(consensus));
        int workers = 8;
        int perWorker = 25;
        ExecutorService threads = Executors.newFixedThreadPool(workers);
        Map<Long, String> committed = Collections.synchronizedMap(new HashMap<>());
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < workers; w++) {
                Consensus client = w % 2 == 0 ? consensus : peer;
                String worker = "w" + w;
                done.add(threads.submit(() -> {
                    Appender.append(client, "s1", worker, perWorker, (seqno, payload) ->
                            assertThat(committed.put(seqno, payload)).as("seqno %d committed twice", seqno).isNull());
                    return null;
                }));
            }
            for (Future<?> future : done) {
                future.get(TIMEOUT.toSeconds() * 2, TimeUnit.SECONDS);
            }
        } finally {
            threads.shutdownNow();
        }
        long total = (long) workers * perWorker;
        List<VersionedData> log = await(consensus.scan("s1", SeqNo.MIN, Consensus.SCAN_ALL));
        assertThat(seqnosOf(log)).containsExactlyElementsOf(LongStream.rangeClosed(1, total).boxed().toList());
        for (VersionedData entry : log) {
            assertThat(new String(entry.data(), StandardCharsets.UTF_8))
                    .as("payload at %s", entry.seqno())
                    .isEqualTo(committed.get(entry.seqno().value()));
        }
        assertThat(committed).hasSize((int) total);
    }

    /**
     * Appends racing truncations: the head is never lost and the live entries stay contiguous. Every ten appends
     * the appender waits for a truncation that finished after that point, so the two really interleave on every
     * backend, however fast.
     */
    @Test
    void compareAndSetRacingTruncate() throws Exception {
        Consensus peer = track(peer(consensus));
        appendRange("s1", 1, 1);
        int appends = 150;
        AtomicBoolean appending = new AtomicBoolean(true);
        AtomicInteger truncations = new AtomicInteger();
        Semaphore truncated = new Semaphore(0);
        CompletableFuture<Void> truncator = CompletableFuture.runAsync(() -> {
            while (appending.get()) {
                Optional<VersionedData> head = await(peer.head("s1"));
                // Truncating to a head once read is always valid: the head only grows and is never deleted.
                await(retryDeterminate(() -> peer.truncate("s1", head.orElseThrow().seqno())));
                truncations.incrementAndGet();
                truncated.release();
            }
        });
        try {
            for (long seqno = 2; seqno <= appends + 1; ) {
                if (seqno % 10 == 0) {
                    truncated.drainPermits();
                    assertThat(truncated.tryAcquire(TIMEOUT.toSeconds(), TimeUnit.SECONDS)).isTrue();
                }
                Object result = outcome(consensus.compareAndSet("s1", Optional.of(SeqNo.of(seqno - 1)), entry(seqno, "v" + seqno)));
                if (result == CasResult.COMMITTED) {
                    seqno++;
                } else {
                    assertThat(result).as("the only writer can lose only to a serialization failure")
                            .isInstanceOf(Determinate.class);
                }
            }
        } finally {
            appending.set(false);
        }
        truncator.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(truncations.get()).isGreaterThanOrEqualTo(appends / 10);
        assertThat(await(consensus.head("s1"))).contains(entry(appends + 1, "v" + (appends + 1)));
        List<Long> live = seqnos("s1");
        assertThat(live).isNotEmpty().endsWith((long) appends + 1);
        assertThat(live).containsExactlyElementsOf(LongStream.rangeClosed(live.get(0), appends + 1).boxed().toList());
    }

    // ---------------------------------------------------------------------------------------------------------

    protected static VersionedData entry(long seqno, String data) {
        return new VersionedData(SeqNo.of(seqno), bytes(data));
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private void appendRange(String key, long from, long to) {
        for (long seqno = from; seqno <= to; seqno++) {
            Optional<SeqNo> expected = seqno == from ? await(consensus.head(key)).map(VersionedData::seqno)
                    : Optional.of(SeqNo.of(seqno - 1));
            assertThat(await(consensus.compareAndSet(key, expected, entry(seqno, "v" + seqno))))
                    .isEqualTo(CasResult.COMMITTED);
        }
    }

    private List<Long> seqnos(String key) {
        return seqnosOf(await(consensus.scan(key, SeqNo.MIN, Consensus.SCAN_ALL)));
    }

    private static List<Long> seqnosOf(List<VersionedData> entries) {
        return entries.stream().map(e -> e.seqno().value()).toList();
    }

    /** The value, or the failure (unwrapped) as a value. */
    private static Object outcome(CompletionStage<?> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static <T> CompletionStage<T> retryDeterminate(Supplier<CompletionStage<T>> call) {
        return call.get().handle((value, error) -> {
            if (error != null && Failures.unwrap(error) instanceof Determinate) {
                return retryDeterminate(call);
            }
            return error == null ? CompletableFuture.completedFuture(value) : CompletableFuture.<T>failedFuture(error);
        }).thenCompose(s -> s);
    }


    private static void assertViolation(CompletionStage<?> stage, String message) {
        assertThat(stage).as("reported through the stage, not thrown").isNotNull();
        assertThatThrownBy(() -> await(stage))
                .isInstanceOf(CompletionException.class)
                .cause()
                .isInstanceOf(ContractViolation.class)
                .hasMessageContaining(message);
    }
}
