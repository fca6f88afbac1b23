package io.stateversions.codec;

import static io.stateversions.testing.TestStates.DEBUG;
import static io.stateversions.testing.TestStates.HOST;
import static io.stateversions.testing.TestStates.batch;
import static io.stateversions.testing.TestStates.config;
import static io.stateversions.testing.TestStates.initial;
import static io.stateversions.testing.TestStates.with;
import static org.assertj.core.api.Assertions.assertThat;

import io.stateversions.core.AppendResult;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Frontier;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.State;
import io.stateversions.core.Trace;
import io.stateversions.core.Transition;
import io.stateversions.core.WriterId;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The diff of one append does not grow with the shard: Consensus rows stay small however much history a shard
 * holds (issue 7's P6: at most 1 KiB for a shard of 10,000 batches).
 */
class AppendDiffSizeTest {

    @Test
    void the_encoded_diff_of_one_append_to_a_shard_of_ten_thousand_batches_is_under_a_kibibyte() {
        int count = 10_000;
        List<HollowBatch> batches = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            batches.add(batch(i, i + 1, 1));
        }
        WriterId writer = WriterId.random();
        PersistConfig cfg = config();
        State big = with(initial(), c -> c.trace(new Trace(Frontier.MIN, batches)));
        big = ((Transition.Committable<?>) Transition.computeNext(big, cfg, 2_000, HOST, Command.REGISTER,
                Commands.registerWriter(writer, DEBUG, cfg.writerLeaseDurationMs(), 2_000))).state();

        Transition<AppendResult> append = Transition.computeNext(big, cfg, 3_000, HOST, Command.COMPARE_AND_APPEND,
                Commands.compareAndAppend(batch(count, count + 1, 1), writer, IdempotencyToken.random(), DEBUG,
                        3_000, cfg.writerLeaseDurationMs(), cfg.inlineWritesTotalMaxBytes()));

        Transition.Committable<AppendResult> committed = (Transition.Committable<AppendResult>) append;
        assertThat(committed.result()).isInstanceOf(AppendResult.Appended.class);
        byte[] encoded = new StateCodec(cfg).encodeDiff(committed.diff());
        System.out.printf("encoded diff of one append to a shard of %d batches: %d bytes%n", count, encoded.length);
        assertThat(encoded.length).isLessThanOrEqualTo(1024);
    }
}
