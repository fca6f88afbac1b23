package io.stateversions.location;

import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.SeqNo;
import io.stateversions.location.Consensus.CasRequest;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;

/** Group commit's queueing rules, with a sender the test answers by hand. */
class GroupCommitterTest {

    /** Every group sent, and the future that answers it. */
    private final List<List<CasRequest>> sent = Collections.synchronizedList(new ArrayList<>());
    private final List<CompletableFuture<List<CasResult>>> answers = Collections.synchronizedList(new ArrayList<>());
    private final List<Integer> sizes = Collections.synchronizedList(new ArrayList<>());

    private GroupCommitter committer(int maxSize, int maxInFlight) {
        return new GroupCommitter(maxSize, maxInFlight, group -> {
            CompletableFuture<List<CasResult>> answer = new CompletableFuture<>();
            sent.add(group);
            answers.add(answer);
            return answer;
        }, sizes::add);
    }

    private static CasRequest cas(String key, long expected) {
        return new CasRequest(key, SeqNo.of(expected),
                new VersionedData(SeqNo.of(expected + 1), key.getBytes(StandardCharsets.UTF_8)));
    }

    private static List<CasResult> committed(int n) {
        return Collections.nCopies(n, CasResult.COMMITTED);
    }

    @Test
    void aLoneCompareAndSetGoesAtOnceAndAlone() {
        GroupCommitter committer = committer(32, 2);
        CompletionStage<CasResult> a = committer.submit(cas("a", 1));

        assertThat(sent).containsExactly(List.of(cas("a", 1)));
        answers.get(0).complete(List.of(CasResult.EXPECTATION_MISMATCH));
        assertThat(a.toCompletableFuture().join()).isEqualTo(CasResult.EXPECTATION_MISMATCH);
        assertThat(sizes).containsExactly(1);
    }

    @Test
    void whileEverySlotIsBusyCompareAndSetsQueueAndGoTogetherWhenOneFrees() {
        GroupCommitter committer = committer(3, 1);
        CompletionStage<CasResult> first = committer.submit(cas("a", 1));
        List<CompletionStage<CasResult>> queued = new ArrayList<>();
        for (String key : List.of("b", "c", "d", "e")) {
            queued.add(committer.submit(cas(key, 1)));
        }
        assertThat(sent).hasSize(1);

        answers.get(0).complete(committed(1));
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1)).containsExactly(cas("b", 1), cas("c", 1), cas("d", 1));
        assertThat(first.toCompletableFuture().join()).isEqualTo(CasResult.COMMITTED);
        answers.get(1).complete(List.of(CasResult.COMMITTED, CasResult.EXPECTATION_MISMATCH, CasResult.COMMITTED));
        assertThat(sent.get(2)).containsExactly(cas("e", 1));
        answers.get(2).complete(committed(1));

        assertThat(queued).extracting(s -> s.toCompletableFuture().join()).containsExactly(CasResult.COMMITTED,
                CasResult.EXPECTATION_MISMATCH, CasResult.COMMITTED, CasResult.COMMITTED);
        assertThat(sizes).containsExactly(1, 3, 1);
        // All slots free again: the next one goes at once.
        committer.submit(cas("f", 1));
        assertThat(sent).hasSize(4);
    }

    @Test
    void aFurtherGroupGoesWhileOneIsInFlightOnlyWhenItIsFull() {
        GroupCommitter committer = committer(3, 2);
        committer.submit(cas("a", 1));
        committer.submit(cas("b", 1));
        committer.submit(cas("c", 1));
        // A slot is free, but the two queued would make a small group: they wait for the one in flight.
        assertThat(sent).hasSize(1);

        committer.submit(cas("d", 1));
        // Three are waiting: a full group, which goes in the second slot.
        assertThat(sent).hasSize(2);
        assertThat(sent.get(1)).containsExactly(cas("b", 1), cas("c", 1), cas("d", 1));

        // Both slots busy: even a full group waits.
        for (String key : List.of("e", "f", "g", "h")) {
            committer.submit(cas(key, 1));
        }
        assertThat(sent).hasSize(2);

        // A slot frees: a full group of the queued goes in it.
        answers.get(0).complete(committed(1));
        assertThat(sent).hasSize(3);
        assertThat(sent.get(2)).containsExactly(cas("e", 1), cas("f", 1), cas("g", 1));
        // Another frees, but the one left is no full group: it waits until nothing is in flight.
        answers.get(1).complete(committed(3));
        assertThat(sent).hasSize(3);
        answers.get(2).complete(committed(3));
        assertThat(sent).hasSize(4);
        assertThat(sent.get(3)).containsExactly(cas("h", 1));
        assertThat(sizes).containsExactly(1, 3, 3, 1);
    }

    @Test
    void aKeyIsNeverTwiceInOneGroupItsSecondCompareAndSetWaitsInOrder() {
        GroupCommitter committer = committer(8, 1);
        committer.submit(cas("x", 0));
        committer.submit(cas("a", 1));
        committer.submit(cas("a", 2));
        committer.submit(cas("b", 1));
        committer.submit(cas("a", 3));

        answers.get(0).complete(committed(1));
        assertThat(sent.get(1)).containsExactly(cas("a", 1), cas("b", 1));
        answers.get(1).complete(committed(2));
        assertThat(sent.get(2)).containsExactly(cas("a", 2));
        answers.get(2).complete(committed(1));
        assertThat(sent.get(3)).containsExactly(cas("a", 3));
    }

    @Test
    void aFailedGroupFailsEveryMemberWithItsError() {
        GroupCommitter committer = committer(8, 1);
        committer.submit(cas("x", 0));
        CompletionStage<CasResult> a = committer.submit(cas("a", 1));
        CompletionStage<CasResult> b = committer.submit(cas("b", 1));
        answers.get(0).complete(committed(1));

        Indeterminate lost = new Indeterminate("reply lost");
        answers.get(1).completeExceptionally(lost);

        for (CompletionStage<CasResult> member : List.of(a, b)) {
            assertThat(member.toCompletableFuture()).failsWithin(java.time.Duration.ZERO)
                    .withThrowableOfType(java.util.concurrent.ExecutionException.class).havingCause().isSameAs(lost);
        }
    }

    @Test
    void anAnswerOfTheWrongLengthFailsEveryMember() {
        GroupCommitter committer = committer(8, 1);
        committer.submit(cas("x", 0));
        CompletionStage<CasResult> a = committer.submit(cas("a", 1));
        committer.submit(cas("b", 1));
        answers.get(0).complete(committed(1));
        answers.get(1).complete(committed(1));

        assertThat(a.toCompletableFuture()).failsWithin(java.time.Duration.ZERO)
                .withThrowableOfType(java.util.concurrent.ExecutionException.class).havingCause()
                .withMessageContaining("invariant violated").withMessageContaining("group of 2");
    }
}
