package io.stateversions.core;

import java.util.AbstractList;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.pcollections.TreePVector;

/**
 * The shard's batches and its since: the v1 trace of spec §3.5. The batches are ordered by lower and contiguous
 * ({@code b[i].upper == b[i+1].lower}), the first starts at {@link Frontier#MIN}, and every batch covers a
 * non-empty time range ({@code lower < upper}); an append with {@code lower == upper} adds nothing. The shard's
 * upper is the last batch's upper, or {@code {0}} without batches.
 *
 * <h2>Cost</h2>
 * The batches live in a persistent vector ({@link TreePVector}: a balanced tree, O(log n) get, append, insert and
 * remove), so that a new version shares every batch it did not change with the version before: a push, a merge and
 * the application of a diff cost O(log n) per batch they touch, and check contiguity only where they edit. The
 * totals that the append path needs ({@link #totals}) are kept up to date the same way. Building a trace from a
 * whole list ({@link #Trace(Frontier, List)}: a decoded rollup, tests) validates every batch once.
 *
 * <h2>Merge policy</h2>
 * Size-tiered, in chunks. A batch's <em>level</em> is {@code floor(log8(max(len, 1)))}. Each maximal run of
 * consecutive batches of one level is cut, from the run's first batch, into <em>chunks</em> of
 * {@value #MAX_MERGE_INPUTS}: a batch's position in its chunk is 0 if it starts a run or follows a chunk's last
 * batch, and its predecessor's plus one otherwise. A full chunk holding at least one non-empty batch is an outstanding
 * {@link FueledMergeReq} ({@link #mergeRequests}); the push that completes it <em>forms</em> it, and answers with
 * it ({@link #push}). With a cooperative compactor the output of a chunk of level {@code L} has level {@code L+1}
 * and joins the run before it, so the trace holds fewer than {@value #MAX_MERGE_INPUTS} batches per level: like a
 * base-8 counter, the batch count and the outstanding requests stay logarithmic in the appends.
 *
 * <p>Why it is stable: a batch's position depends only on the batches before it, so a push never changes a
 * position, nor a chunk, that exists already; chunks never overlap, because every batch is in exactly one. (The
 * earlier binary-carry window was re-formed from the newest batch on every push, so each append formed a new group
 * over the last 8 batches, overlapping the one before.) Why it is cheap: the position is stored beside each batch,
 * so a push computes it from the last batch alone and looks back at most {@value #MAX_MERGE_INPUTS} batches for a
 * non-empty one. A merge, or a diff applied on another replica, recomputes positions from its edit onwards only
 * while they change: replacing a whole chunk by an output that starts a run of its own shifts nothing after it; an
 * output that joins the following run re-chunks that run, which is what "cut from the run's first batch" means.
 *
 * <p>Adjacent empty batches with the same since are folded into one at push (they have no parts to compact),
 * except into the last batch of an outstanding request, whose inputs must not change under its compactor. The
 * positions are a function of the batches alone, so every replica computes the same requests and state stores
 * none.
 */
public final class Trace {

    /** The most batches one merge request compacts, and the size of a merge-policy chunk. */
    public static final int MAX_MERGE_INPUTS = 8;

    public static final Trace EMPTY = new Trace(Frontier.MIN, List.of());

    /** A batch and its position in its merge-policy chunk, derived from the batches before it. */
    private record Slot(HollowBatch batch, int chunkPosition) {}

    private final Frontier since;
    private final TreePVector<Slot> slots;
    private final Totals totals;
    private final List<HollowBatch> batches;
    /** The last batch's upper, kept: asked several times per command, and the slots' last is O(log n) away. */
    private final Frontier upper;

    /** The trace of {@code batches}, all of them validated (contiguous from {@code {0}}, each non-empty in time). */
    public Trace(Frontier since, List<HollowBatch> batches) {
        this.since = Objects.requireNonNull(since, "since");
        List<Slot> built = new ArrayList<>(batches.size());
        Totals sum = Totals.ZERO;
        Frontier expectedLower = Frontier.MIN;
        Slot previous = null;
        for (HollowBatch batch : batches) {
            checkContiguous(expectedLower, batch.desc(), batches);
            expectedLower = batch.desc().upper();
            previous = new Slot(batch, chunkPosition(previous, batch));
            built.add(previous);
            sum = sum.plus(batch);
        }
        this.slots = TreePVector.from(built);
        this.totals = sum;
        this.batches = new BatchList(slots);
        this.upper = expectedLower;
    }

    private Trace(Frontier since, TreePVector<Slot> slots, Totals totals) {
        this(since, slots, totals, slots.isEmpty() ? Frontier.MIN : slots.get(slots.size() - 1).batch().desc().upper());
    }

    private Trace(Frontier since, TreePVector<Slot> slots, Totals totals, Frontier upper) {
        this.since = since;
        this.slots = slots;
        this.totals = totals;
        this.batches = new BatchList(slots);
        this.upper = upper;
    }

    public Frontier since() {
        return since;
    }

    /**
     * The batches, oldest first: a read-only view, O(log n) per {@code get}. Iterating it is O(n): fine where every
     * batch is needed (encoding a rollup, rendering a state), never on the append path.
     */
    public List<HollowBatch> batches() {
        return batches;
    }

    /** Sums over all batches, kept up to date by every edit. */
    public Totals totals() {
        return totals;
    }

    public Frontier upper() {
        return upper;
    }

    public Trace withSince(Frontier newSince) {
        return newSince.equals(since) ? this
                : new Trace(Objects.requireNonNull(newSince, "since"), slots, totals, upper);
    }

    /** Whether both traces hold the very same batch structure (not merely equal batches): nothing to diff. */
    boolean sharesBatchesWith(Trace other) {
        return slots == other.slots;
    }

    /**
     * Sums over a trace's batches.
     *
     * @param nonEmptyBatches batches with at least one part
     * @param parts           parts of all batches
     * @param rewriteParts    parts with a timestamp rewrite
     * @param inlineParts     parts kept inline in state
     * @param updates         updates of all batches (their {@code len})
     * @param partBytes       encoded bytes of all parts, hollow and inline
     * @param inlineBytes     encoded bytes of the inline parts (what inline backpressure caps)
     * @param hollowKeyBytes  bytes of the hollow parts' key lower bounds and statistics: the variable-length
     *                        fields of a hollow part that state holds (its updates are in Blob), for the estimate of
     *                        a cached state's heap
     */
    public record Totals(int nonEmptyBatches, int parts, int rewriteParts, int inlineParts, long updates,
            long partBytes, long inlineBytes, long hollowKeyBytes) {

        static final Totals ZERO = new Totals(0, 0, 0, 0, 0, 0, 0, 0);

        Totals plus(HollowBatch batch) {
            return add(batch, 1);
        }

        Totals minus(HollowBatch batch) {
            return add(batch, -1);
        }

        private Totals add(HollowBatch batch, int sign) {
            int rewrites = 0;
            int inline = 0;
            long bytes = 0;
            long inlineSum = 0;
            long hollowKeySum = 0;
            for (BatchPart part : batch.parts()) {
                long size = part.encodedSizeBytes();
                bytes += size;
                if (part.tsRewrite().isPresent()) {
                    rewrites++;
                }
                if (part instanceof BatchPart.Inline) {
                    inline++;
                    inlineSum += size;
                } else if (part instanceof BatchPart.Hollow hollow) {
                    hollowKeySum += hollow.keyLower().size() + hollow.stats().size();
                }
            }
            return new Totals(nonEmptyBatches + sign * (batch.isEmpty() ? 0 : 1),
                    parts + sign * batch.parts().size(), rewriteParts + sign * rewrites, inlineParts + sign * inline,
                    updates + sign * batch.len(), partBytes + sign * bytes, inlineBytes + sign * inlineSum,
                    hollowKeyBytes + sign * hollowKeySum);
        }
    }

    // ------------------------------------------------------------------------------------------------- push

    /** The result of {@link #push}: the new trace and the merge request the push formed, if any. */
    public record Pushed(Trace trace, List<FueledMergeReq> mergeRequests) {}

    /**
     * Appends {@code batch}, whose lower must be this trace's upper and whose range must be non-empty (the
     * compare_and_append checks make sure of both). Returns the merge request the push formed: the chunk it
     * completed, if that holds a non-empty batch.
     */
    public Pushed push(HollowBatch batch) {
        return push(batch, null);
    }

    /** As {@link #push(HollowBatch)}, recording the batches it deleted and inserted in {@code edits} (if given). */
    Pushed push(HollowBatch batch, BatchEdits edits) {
        Description desc = batch.desc();
        if (!desc.lower().equals(upper()) || !desc.lower().lessThan(desc.upper())) {
            throw new IllegalArgumentException("cannot push batch " + desc + " onto a trace with upper " + upper());
        }
        int size = slots.size();
        Slot last = size == 0 ? null : slots.get(size - 1);
        if (last != null && last.batch().isEmpty() && batch.isEmpty() && last.batch().desc().since().equals(desc.since())
                && !(last.chunkPosition() == MAX_MERGE_INPUTS - 1 && chunkHoldsData(slots, size - 1))) {
            HollowBatch folded = HollowBatch.empty(
                    new Description(last.batch().desc().lower(), desc.upper(), desc.since()));
            if (edits != null) {
                edits.delete(last.batch());
                edits.insert(folded);
            }
            // Both are empty batches of level 0 after the same predecessor: the position stays.
            Trace next = new Trace(since, replaced(slots, size - 1, new Slot(folded, last.chunkPosition())),
                    totals.minus(last.batch()).plus(folded), desc.upper());
            return new Pushed(next, List.of());
        }
        if (edits != null) {
            edits.insert(batch);
        }
        Slot slot = new Slot(batch, chunkPosition(last, batch));
        Trace next = new Trace(since, slots.plus(slot), totals.plus(batch), desc.upper());
        if (slot.chunkPosition() == MAX_MERGE_INPUTS - 1 && chunkHoldsData(next.slots, size)) {
            return new Pushed(next, List.of(next.request(size - (MAX_MERGE_INPUTS - 1), size)));
        }
        return new Pushed(next, List.of());
    }

    // ------------------------------------------------------------------------------------------ merge policy

    /** {@code floor(log8(max(len, 1)))}. */
    static int level(long len) {
        return len <= 1 ? 0 : (63 - Long.numberOfLeadingZeros(len)) / 3;
    }

    /** The chunk position of {@code batch} after {@code previous} (null: the first batch). */
    private static int chunkPosition(Slot previous, HollowBatch batch) {
        if (previous == null || previous.chunkPosition() == MAX_MERGE_INPUTS - 1
                || level(previous.batch().len()) != level(batch.len())) {
            return 0;
        }
        return previous.chunkPosition() + 1;
    }

    /** Whether the chunk that ends at {@code last} (a full one) holds a non-empty batch. */
    private static boolean chunkHoldsData(TreePVector<Slot> slots, int last) {
        for (int i = last; i > last - MAX_MERGE_INPUTS; i--) {
            if (!slots.get(i).batch().isEmpty()) {
                return true;
            }
        }
        return false;
    }

    /** The outstanding merge requests, oldest batches first: every full chunk with a non-empty batch. O(n). */
    public List<FueledMergeReq> mergeRequests() {
        return requestsBetween(0, slots.size() - 1);
    }

    /** The requests of the full chunks that hold a batch in {@code [from, to]}. */
    private List<FueledMergeReq> requestsBetween(int from, int to) {
        List<FueledMergeReq> requests = new ArrayList<>();
        if (from > to) {
            return requests;
        }
        int i = from - slots.get(from).chunkPosition();
        // TreePVector.subList costs O(n log n): iterate the whole vector from its start, or get() a short range.
        Iterator<Slot> it = i == 0 ? slots.iterator() : slotsFrom(i);
        boolean holdsData = false;
        for (; it.hasNext(); i++) {
            Slot slot = it.next();
            if (slot.chunkPosition() == 0) {
                if (i > to) {
                    break;
                }
                holdsData = false;
            }
            holdsData |= !slot.batch().isEmpty();
            if (slot.chunkPosition() == MAX_MERGE_INPUTS - 1 && holdsData) {
                requests.add(request(i - (MAX_MERGE_INPUTS - 1), i));
            }
        }
        return requests;
    }

    /** The slots from {@code start} on, O(log n) each. */
    private Iterator<Slot> slotsFrom(int start) {
        return new Iterator<>() {
            private int next = start;

            @Override
            public boolean hasNext() {
                return next < slots.size();
            }

            @Override
            public Slot next() {
                return slots.get(next++);
            }
        };
    }

    private FueledMergeReq request(int start, int end) {
        Description desc = new Description(batches.get(start).desc().lower(), batches.get(end).desc().upper(), since);
        return new FueledMergeReq(desc, batches.subList(start, end + 1));
    }

    // ------------------------------------------------------------------------------------------ merge results

    /**
     * The result of {@link #applyMergeRes}: the new trace (this one if nothing was applied), and the merge requests
     * that applying it formed (its output may complete a chunk of the run it joins).
     */
    public record Merged(ApplyMergeResult result, Trace trace, List<FueledMergeReq> mergeRequests) {

        Merged(ApplyMergeResult result, Trace trace) {
            this(result, trace, List.of());
        }
    }

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
        return applyMergeRes(res, null);
    }

    /** As {@link #applyMergeRes(FueledMergeRes)}, recording what it deleted and inserted in {@code edits}. */
    Merged applyMergeRes(FueledMergeRes res, BatchEdits edits) {
        List<HollowBatch> inputs = res.inputs();
        Description out = res.output().desc();
        int first = inputs.isEmpty() ? -1 : indexOfLower(inputs.get(0).desc().lower());
        if (first < 0 || first + inputs.size() > slots.size()) {
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
            // Saturating: lens are client values up to 2^63-1, and a sum that wrapped would refuse every merge.
            coveredLen = Long.MAX_VALUE - coveredLen < batch.len() ? Long.MAX_VALUE : coveredLen + batch.len();
        }
        if (res.output().len() > coveredLen) {
            return new Merged(ApplyMergeResult.NOT_APPLIED_TOO_MANY_UPDATES, this);
        }
        List<HollowBatch> removed = List.copyOf(covered);
        Edited edited = edit(removed, List.of(res.output()));
        if (edits != null) {
            removed.forEach(edits::delete);
            edits.insert(res.output());
        }
        return new Merged(ApplyMergeResult.APPLIED_EXACT, edited.trace,
                edited.trace.requestsBetween(edited.firstChanged, edited.lastChanged));
    }

    // ------------------------------------------------------------------------------------------ set edits

    /**
     * This trace with {@code deletes} removed and {@code inserts} added (a diff's batches: a set difference, then
     * kept sorted by lower), in O(log² n) per batch: each delete must equal the batch at its lower, each insert must
     * find its lower free. Contiguity is checked around each edit only, so the result is as valid as this trace.
     *
     * @throws IllegalArgumentException a delete that is not in the trace, or an insert at an occupied lower
     * @throws IllegalStateException    the result would not be contiguous
     */
    Trace withEdits(List<HollowBatch> deletes, List<HollowBatch> inserts) {
        return edit(deletes, inserts).trace;
    }

    /**
     * The edited trace, and the range of its slots that are new or changed chunk position ({@code first > last}
     * when none): the chunks that hold one of them are chunks this edit formed.
     */
    private record Edited(Trace trace, int firstChanged, int lastChanged) {}

    private Edited edit(List<HollowBatch> deletes, List<HollowBatch> inserts) {
        TreePVector<Slot> next = slots;
        Totals sum = totals;
        for (HollowBatch delete : deletes) {
            int at = indexOfLower(next, delete.desc().lower());
            if (at < 0 || !same(next.get(at).batch(), delete)) {
                throw new IllegalArgumentException("batch to delete is not in the trace: " + delete);
            }
            next = next.minus(at);
            sum = sum.minus(delete);
        }
        for (HollowBatch insert : inserts) {
            int at = insertionPoint(next, insert.desc().lower());
            if (at < 0) {
                throw new IllegalArgumentException("batch to insert overlaps " + next.get(-at - 1).batch() + ": "
                        + insert);
            }
            // A placeholder position: every edited place is repositioned below.
            next = next.plus(at, new Slot(insert, 0));
            sum = sum.plus(insert);
        }
        // The places whose neighbours changed: each inserted batch, and the batch that now follows each deleted one.
        int[] places = new int[deletes.size() + inserts.size()];
        int n = 0;
        int firstChanged = Integer.MAX_VALUE;
        int lastChanged = -1;
        for (HollowBatch insert : inserts) {
            int at = indexOfLower(next, insert.desc().lower());
            places[n++] = at;
            firstChanged = Math.min(firstChanged, at);
            lastChanged = Math.max(lastChanged, at);
        }
        for (HollowBatch delete : deletes) {
            int at = insertionPoint(next, delete.desc().lower());
            places[n++] = at < 0 ? -at - 1 : at;
        }
        Arrays.sort(places);
        for (int k = 0; k < n; k++) {
            checkContiguous(next, places[k]);
            checkContiguous(next, places[k] + 1);
        }
        int i = 0;
        for (int k = 0; k < n; k++) {
            int place = places[k];
            i = Math.max(i, place);
            // A position depends only on the slot before: past the edited place, stop at the first that holds.
            for (; i < next.size(); i++) {
                Slot slot = next.get(i);
                int position = chunkPosition(i == 0 ? null : next.get(i - 1), slot.batch());
                if (position == slot.chunkPosition()) {
                    if (i > place) {
                        break;
                    }
                    continue;
                }
                next = replaced(next, i, new Slot(slot.batch(), position));
                firstChanged = Math.min(firstChanged, i);
                lastChanged = Math.max(lastChanged, i);
            }
        }
        return new Edited(new Trace(since, next, sum), firstChanged, lastChanged);
    }

    /** {@code slots} with the one at {@code i} replaced (a TreePVector always answers a TreePVector). */
    private static TreePVector<Slot> replaced(TreePVector<Slot> slots, int i, Slot slot) {
        return (TreePVector<Slot>) slots.with(i, slot);
    }

    /** Throws unless the batch at {@code i} (if any) starts where the one before ends, or at {@code {0}}. */
    private static void checkContiguous(TreePVector<Slot> slots, int i) {
        if (i < 0 || i >= slots.size()) {
            return;
        }
        Frontier expectedLower = i == 0 ? Frontier.MIN : slots.get(i - 1).batch().desc().upper();
        checkContiguous(expectedLower, slots.get(i).batch().desc(), "index " + i);
    }

    /**
     * Throws unless {@code desc} starts at {@code expectedLower} and covers a non-empty range. {@code context} (the
     * batches, or a position) is printed only on failure.
     */
    private static void checkContiguous(Frontier expectedLower, Description desc, Object context) {
        if (!desc.lower().equals(expectedLower) || !desc.lower().lessThan(desc.upper())) {
            throw new IllegalStateException("trace batches must be contiguous from {0}, each with lower < upper:"
                    + " expected a batch at lower " + expectedLower + ", found " + desc + " (" + context + ")");
        }
    }

    private static boolean same(HollowBatch a, HollowBatch b) {
        return a == b || a.equals(b);
    }

    // ------------------------------------------------------------------------------------------ lookups

    /** The batch with exactly {@code desc}'s lower and upper, if there is one. */
    public Optional<HollowBatch> batchAt(Description desc) {
        int i = indexOfLower(desc.lower());
        return i >= 0 && batches.get(i).desc().upper().equals(desc.upper()) ? Optional.of(batches.get(i))
                : Optional.empty();
    }

    private int indexOfLower(Frontier lower) {
        return indexOfLower(slots, lower);
    }

    /** The index of the batch whose lower is {@code lower}, or -1 (batches are sorted by their distinct lowers). */
    private static int indexOfLower(TreePVector<Slot> slots, Frontier lower) {
        int at = insertionPoint(slots, lower);
        return at < 0 ? -at - 1 : -1;
    }

    /**
     * Where a batch at {@code lower} goes: the index of the first batch with a greater lower; or, if a batch has
     * exactly that lower, {@code -(its index) - 1}. The newest batch is checked first: an append goes last.
     */
    private static int insertionPoint(TreePVector<Slot> slots, Frontier lower) {
        int size = slots.size();
        if (size == 0) {
            return 0;
        }
        int c = slots.get(size - 1).batch().desc().lower().compareTo(lower);
        if (c <= 0) {
            return c == 0 ? -(size - 1) - 1 : size;
        }
        int low = 0;
        int high = size - 2;
        while (low <= high) {
            int mid = (low + high) >>> 1;
            c = slots.get(mid).batch().desc().lower().compareTo(lower);
            if (c == 0) {
                return -mid - 1;
            }
            if (c < 0) {
                low = mid + 1;
            } else {
                high = mid - 1;
            }
        }
        return low;
    }

    // ------------------------------------------------------------------------------------------ metrics

    /** Persist's spine metrics (spec §3.5). */
    public record SpineMetrics(int compactBatches, int compactingBatches, int noncompactBatches) {}

    /**
     * Batches that are part of an outstanding merge request are <em>compacting</em>; of the rest, those that are a
     * single sorted run (or empty) are <em>compact</em>, the others <em>noncompact</em>. O(n): for metrics.
     */
    public SpineMetrics spineMetrics() {
        List<FueledMergeReq> requests = mergeRequests();
        int compacting = 0;
        int compactInRequests = 0;
        for (FueledMergeReq request : requests) {
            compacting += request.inputs().size();
            for (HollowBatch batch : request.inputs()) {
                if (batch.runCount() <= 1) {
                    compactInRequests++;
                }
            }
        }
        int compactOrCompacting = 0;
        for (HollowBatch batch : batches) {
            if (batch.runCount() <= 1) {
                compactOrCompacting++;
            }
        }
        int compact = compactOrCompacting - compactInRequests;
        return new SpineMetrics(compact, compacting, slots.size() - compact - compacting);
    }

    // ------------------------------------------------------------------------------------------ value

    /** Value equality: the same since and equal batches (the chunk positions and totals follow from them). */
    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        if (!(o instanceof Trace other) || !since.equals(other.since) || slots.size() != other.slots.size()) {
            return false;
        }
        if (slots == other.slots) {
            return true;
        }
        Iterator<Slot> a = slots.iterator();
        Iterator<Slot> b = other.slots.iterator();
        while (a.hasNext()) {
            if (!same(a.next().batch(), b.next().batch())) {
                return false;
            }
        }
        return true;
    }

    @Override
    public int hashCode() {
        return 31 * since.hashCode() + batches.hashCode();
    }

    @Override
    public String toString() {
        return "Trace{since=" + since + ", upper=" + upper() + ", batches=" + slots.size() + "}";
    }

    /**
     * The batches of the slots, as a read-only list. Not {@link java.util.RandomAccess}: {@code get} is O(log n), so
     * streams and bulk copies go through the O(n) iterator.
     */
    private static final class BatchList extends AbstractList<HollowBatch> {
        private final TreePVector<Slot> slots;

        BatchList(TreePVector<Slot> slots) {
            this.slots = slots;
        }

        @Override
        public HollowBatch get(int index) {
            return slots.get(index).batch();
        }

        @Override
        public int size() {
            return slots.size();
        }

        @Override
        public Iterator<HollowBatch> iterator() {
            Iterator<Slot> it = slots.iterator();
            return new Iterator<>() {
                @Override
                public boolean hasNext() {
                    return it.hasNext();
                }

                @Override
                public HollowBatch next() {
                    return it.next().batch();
                }
            };
        }
    }
}
