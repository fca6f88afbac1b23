package io.stateversions.machine;

import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RunId;
import io.stateversions.core.RunMeta;
import io.stateversions.core.State;
import io.stateversions.core.Trace;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link EncodedSize} is not below a batch's encoding, whatever its parts: the cap of queued bytes counts at least
 * what the commands carry. A batch's encoding is measured as what it adds to an encoded state (a rollup).
 */
class EncodedSizeTest {

    private static final long SEED = 20261206L;

    @Test
    void the_estimate_of_a_batch_is_at_least_what_it_adds_to_an_encoded_state() {
        Random random = new Random(SEED);
        PersistConfig cfg = config();
        StateCodec codec = new StateCodec(cfg);
        State initial = initial();
        long withoutBatch = encodedWith(codec, initial, List.of());
        WriterId writer = WriterId.random();
        for (int i = 0; i < 200; i++) {
            HollowBatch batch = randomBatch(random, writer);
            HollowBatch bare = new HollowBatch(batch.desc(), batch.len(), List.of(), List.of(), List.of());
            long bareBytes = encodedWith(codec, initial, List.of(bare)) - withoutBatch;
            long partsBytes = encodedWith(codec, initial, List.of(batch)) - withoutBatch - bareBytes;
            assertThat(EncodedSize.of(bare)).as("seed %d, batch %d without parts: %s", SEED, i, bare)
                    .isGreaterThanOrEqualTo(bareBytes);
            assertThat(EncodedSize.of(batch) - EncodedSize.of(bare)).as("seed %d, batch %d: %s", SEED, i, batch)
                    .isGreaterThanOrEqualTo(partsBytes);
        }
    }

    /** The encoded rollup of {@code state} with {@code batches} as its trace. */
    private static long encodedWith(StateCodec codec, State state, List<HollowBatch> batches) {
        return codec.encodeRollup(with(state, c -> c.trace(new Trace(Frontier.MIN, batches))), Optional.empty())
                .length;
    }

    /** Up to 6 parts, hollow or inline, with lower bounds, statistics, runs and run metadata of random sizes. */
    private static HollowBatch randomBatch(Random random, WriterId writer) {
        int partCount = 1 + random.nextInt(6);
        List<BatchPart> parts = new ArrayList<>();
        for (int p = 0; p < partCount; p++) {
            if (random.nextInt(4) == 0) {
                parts.add(new BatchPart.Inline(bytes(random, 200), Optional.empty(),
                        random.nextBoolean() ? OptionalLong.of(random.nextInt(1000)) : OptionalLong.empty()));
            } else {
                WriterKey key = random.nextBoolean() ? WriterKey.of(writer) : WriterKey.parse("n0001000");
                parts.add(new BatchPart.Hollow(new PartialBatchKey(key, PartId.random()),
                        random.nextInt(Integer.MAX_VALUE), bytes(random, 300),
                        random.nextBoolean() ? Optional.of(Frontier.of(random.nextInt(1_000_000))) : Optional.empty(),
                        random.nextBoolean() ? OptionalLong.of(random.nextLong()) : OptionalLong.empty(),
                        random.nextBoolean() ? OptionalLong.of(random.nextInt(1000)) : OptionalLong.empty(),
                        bytes(random, 200)));
            }
        }
        List<Integer> splits = new ArrayList<>();
        for (int s = 1; s < partCount; s++) {
            if (random.nextBoolean()) {
                splits.add(s);
            }
        }
        List<RunMeta> meta = new ArrayList<>();
        for (int r = 0; r <= splits.size(); r++) {
            TreeMap<String, Bytes> entries = new TreeMap<>();
            for (int e = random.nextInt(3); e > 0; e--) {
                entries.put("key-" + random.nextInt(100) + "-é", bytes(random, 40));
            }
            meta.add(new RunMeta(RunMeta.Order.values()[random.nextInt(RunMeta.Order.values().length)],
                    OptionalLong.of(random.nextInt(1000)), Optional.of(RunId.random()),
                    OptionalLong.of(random.nextInt(1_000_000)), entries));
        }
        return new HollowBatch(new Description(Frontier.MIN, Frontier.of(1 + random.nextInt(1_000_000)),
                Frontier.MIN), 1 + random.nextInt(1_000_000), parts, splits, meta);
    }

    private static Bytes bytes(Random random, int max) {
        byte[] b = new byte[random.nextInt(max + 1)];
        random.nextBytes(b);
        return Bytes.copyOf(b);
    }
}
