package io.stateversions.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The shard's batches and its since: the v1 trace of spec §3.5. The batches are ordered by lower and contiguous
 * ({@code b[i].upper == b[i+1].lower}), the first starts at {@link Frontier#MIN}, and every batch covers a
 * non-empty time range ({@code lower < upper}); an append with {@code lower == upper} adds nothing. The shard's
 * upper is the last batch's upper, or {@code {0}} without batches.
 *
 * <h2>Merge policy</h2>
 * After an append, the trailing batches are checked the way a binary counter carries: walking back from the new
 * batch, the batch before the group joins it while the updates of the group (without it) are at least as many as
 * its own, at most {@value #MAX_MERGE_INPUTS} batches. A group of two or more batches, one of them non-empty,
 * becomes a {@link FueledMergeReq}. Adjacent empty batches with the same since are merged at once (they have no
 * parts to compact). The outstanding requests ({@link #mergeRequests}) are a function of the batches alone, so
 * every replica computes the same ones and state stores none.
 */
public record Trace(Frontier since, List<HollowBatch> batches) {

    /** The most batches one merge request compacts. */
    public static final int MAX_MERGE_INPUTS = 8;

    public static final Trace EMPTY = new Trace(Frontier.MIN, List.of());

    public Trace {
        Objects.requireNonNull(since, "since");
        batches = List.copyOf(batches);
        Frontier expectedLower = Frontier.MIN;
        for (HollowBatch batch : batches) {
            Description desc = batch.desc();
            if (!desc.lower().equals(expectedLower) || !desc.lower().lessThan(desc.upper())) {
                throw new IllegalStateException("trace batches must be contiguous from {0}, each with lower < upper:"
                        + " expected a batch at lower " + expectedLower + ", found " + desc + " in " + batches);
            }
            expectedLower = desc.upper();
        }
    }

    public Frontier upper() {
        return batches.isEmpty() ? Frontier.MIN : batches.get(batches.size() - 1).desc().upper();
    }

    public Trace withSince(Frontier newSince) {
        return new Trace(newSince, batches);
    }

    /** The result of {@link #push}: the new trace and the merge requests the append produced. */
    public record Pushed(Trace trace, List<FueledMergeReq> mergeRequests) {}

    /**
     * Appends {@code batch}, whose lower must be this trace's upper and whose range must be non-empty (the
     * compare_and_append checks make sure of both).
     */
    public Pushed push(HollowBatch batch) {
        Description desc = batch.desc();
        if (!desc.lower().equals(upper()) || !desc.lower().lessThan(desc.upper())) {
            throw new IllegalArgumentException("cannot push batch " + desc + " onto a trace with upper " + upper());
        }
        List<HollowBatch> next = new ArrayList<>(batches.size() + 1);
        next.addAll(batches);
        HollowBatch last = batches.isEmpty() ? null : batches.get(batches.size() - 1);
        if (last != null && last.isEmpty() && batch.isEmpty() && last.desc().since().equals(desc.since())) {
            next.set(next.size() - 1,
                    HollowBatch.empty(new Description(last.desc().lower(), desc.upper(), desc.since())));
            return new Pushed(new Trace(since, next), List.of());
        }
        next.add(batch);
        Trace trace = new Trace(since, next);
        int start = trace.mergeGroupStart(next.size() - 1);
        return new Pushed(trace, start < 0 ? List.of() : List.of(trace.request(start, next.size() - 1)));
    }

    /**
     * The outstanding merge requests, oldest batches first: the maximal groups of the merge policy, found walking
     * back from the newest batch. They never overlap.
     */
    public List<FueledMergeReq> mergeRequests() {
        List<FueledMergeReq> requests = new ArrayList<>();
        int end = batches.size() - 1;
        while (end > 0) {
            int start = mergeGroupStart(end);
            if (start < 0) {
                end--;
            } else {
                requests.add(request(start, end));
                end = start - 1;
            }
        }
        Collections.reverse(requests);
        return requests;
    }

    /** The first index of the merge group that ends at {@code end}, or -1 if there is none. */
    private int mergeGroupStart(int end) {
        long tail = batches.get(end).len();
        boolean nonEmpty = !batches.get(end).isEmpty();
        int start = -1;
        for (int i = end - 1; i >= 0 && end - i < MAX_MERGE_INPUTS; i--) {
            HollowBatch candidate = batches.get(i);
            if (tail < candidate.len()) {
                break;
            }
            tail += candidate.len();
            nonEmpty |= !candidate.isEmpty();
            start = i;
        }
        return start >= 0 && nonEmpty ? start : -1;
    }

    private FueledMergeReq request(int start, int end) {
        Description desc = new Description(batches.get(start).desc().lower(), batches.get(end).desc().upper(), since);
        return new FueledMergeReq(desc, batches.subList(start, end + 1));
    }

    /** The result of {@link #applyMergeRes}: the new trace (this one if nothing was applied). */
    public record Merged(ApplyMergeResult result, Trace trace) {}

    /**
     * Replaces {@code res.inputs} by {@code res.output}, iff the inputs are, batch for batch ({@link HollowBatch}
     * equality: bounds, since, len, parts with their keys, run splits and run metadata), a contiguous run of this
     * trace's batches and the output covers exactly their time range (spec §3.5: exact match only); and then only
     * if the output is not compacted beyond this trace's since and holds no more updates than the inputs.
     *
     * <p>Matching by identity, not by time range, is what keeps a compactor's result from replacing batches it never
     * read. A stale result (another compactor already replaced its inputs), a repeated one, or one with fabricated
     * inputs is {@link ApplyMergeResult#NOT_APPLIED_NO_MATCH}: had it replaced whatever now covers its range, an
     * output re-using a part that the earlier merge released would bring back into state a blob that GC deletes
     * once the diff releasing it is truncated. An output that re-uses parts of its own inputs is fine: those parts
     * are referenced until this very diff, which inserts them again ({@link StateDiff#partDeletes}).
     */
    public Merged applyMergeRes(FueledMergeRes res) {
        List<HollowBatch> inputs = res.inputs();
        Description out = res.output().desc();
        int first = inputs.isEmpty() ? -1 : indexOfLower(inputs.get(0).desc().lower());
        if (first < 0 || first + inputs.size() > batches.size()) {
            return new Merged(ApplyMergeResult.NOT_APPLIED_NO_MATCH, this);
        }
        int end = first + inputs.size();
        List<HollowBatch> covered = batches.subList(first, end);
        if (!out.lower().equals(covered.get(0).desc().lower())
                || !out.upper().equals(covered.get(covered.size() - 1).desc().upper())
                || !covered.equals(inputs)) {
            return new Merged(ApplyMergeResult.NOT_APPLIED_NO_MATCH, this);
        }
        if (!out.since().lessEqual(since)) {
            return new Merged(ApplyMergeResult.NOT_APPLIED_INVALID_SINCE, this);
        }
        long coveredLen = 0;
        for (HollowBatch batch : covered) {
            coveredLen += batch.len();
        }
        if (res.output().len() > coveredLen) {
            return new Merged(ApplyMergeResult.NOT_APPLIED_TOO_MANY_UPDATES, this);
        }
        List<HollowBatch> next = new ArrayList<>(batches.size() - covered.size() + 1);
        next.addAll(batches.subList(0, first));
        next.add(res.output());
        next.addAll(batches.subList(end, batches.size()));
        return new Merged(ApplyMergeResult.APPLIED_EXACT, new Trace(since, next));
    }

    /** The batch with exactly {@code desc}'s lower and upper, if there is one. */
    public Optional<HollowBatch> batchAt(Description desc) {
        int i = indexOfLower(desc.lower());
        return i >= 0 && batches.get(i).desc().upper().equals(desc.upper()) ? Optional.of(batches.get(i))
                : Optional.empty();
    }

    /** The index of the batch whose lower is {@code lower}, or -1 (batches are sorted by their distinct lowers). */
    private int indexOfLower(Frontier lower) {
        int low = 0;
        int high = batches.size() - 1;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            int c = batches.get(mid).desc().lower().compareTo(lower);
            if (c == 0) {
                return mid;
            }
            if (c < 0) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return -1;
    }

    /** Persist's spine metrics (spec §3.5). */
    public record SpineMetrics(int compactBatches, int compactingBatches, int noncompactBatches) {}

    /**
     * Batches that are part of an outstanding merge request are <em>compacting</em>; of the rest, those that are a
     * single sorted run (or empty) are <em>compact</em>, the others <em>noncompact</em>.
     */
    public SpineMetrics spineMetrics() {
        List<FueledMergeReq> requests = mergeRequests();
        int compacting = 0;
        for (FueledMergeReq request : requests) {
            compacting += request.inputs().size();
        }
        int compactOrCompacting = 0;
        for (HollowBatch batch : batches) {
            if (batch.runCount() <= 1) {
                compactOrCompacting++;
            }
        }
        int compactInRequests = 0;
        for (FueledMergeReq request : requests) {
            for (HollowBatch batch : request.inputs()) {
                if (batch.runCount() <= 1) {
                    compactInRequests++;
                }
            }
        }
        int compact = compactOrCompacting - compactInRequests;
        return new SpineMetrics(compact, compacting, batches.size() - compact - compacting);
    }

    @Override
    public String toString() {
        return "Trace{since=" + since + ", upper=" + upper() + ", batches=" + batches.size() + "}";
    }
}
