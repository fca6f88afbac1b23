package io.stateversions.machine;

import static io.stateversions.testing.TestStates.desc;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.part;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.EncodedSchemas;
import io.stateversions.core.Frontier;
import io.stateversions.core.FueledMergeReq;
import io.stateversions.core.FueledMergeRes;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.LeasedReaderState;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.SchemaId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.State;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.core.WriterState;
import io.stateversions.testing.TestStates;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.IntFunction;
import org.junit.jupiter.api.Test;

/**
 * {@link RetainedSize} grows with what a state holds, at the rates measured (its class comment: a heap-layout walk of
 * machines built by appends): linearly in batches, parts, held bytes and handles, from totals kept incrementally, so
 * that a state built by pushes and merges weighs what the same batches weigh when decoded at once.
 */
class RetainedSizeTest {

    private final State initial = initial();

    @Test
    void a_state_grows_by_the_measured_460_bytes_per_batch_of_one_hollow_part_linearly() {
        long none = estimate(0, i -> part());
        long thousand = estimate(1000, i -> part());
        long twoThousand = estimate(2000, i -> part());
        assertThat(twoThousand - thousand).isEqualTo(thousand - none);
        // Measured: 459.5 bytes per batch with its part (its writer's key shared), plus the machine's 8 bytes per diff
        // since the latest rollup.
        assertThat((thousand - none) / 1000.0).isCloseTo(459.5 + 8, within(30.0));
        // Measured: 1,051.5 bytes per batch of four parts of one writer.
        assertThat((estimate(1000, 4) - none) / 1000.0).isCloseTo(1051.5, within(100.0));
        // Measured: 1,976 bytes for a machine with one writer and one rollup, no batches.
        assertThat(none).isBetween(1_800L, 2_300L);
    }

    @Test
    void inline_updates_key_lower_bounds_and_statistics_count_twice_their_length() {
        long inline16 = estimate(1000, i -> inline(16));
        long inline1040 = estimate(1000, i -> inline(1040));
        assertThat(inline1040 - inline16).isEqualTo(2L * 1000 * 1024);
        // Measured: 400 bytes per batch of one 16-byte inline part, before the same 32 bytes went.
        assertThat((inline16 - estimate(0, i -> part())) / 1000.0).isCloseTo(400 - 32, within(40.0));

        long bare = estimate(1000, i -> hollow(0, 0));
        assertThat(estimate(1000, i -> hollow(1024, 0)) - bare).isEqualTo(2L * 1000 * 1024);
        assertThat(estimate(1000, i -> hollow(512, 512)) - bare).isEqualTo(2L * 1000 * 1024);
    }

    @Test
    void handles_count_each() {
        State none = with(initial, c -> c.mutableWriters().clear());
        State hundred = with(initial, c -> {
            for (int i = 0; i < 100; i++) {
                c.mutableWriters().put(WriterId.random(), new WriterState(0, 60_000, IdempotencyToken.random(),
                        Frontier.MIN, TestStates.DEBUG));
            }
        });
        // Measured: 153 bytes per writer, and 88 more for its entry in the index of lease expiries.
        long perWriter = (RetainedSize.estimateBytes(hundred) - RetainedSize.estimateBytes(none)) / 100;
        assertThat(perWriter).isBetween(200L, 290L);
        State readers = with(none, c -> {
            for (int i = 0; i < 100; i++) {
                c.mutableLeasedReaders().put(LeasedReaderId.random(), new LeasedReaderState(SeqNo.of(1), Frontier.MIN,
                        0, 60_000, TestStates.DEBUG));
            }
        });
        // A leased reader is in three indexes (expiries, seqno holds, sinces): 216 bytes more than it was.
        long perReader = (RetainedSize.estimateBytes(readers) - RetainedSize.estimateBytes(none)) / 100;
        assertThat(perReader).isBetween(330L, 420L);
    }

    /** A schema's encodings count at their size (a client may register schemas of megabytes). */
    @Test
    void schemas_count_their_bytes_and_a_machine_memoizes_them_per_schemas_map() {
        State none = with(initial, c -> c.mutableSchemas().clear());
        State large = with(none, c -> c.mutableSchemas().put(new SchemaId(0), new EncodedSchemas(
                Bytes.wrap(new byte[1 << 20]), Bytes.EMPTY, Bytes.wrap(new byte[1 << 19]), Bytes.EMPTY)));
        long grown = RetainedSize.estimateBytes(large) - RetainedSize.estimateBytes(none);
        assertThat(grown).isBetween((1L << 20) + (1L << 19), (1L << 20) + (1L << 19) + 1_000);

        RetainedSize.SchemaBytes memo = new RetainedSize.SchemaBytes();
        assertThat(memo.of(large.collections().schemas())).isEqualTo((1L << 20) + (1L << 19));
        assertThat(memo.of(none.collections().schemas())).isZero();
        assertThat(RetainedSize.estimateBytes(large, memo.of(large.collections().schemas())))
                .isEqualTo(RetainedSize.estimateBytes(large));
    }

    @Test
    void the_estimate_of_a_state_built_by_pushes_and_merges_is_that_of_its_batches_decoded_at_once() {
        Trace trace = Trace.EMPTY;
        List<FueledMergeReq> requests = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            BatchPart part = i % 3 == 0 ? inline(10 + i) : hollow(i, 2 * i);
            Trace.Pushed pushed = trace.push(HollowBatch.of(desc(i, i + 1), 1, List.of(part)));
            trace = pushed.trace();
            requests.addAll(pushed.mergeRequests());
        }
        for (FueledMergeReq request : requests.subList(0, requests.size() / 2)) {
            HollowBatch output = HollowBatch.of(request.desc(), request.inputs().size(), List.of(hollow(100, 50)));
            trace = trace.applyMergeRes(new FueledMergeRes(output, request.inputs())).trace();
        }
        Trace incremental = trace;
        Trace decoded = new Trace(trace.since(), new ArrayList<>(trace.batches()));
        assertThat(incremental.totals()).isEqualTo(decoded.totals());
        assertThat(RetainedSize.estimateBytes(with(initial, c -> c.trace(incremental))))
                .isEqualTo(RetainedSize.estimateBytes(with(initial, c -> c.trace(decoded))));
    }

    /** The estimate of {@link #initial} holding {@code count} batches of one part each. */
    private long estimate(int count, IntFunction<BatchPart> part) {
        List<HollowBatch> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            batches.add(HollowBatch.of(desc(i, i + 1), 1, List.of(part.apply(i))));
        }
        return estimateWith(batches, count);
    }

    /** The estimate of {@link #initial} holding {@code count} batches of {@code parts} hollow parts each. */
    private long estimate(int count, int parts) {
        List<HollowBatch> batches = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            List<BatchPart> each = new ArrayList<>();
            for (int p = 0; p < parts; p++) {
                each.add(part());
            }
            batches.add(HollowBatch.of(desc(i, i + 1), parts, each));
        }
        return estimateWith(batches, count);
    }

    /** As a machine holds it: one version per batch appended since the rollup of {@link #initial}. */
    private long estimateWith(List<HollowBatch> batches, int versions) {
        State state = with(initial, c -> c.trace(new Trace(Frontier.MIN, batches)));
        return RetainedSize.estimateBytes(TestStates.at(state, state.seqno().value() + versions));
    }

    private static BatchPart.Inline inline(int bytes) {
        return BatchPart.Inline.of(Bytes.copyOf(new byte[bytes]));
    }

    private static BatchPart.Hollow hollow(int keyLowerBytes, int statsBytes) {
        return new BatchPart.Hollow(new PartialBatchKey(WriterKey.ofVersion(TestStates.VERSION), PartId.random()),
                4096, Bytes.copyOf(new byte[keyLowerBytes]), Optional.empty(), OptionalLong.empty(),
                OptionalLong.empty(), Bytes.copyOf(new byte[statsBytes]));
    }
}
