package io.stateversions.location;

import io.stateversions.core.SeqNo;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * A linearizable, versioned log per key: persist's Consensus (spec §7). In state-versions the key is a shard id
 * and each entry holds the encoded diff that produced that version of the shard's state.
 *
 * <h2>Contract</h2>
 * <ul>
 *   <li>Operations on one key are linearizable; different keys are independent.</li>
 *   <li>The seqnos of a key only grow. Once a key has data it always has at least its head: {@link #truncate}
 *       never removes the head.</li>
 *   <li>Keys are non-empty strings. Seqnos are within {@code [0, 2^63-1]} (enforced by {@link SeqNo}).</li>
 *   <li>Every operation completes with its value, or fails with {@link Determinate} (certainly had no effect),
 *       {@link Indeterminate} (may have had effect) or {@link ContractViolation} (the call itself is invalid;
 *       nothing was changed). Failures are always reported through the returned stage, never thrown. Losing a
 *       compare-and-set is the value {@link CasResult#EXPECTATION_MISMATCH}.</li>
 * </ul>
 *
 * <p>The returned stages may complete on any thread; callers must not block in their continuations.
 */
public interface Consensus extends AutoCloseable {

    /** The {@code limit} of {@link #scan} that means "every entry". */
    long SCAN_ALL = Long.MAX_VALUE;

    /** The entry with the largest seqno of {@code key}, or empty iff the key has no data. */
    CompletionStage<Optional<VersionedData>> head(String key);

    /**
     * Appends {@code newData} iff the head of {@code key} is {@code expected} ({@code expected} empty: iff the key
     * has no data). On commit {@code newData} becomes the head; earlier entries stay.
     *
     * <p>A mismatch covers every other case: {@code expected} below the head (stale), above it (from the future),
     * or present while the key is empty. {@code newData.seqno() == expected + 1} is a precondition checked before
     * any I/O: violating it is a {@link ContractViolation}, not a mismatch. (Persist's classic contract allowed
     * any larger seqno, but persist only ever writes {@code expected + 1}, and so does state-versions. Requiring it
     * keeps every key's seqnos contiguous, which is what lets the PostgreSQL backend decide races by its primary
     * key at READ COMMITTED.) The first entry of a key may have any seqno.
     */
    CompletionStage<CasResult> compareAndSet(String key, Optional<SeqNo> expected, VersionedData newData);

    /** One compare-and-set of a group ({@link #compareAndSetAll}): append {@code newData} iff the head is {@code expected}. */
    record CasRequest(String key, SeqNo expected, VersionedData newData) {}

    /**
     * {@link #compareAndSet} of several keys at once, each with an expected head: the stage of member {@code i} of
     * the answer is the outcome of {@code group.get(i)}, exactly as if it had been called alone. Members are
     * independent: one may commit while another mismatches. A backend may send them to storage together (the
     * PostgreSQL backend: one statement, one transaction), so a failure of the group fails every member alike,
     * determinately or indeterminately. No key may appear twice in a group, and each member must meet the
     * preconditions of {@link #compareAndSet}; otherwise every member fails with {@link ContractViolation} and
     * nothing is written.
     *
     * <p>By default the members are sent one by one.
     */
    default List<CompletionStage<CasResult>> compareAndSetAll(List<CasRequest> group) {
        List<CompletionStage<CasResult>> outcomes = new java.util.ArrayList<>(group.size());
        for (CasRequest request : group) {
            outcomes.add(compareAndSet(request.key(), Optional.of(request.expected()), request.newData()));
        }
        return outcomes;
    }

    /**
     * The entries of {@code key} with seqno {@code >= from}, ascending, at most {@code limit} of them
     * ({@link #SCAN_ALL} for all). Empty iff there are none, including for a key without data or a {@code from}
     * above the head. {@code limit} must be {@code >= 0}.
     */
    CompletionStage<List<VersionedData>> scan(String key, SeqNo from, long limit);

    /**
     * Deletes every entry of {@code key} with seqno {@code < seqno} and returns how many were deleted (0 for a
     * repeated or empty truncation). Valid iff the key has data and {@code seqno <= head}; otherwise a
     * {@link ContractViolation} and nothing is deleted. Never deletes the head.
     */
    CompletionStage<Long> truncate(String key, SeqNo seqno);

    /**
     * Up to {@code limit} keys that have data and sort strictly after {@code after} ({@code ""} for the first
     * page), ascending in Unicode code point order (the byte order of their UTF-8 encoding). For administration:
     * its cost grows with the number of keys.
     */
    CompletionStage<List<String>> listKeys(String after, int limit);

    /** Releases the backend's resources (pools, clients). Calls after close may fail. */
    @Override
    default void close() {}
}
