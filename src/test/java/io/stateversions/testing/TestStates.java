package io.stateversions.testing;

import io.stateversions.core.BatchPart;
import io.stateversions.core.Bytes;
import io.stateversions.core.Codecs;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Description;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateCollections;
import io.stateversions.core.Trace;
import io.stateversions.core.Transition;
import io.stateversions.core.Version;
import io.stateversions.core.WriterKey;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.function.Consumer;

/** Hand-built states for example tests: small, readable, and valid. */
public final class TestStates {

    public static final Codecs CODECS = new Codecs("Row", "()", "u64", "i64");
    public static final Version VERSION = Version.parse("0.1.0");
    public static final String HOST = "host-a";
    public static final HandleDebug DEBUG = new HandleDebug(HOST, "test");

    private TestStates() {}

    /** Persist's defaults for this build, checking every transition's diff. */
    public static PersistConfig config() {
        return PersistConfig.defaults(VERSION).withValidateTransitions(true);
    }

    /** A new shard's first version (v1): its only content is the self-referential rollup at v1. */
    public static State initial(ShardId shard) {
        State empty = State.empty(shard, CODECS, VERSION, HOST, 1_000);
        Transition<Commands.AddRollupResult> init = Transition.cloneApply(empty, config(), 1_000, HOST,
                Command.INIT_STATE, Commands.addRollup(SeqNo.of(1), rollup(1)));
        return ((Transition.Committable<Commands.AddRollupResult>) init).state();
    }

    public static State initial() {
        return initial(ShardId.random());
    }

    /** {@code state} with its collections changed by {@code edit} (same seqno: a test's starting point). */
    public static State with(State state, Consumer<StateCollections.Builder> edit) {
        StateCollections.Builder b = state.collections().toBuilder();
        edit.accept(b);
        return new State(state.shardId(), state.seqno(), state.walltimeMs(), state.hostname(), state.codecs(),
                b.build());
    }

    /** {@code state} relabelled as the version at {@code seqno}. */
    public static State at(State state, long seqno) {
        return new State(state.shardId(), SeqNo.of(seqno), state.walltimeMs(), state.hostname(), state.codecs(),
                state.collections());
    }

    /** A rollup of the state at {@code seqno}, size unknown. */
    public static HollowRollup rollup(long seqno) {
        return new HollowRollup(new PartialRollupKey(SeqNo.of(seqno), RollupId.random()), OptionalLong.empty());
    }

    public static BatchPart.Hollow part() {
        return BatchPart.Hollow.of(new PartialBatchKey(WriterKey.ofVersion(VERSION), PartId.random()), 100);
    }

    public static BatchPart.Inline inlinePart(int bytes) {
        return BatchPart.Inline.of(Bytes.copyOf(new byte[bytes]));
    }

    public static Description desc(long lower, long upper) {
        return new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN);
    }

    /** {@code [lower, upper)} with {@code len} updates in one hollow part, or empty for {@code len == 0}. */
    public static HollowBatch batch(long lower, long upper, long len) {
        Description desc = desc(lower, upper);
        return len == 0 ? HollowBatch.empty(desc) : HollowBatch.of(desc, len, List.of(part()));
    }

    /** Contiguous batches from {@code {0}}, each 10 wide, with these update counts. */
    public static List<HollowBatch> batches(long... lens) {
        List<HollowBatch> batches = new ArrayList<>();
        for (int i = 0; i < lens.length; i++) {
            batches.add(batch(10L * i, 10L * (i + 1), lens[i]));
        }
        return batches;
    }

    public static Trace trace(long... lens) {
        return new Trace(Frontier.MIN, batches(lens));
    }
}
