package io.stateversions.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The metadata of a batch of updates (spec §3.4): its time bounds, how many updates it holds and where they are.
 * A batch is <em>empty</em> iff it has no parts.
 *
 * <p>A value: immutable, equal to another batch with the same components (as a record would be). It is a class
 * rather than a record only to carry its {@linkplain Memo memo}: a value derived from it (its storage encoding)
 * computed once and reused by every rollup and diff that holds the same batch, instead of being rebuilt each time.
 * The memo is not part of the value.
 */
public final class HollowBatch {

    private final Description desc;
    private final long len;
    private final List<BatchPart> parts;
    private final List<Integer> runSplits;
    private final List<RunMeta> runMeta;
    /** The value of the {@link Memo}; written once (racing writers store equal values), read with acquire. */
    @SuppressWarnings("unused") // through Memo.VALUE
    private Object memo;
    /** 0 until computed (a hash that really is 0 is recomputed each time, as {@code String} does). */
    private int hash;

    /**
     * @param len       the number of updates (after consolidation)
     * @param runSplits strictly increasing indexes into {@code parts}, each in {@code (0, parts.size())}, that cut
     *                  the parts into sorted runs; empty = one run (none when there are no parts)
     * @param runMeta   per run, in run order; trailing {@link RunMeta#DEFAULT} entries are dropped, so a batch has
     *                  one canonical form (as persist omits them on the wire)
     */
    public HollowBatch(Description desc, long len, List<BatchPart> parts, List<Integer> runSplits,
            List<RunMeta> runMeta) {
        this.desc = Objects.requireNonNull(desc, "desc");
        this.len = len;
        this.parts = List.copyOf(parts);
        this.runSplits = List.copyOf(runSplits);
        List<RunMeta> meta = new ArrayList<>(runMeta);
        while (!meta.isEmpty() && meta.get(meta.size() - 1).equals(RunMeta.DEFAULT)) {
            meta.remove(meta.size() - 1);
        }
        this.runMeta = List.copyOf(meta);
        if (len < 0) {
            throw new IllegalArgumentException("batch len must be >= 0, got " + len + " in " + desc);
        }
        int previous = 0;
        for (int split : this.runSplits) {
            if (split <= previous || split >= this.parts.size()) {
                throw new IllegalArgumentException("run splits " + this.runSplits
                        + " must be strictly increasing within (0, " + this.parts.size() + ") in batch " + desc);
            }
            previous = split;
        }
        int runs = this.parts.isEmpty() ? 0 : this.runSplits.size() + 1;
        if (this.runMeta.size() > runs) {
            throw new IllegalArgumentException(
                    this.runMeta.size() + " run metadata entries for " + runs + " runs in batch " + desc);
        }
    }

    /** A batch of one run, without run metadata. */
    public static HollowBatch of(Description desc, long len, List<? extends BatchPart> parts) {
        return new HollowBatch(desc, len, List.copyOf(parts), List.of(), List.of());
    }

    /** A batch with no parts (and no updates). */
    public static HollowBatch empty(Description desc) {
        return new HollowBatch(desc, 0, List.of(), List.of(), List.of());
    }

    public Description desc() {
        return desc;
    }

    /** The number of updates (after consolidation). */
    public long len() {
        return len;
    }

    public List<BatchPart> parts() {
        return parts;
    }

    /** Indexes into {@link #parts} that cut them into sorted runs; empty = one run (none without parts). */
    public List<Integer> runSplits() {
        return runSplits;
    }

    /** Per run, in run order, without trailing {@link RunMeta#DEFAULT} entries. */
    public List<RunMeta> runMeta() {
        return runMeta;
    }

    public boolean isEmpty() {
        return parts.isEmpty();
    }

    public int runCount() {
        return parts.isEmpty() ? 0 : runSplits.size() + 1;
    }

    /** Bytes of all parts, hollow and inline. */
    public long encodedSizeBytes() {
        long sum = 0;
        for (BatchPart part : parts) {
            sum += part.encodedSizeBytes();
        }
        return sum;
    }

    public long inlineBytes() {
        long sum = 0;
        for (BatchPart part : parts) {
            if (part instanceof BatchPart.Inline) {
                sum += part.encodedSizeBytes();
            }
        }
        return sum;
    }

    /** This batch with {@code desc} replaced. */
    public HollowBatch withDesc(Description newDesc) {
        return new HollowBatch(newDesc, len, parts, runSplits, runMeta);
    }

    @Override
    public boolean equals(Object o) {
        if (this == o) {
            return true;
        }
        return o instanceof HollowBatch other
                && len == other.len
                && desc.equals(other.desc)
                && parts.equals(other.parts)
                && runSplits.equals(other.runSplits)
                && runMeta.equals(other.runMeta);
    }

    @Override
    public int hashCode() {
        int h = hash;
        if (h == 0) {
            h = Objects.hash(desc, len, parts, runSplits, runMeta);
            hash = h;
        }
        return h;
    }

    @Override
    public String toString() {
        return desc + " len=" + len + " parts=" + parts;
    }

    /**
     * A value derived from a batch alone, computed at most once per batch instance (two threads racing may both
     * compute it; they get equal values, and either is kept) and kept as long as the batch. The derivation must be
     * a pure function of the batch's components, and its value immutable: every holder of the batch shares it.
     *
     * <p>A batch has room for one memo, its storage encoding, declared once as a constant: every cached batch pays
     * for the field, and a memo is kept as long as the batch, so only a value that every rollup reuses belongs here
     * (API renderings are built per answer: see {@code GrpcResponses#batch}). A second declaration fails.
     */
    public static final class Memo<T> {

        private static final AtomicBoolean DECLARED = new AtomicBoolean();
        private static final VarHandle VALUE;

        static {
            try {
                VALUE = MethodHandles.lookup().findVarHandle(HollowBatch.class, "memo", Object.class);
            } catch (ReflectiveOperationException e) {
                throw new ExceptionInInitializerError(e);
            }
        }

        private final Function<HollowBatch, ? extends T> derive;

        private Memo(Function<HollowBatch, ? extends T> derive) {
            this.derive = derive;
        }

        /** The memo of {@code derive}, kept as long as the batch. Fails if a memo was declared already. */
        public static <T> Memo<T> declare(Function<HollowBatch, ? extends T> derive) {
            Objects.requireNonNull(derive, "derive");
            if (!DECLARED.compareAndSet(false, true)) {
                throw new IllegalStateException("a batch has room for one memo, declared already (declare it as a"
                        + " constant)");
            }
            return new Memo<>(derive);
        }

        /** The value of this memo for {@code batch}: derived on first use, then the same instance every time. */
        @SuppressWarnings("unchecked")
        public T of(HollowBatch batch) {
            // Acquire/release: a value derived on one thread is seen fully built on another (a plain field read
            // could see a protobuf message or a byte array before its contents).
            Object value = VALUE.getAcquire(batch);
            if (value == null) {
                value = Objects.requireNonNull(derive.apply(batch), "a memo derived null");
                VALUE.setRelease(batch, value);
            }
            return (T) value;
        }

        /** Whether {@code batch} holds this memo's value now (for tests of reuse). */
        public boolean isDerived(HollowBatch batch) {
            return VALUE.getAcquire(batch) != null;
        }
    }
}
