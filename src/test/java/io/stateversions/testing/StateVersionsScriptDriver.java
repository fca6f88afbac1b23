package io.stateversions.testing;

import io.stateversions.codec.StateCodec;
import io.stateversions.core.BatchPart;
import io.stateversions.core.CodecMismatchException;
import io.stateversions.core.Codecs;
import io.stateversions.core.Command;
import io.stateversions.core.Commands;
import io.stateversions.core.Description;
import io.stateversions.core.DiffValue;
import io.stateversions.core.AppendResult;
import io.stateversions.core.Frontier;
import io.stateversions.core.HandleDebug;
import io.stateversions.core.HollowBatch;
import io.stateversions.core.HollowBlobRef;
import io.stateversions.core.HollowRollup;
import io.stateversions.core.IdempotencyToken;
import io.stateversions.core.LeasedReaderId;
import io.stateversions.core.PartId;
import io.stateversions.core.PartialBatchKey;
import io.stateversions.core.PartialRollupKey;
import io.stateversions.core.PersistConfig;
import io.stateversions.core.RollupId;
import io.stateversions.core.SeqNo;
import io.stateversions.core.ShardId;
import io.stateversions.core.State;
import io.stateversions.core.StateDiff;
import io.stateversions.core.Transition;
import io.stateversions.core.Version;
import io.stateversions.core.WriterId;
import io.stateversions.core.WriterKey;
import io.stateversions.location.Blob;
import io.stateversions.location.BlobMetadata;
import io.stateversions.location.CasResult;
import io.stateversions.location.Consensus;
import io.stateversions.location.VersionedData;
import io.stateversions.stateversions.EncodedRollup;
import io.stateversions.stateversions.InspectDiff;
import io.stateversions.stateversions.Retries;
import io.stateversions.stateversions.StateVersions;
import io.stateversions.stateversions.StateVersionsIter;
import io.stateversions.stateversions.StateVersionsMetrics;
import io.stateversions.testing.Scripts.Directive;
import io.stateversions.testing.Scripts.ScriptError;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Runs the {@code scripts/state-versions/*.txt} scenarios against one {@link StateVersions} over a given
 * Consensus and Blob (memory, or PostgreSQL + S3). Output is deterministic whatever the backend:
 * <ul>
 *   <li>shards are named in scripts ({@code shard=a}) and get a fresh random id per run, printed as the name;</li>
 *   <li>rollup ids are printed {@code r1, r2, ...} in the order the rollups are written to Blob, so a rollup key
 *       reads {@code v4/r2}; readers and writers print as their script names, batch parts as {@code p1, p2...};</li>
 *   <li>the clock is the script's ({@code clock ms=}), the hostname is {@code h};</li>
 *   <li>listings are sorted, and nothing prints sizes or wall times.</li>
 * </ul>
 * Transitions are validated ({@link PersistConfig#validateTransitions}), so every live-state iteration also runs
 * the referenced-blob validator.
 *
 * <p>Each handle ({@code handle=}, default {@code main}) caches the last state it saw of each shard, as a process
 * would: {@code apply} computes the next state from it and compare-and-sets it, {@code write-rollup} rolls it up.
 *
 * <h2>Directives</h2>
 * <pre>
 * config [rollup-threshold=N] [recent-live-diffs-limit=N] [active-rollup=true|false]   (restarts StateVersions)
 * clock ms=N
 * init shard= [handle=] [codecs=k,v,t,d] [fault=landed|race [race-codecs=k,v,t,d]]
 * apply shard= [handle=] cmd=append lower= upper= [parts=N] [writer=name]
 *                        cmd=register-reader|expire-reader reader=name
 *                        cmd=downgrade-since reader=name since=T [hold=vN]
 *                        cmd=expire-writer writer=name
 *                        cmd=add-rollup                     (the handle's last written rollup)
 *                        cmd=remove-rollups seqnos=vA,vB
 * write-rollup shard= [handle=]
 * truncate shard= seqno=vN
 * fetch-current shard= [handle=] [hint=name]
 * recent-diffs shard= [save=name]
 * live-states shard=
 * rollup-at-seqno shard= seqno=vN
 * consensus-scan shard=
 * blob-list shard=
 * delete-blob shard= key=vN/rK
 * </pre>
 * {@code fault=landed}: the init CaS commits but reports {@code Indeterminate} (it is retried and loses to
 * itself). {@code fault=race}: another initializer (with {@code race-codecs}, default the same codecs) commits
 * just before the init CaS. Only a {@link CodecMismatchException} is printed as {@code error: ...}; any other
 * exception fails the script, so that a bug can never be accepted as expected output.
 */
public final class StateVersionsScriptDriver implements Scripts.Handler {

    public static final String SUITE = "state-versions";
    public static final Version BUILD = Version.parse("0.1.0");
    public static final String HOSTNAME = "h";
    private static final String DEFAULT_CODECS = "bytes,bytes,u64,i64";
    private static final long TIMEOUT_SECONDS = 60;
    private static final HandleDebug DEBUG = new HandleDebug(HOSTNAME, "script");
    private static final Pattern ID = Pattern.compile(
            "\\b([a-z]{1,2})([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})");
    private static final Pattern ROLLUP_BLOB = Pattern.compile("^s[0-9a-f-]{36}/v\\d+/(r[0-9a-f-]{36})$");

    /** The configuration scripts start with; {@code config} changes it. */
    public static PersistConfig defaultConfig() {
        return PersistConfig.defaults(BUILD).withValidateTransitions(true).withRollupThreshold(3);
    }

    private final FaultyConsensus consensus;
    private final Blob blob;
    private final Retries retries;
    private final Recorder events = new Recorder();
    private final AtomicLong nowMs = new AtomicLong();
    private PersistConfig cfg = defaultConfig();
    private StateVersions stateVersions;

    /** Printed id ({@code s<uuid>}, {@code r<uuid>}...) to its alias. */
    private final Map<String, String> aliases = new HashMap<>();
    private final Map<String, RollupId> rollupsByAlias = new HashMap<>();
    private int rollupCount;
    private int partCount;
    private final Map<String, ShardId> shards = new HashMap<>();
    private final Map<String, WriterId> writers = new HashMap<>();
    private final Map<String, LeasedReaderId> readers = new HashMap<>();
    /** By "shard/handle". */
    private final Map<String, State> cached = new HashMap<>();
    private final Map<String, EncodedRollup> lastWritten = new HashMap<>();
    private final Map<String, List<VersionedData>> hints = new HashMap<>();

    public StateVersionsScriptDriver(Consensus consensus, Blob blob, Retries retries) {
        this.consensus = new FaultyConsensus(consensus);
        this.blob = new ObservedBlob(blob, this::blobWritten);
        this.retries = retries;
        restart();
    }

    private void restart() {
        stateVersions = new StateVersions(cfg, consensus, blob, retries, events, nowMs::get, HOSTNAME);
    }

    @Override
    public String run(Directive d) throws Exception {
        events.drain();
        String out = switch (d.name()) {
            case "config" -> config(d);
            case "clock" -> {
                nowMs.set(d.longArg("ms"));
                yield "";
            }
            case "init" -> init(d);
            case "apply" -> apply(d);
            case "write-rollup" -> writeRollup(d);
            case "truncate" -> {
                await(stateVersions.truncateDiffs(shard(d), seqno(d, d.arg("seqno"))));
                yield "ok" + events();
            }
            case "fetch-current" -> fetchCurrent(d);
            case "recent-diffs" -> recentDiffs(d);
            case "live-states" -> liveStates(d);
            case "rollup-at-seqno" -> rollupAtSeqno(d);
            case "consensus-scan" -> consensusScan(d);
            case "blob-list" -> blobList(d);
            case "delete-blob" -> {
                OptionalLong deleted = await(blob.delete(rollupKey(d, d.arg("key")).complete(shard(d))));
                yield deleted.isPresent() ? "deleted" : "absent";
            }
            default -> throw new ScriptError(d, "unknown directive " + d.name());
        };
        return scrub(out);
    }

    // ------------------------------------------------------------------------------------------ directives

    private String config(Directive d) {
        PersistConfig next = defaultConfig();
        next = next.withRollupThreshold(d.longArg("rollup-threshold", next.rollupThreshold()));
        next = next.withRecentLiveDiffsLimit((int) d.longArg("recent-live-diffs-limit", next.recentLiveDiffsLimit()));
        next = next.withRollupUseActiveRollup(Boolean.parseBoolean(d.arg("active-rollup",
                String.valueOf(next.rollupUseActiveRollup()))));
        cfg = next;
        restart();
        return "";
    }

    private String init(Directive d) {
        ShardId shard = shard(d);
        Codecs codecs = codecs(d, d.arg("codecs", DEFAULT_CODECS));
        String fault = d.arg("fault", "none");
        switch (fault) {
            case "none" -> {}
            case "landed" -> consensus.loseReplyOfNextCas(shard.toString(),
                    () -> events.add("cas_fault(landed, reply lost)"));
            case "race" -> {
                Codecs raceCodecs = codecs(d, d.arg("race-codecs", d.arg("codecs", DEFAULT_CODECS)));
                consensus.beforeNextCas(shard.toString(), () -> stateVersions.maybeInitShard(shard, raceCodecs),
                        () -> events.add("cas_fault(race, another init first)"));
            }
            default -> throw new ScriptError(d, "unknown fault " + fault);
        }
        try {
            State state = await(stateVersions.maybeInitShard(shard, codecs));
            cached.put(handle(d), state);
            return summary(state) + " codecs=" + state.codecs() + events();
        } catch (CodecMismatchException e) {
            return "error: " + e.getMessage() + events();
        } finally {
            consensus.disarm();
        }
    }

    private String apply(Directive d) {
        State prev = cachedState(d);
        String cmd = d.arg("cmd");
        long now = nowMs.get();
        Command command;
        Transition.Work<?> work;
        Function<Object, String> format;
        switch (cmd) {
            case "append" -> {
                command = Command.COMPARE_AND_APPEND;
                long lower = d.longArg("lower");
                long upper = d.longArg("upper");
                int parts = (int) d.longArg("parts", 1);
                List<BatchPart> batchParts = new ArrayList<>();
                for (int i = 0; i < parts; i++) {
                    PartId part = PartId.random();
                    aliases.put(part.toString(), "p" + ++partCount);
                    batchParts.add(BatchPart.Hollow.of(new PartialBatchKey(WriterKey.ofVersion(BUILD), part), 100));
                }
                HollowBatch batch = HollowBatch.of(
                        new Description(Frontier.of(lower), Frontier.of(upper), Frontier.MIN), 10L * parts, batchParts);
                work = Commands.compareAndAppend(batch, writer(d.arg("writer", "w")), IdempotencyToken.random(), DEBUG,
                        now, cfg.writerLeaseDurationMs(), cfg.inlineWritesTotalMaxBytes());
                format = r -> {
                    if (r instanceof AppendResult.Appended a) {
                        return "appended" + (a.mergeRequests().isEmpty() ? ""
                                : " merge_reqs=" + a.mergeRequests().size());
                    }
                    if (r instanceof AppendResult.UpperMismatch m) {
                        return "upper mismatch: shard upper " + m.shardUpper();
                    }
                    return r.toString();
                };
            }
            case "register-reader" -> {
                command = Command.REGISTER;
                work = Commands.registerLeasedReader(reader(d.arg("reader")), DEBUG, cfg.readerLeaseDurationMs(), now);
                format = r -> {
                    Commands.RegisteredReader reg = (Commands.RegisteredReader) r;
                    return "registered since=" + reg.reader().since() + " seqno_since=" + reg.seqnoSince();
                };
            }
            case "downgrade-since" -> {
                command = Command.DOWNGRADE_SINCE;
                Optional<SeqNo> hold = d.optional("hold").map(s -> seqno(d, s));
                work = Commands.downgradeSince(reader(d.arg("reader")), hold, Frontier.of(d.longArg("since")), now);
                format = r -> "since=" + r;
            }
            case "expire-reader" -> {
                command = Command.EXPIRE_READER;
                work = Commands.expireLeasedReader(reader(d.arg("reader")));
                format = r -> "expired=" + r;
            }
            case "expire-writer" -> {
                command = Command.EXPIRE_WRITER;
                work = Commands.expireWriter(writer(d.arg("writer")));
                format = r -> "expired=" + r;
            }
            case "add-rollup" -> {
                command = Command.ADD_ROLLUP;
                EncodedRollup rollup = lastWritten.get(handle(d));
                if (rollup == null) {
                    throw new ScriptError(d, "this handle has written no rollup (write-rollup first)");
                }
                work = Commands.addRollup(rollup.seqno(), rollup.toHollow());
                format = r -> "applied=" + ((Commands.AddRollupResult) r).applied();
            }
            case "remove-rollups" -> {
                command = Command.REMOVE_ROLLUPS;
                List<Map.Entry<SeqNo, PartialRollupKey>> remove = new ArrayList<>();
                for (String s : d.arg("seqnos").split(",")) {
                    SeqNo seqno = seqno(d, s);
                    HollowRollup rollup = prev.collections().rollups().get(seqno);
                    if (rollup == null) {
                        throw new ScriptError(d, "the cached state " + prev.seqno() + " has no rollup at " + seqno);
                    }
                    remove.add(Map.entry(seqno, rollup.key()));
                }
                work = Commands.removeRollups(remove);
                format = r -> "removed=" + r;
            }
            default -> throw new ScriptError(d, "unknown command " + cmd);
        }
        Transition<?> t = Transition.computeNext(prev, cfg, now, HOSTNAME, command, work);
        if (t instanceof Transition.Broke<?> broke) {
            return "break at " + prev.seqno() + ": " + format.apply(broke.result()) + events();
        }
        Transition.Committable<?> c = (Transition.Committable<?>) t;
        StateVersions.CasOutcome outcome = await(
                stateVersions.tryCompareAndSetCurrent(command, Optional.of(prev.seqno()), c.state(), c.diff()));
        if (outcome.result() == CasResult.EXPECTATION_MISMATCH) {
            return "mismatch: the head is no longer " + prev.seqno() + events();
        }
        cached.put(handle(d), c.state());
        StringBuilder out = new StringBuilder().append(c.state().seqno()).append(' ').append(format.apply(c.result()));
        c.maintenance().writeRollup().ifPresent(s -> out.append(" rollup=").append(s));
        c.maintenance().garbageCollection().ifPresent(gc -> out.append(" gc=").append(gc.newSeqnoSince()));
        if (c.readersExpired() > 0) {
            out.append(" readers_expired=").append(c.readersExpired());
        }
        if (c.writersExpired() > 0) {
            out.append(" writers_expired=").append(c.writersExpired());
        }
        return out + events();
    }

    private String writeRollup(Directive d) {
        State state = cachedState(d);
        Optional<EncodedRollup> written = await(stateVersions.writeRollupForState(state, RollupId.random()));
        if (written.isEmpty()) {
            String reason = events.take("rollup_write_noop").orElse("?");
            return "noop " + reason + events();
        }
        EncodedRollup rollup = written.get();
        lastWritten.put(handle(d), rollup);
        StateCodec.DecodedRollup decoded = stateVersions.codec().decodeRollup(rollup.shard(), rollup.bytes());
        String inlined = decoded.diffs().map(i -> seqnos(i.diffs())).orElse("none");
        return rollup.key() + " state=" + decoded.state().seqno() + " inlined=" + inlined + events();
    }

    private String fetchCurrent(Directive d) {
        ShardId shard = shard(d);
        List<VersionedData> hint;
        if (d.optional("hint").isPresent()) {
            hint = hints.get(d.arg("hint"));
            if (hint == null) {
                throw new ScriptError(d, "no hint " + d.arg("hint") + " was saved (recent-diffs save=)");
            }
        } else {
            hint = await(stateVersions.fetchRecentLiveDiffs(shard));
        }
        if (hint.isEmpty()) {
            return "uninitialized" + events();
        }
        State state = await(stateVersions.fetchCurrentState(shard, hint));
        cached.put(handle(d), state);
        return summary(state) + events();
    }

    private String recentDiffs(Directive d) {
        List<VersionedData> diffs = await(stateVersions.fetchRecentLiveDiffs(shard(d)));
        d.optional("save").ifPresent(name -> hints.put(name, diffs));
        String path = events.take("recent_live_diffs").orElse("?");
        return (diffs.isEmpty() ? "none" : seqnos(diffs)) + " path=" + path + events();
    }

    private String liveStates(Directive d) {
        Optional<StateVersionsIter> iter = await(stateVersions.fetchAllLiveStates(shard(d)));
        if (iter.isEmpty()) {
            return "none" + events();
        }
        StateVersionsIter states = iter.get();
        List<String> lines = new ArrayList<>();
        Consumer<InspectDiff> inspect = step -> {
            List<String> blobs = new ArrayList<>();
            step.referencedBlobs(b -> blobs.add(describe(b)));
            if (step instanceof InspectDiff.FromInitial initial) {
                lines.add("FromInitial " + initial.state().seqno() + " blobs=" + blobs);
            } else {
                lines.add("Diff " + ((InspectDiff.Diff) step).diff().seqnoTo() + " inserts=" + blobs);
            }
        };
        while (states.next(inspect).isPresent()) {
            // each step prints itself; the validator checks it
        }
        lines.add("current " + summary(states.state()));
        return String.join("\n", lines) + events();
    }

    private String rollupAtSeqno(Directive d) {
        ShardId shard = shard(d);
        List<VersionedData> all = await(stateVersions.fetchAllLiveDiffs(shard));
        Optional<State> state = await(stateVersions.fetchRollupAtSeqno(shard, all, seqno(d, d.arg("seqno"))));
        return state.map(StateVersionsScriptDriver::summary).orElse("missing") + events();
    }

    private String consensusScan(Directive d) {
        ShardId shard = shard(d);
        List<VersionedData> entries = await(consensus.scan(shard.toString(), SeqNo.MIN, Consensus.SCAN_ALL));
        if (entries.isEmpty()) {
            return "none";
        }
        List<String> lines = new ArrayList<>();
        for (VersionedData entry : entries) {
            StateDiff diff = stateVersions.codec().decodeDiff(shard, entry.data());
            lines.add(entry.seqno() + " " + diff.seqnoFrom() + "->" + diff.seqnoTo() + " latest_rollup="
                    + diff.latestRollupKey() + " changed=" + changedFields(diff));
        }
        return String.join("\n", lines);
    }

    private String blobList(Directive d) {
        ShardId shard = shard(d);
        String prefix = shard + "/";
        List<String> keys = Collections.synchronizedList(new ArrayList<>());
        await(blob.list(prefix, (BlobMetadata m) -> keys.add(m.key().substring(prefix.length()))));
        if (keys.isEmpty()) {
            return "none";
        }
        List<String> printed = new ArrayList<>(keys.stream().map(this::scrub).toList());
        printed.sort(Comparator.comparingLong(StateVersionsScriptDriver::seqnoOf).thenComparing(Comparator.naturalOrder()));
        return String.join("\n", printed);
    }

    // ------------------------------------------------------------------------------------------- printing

    private static String summary(State s) {
        return s.seqno() + " since=" + s.since() + " upper=" + s.upper() + " batches="
                + s.collections().trace().batches().size() + " readers=" + s.collections().leasedReaders().size()
                + " writers=" + s.collections().writers().size() + " seqno_since=" + s.seqnoSince() + " rollups="
                + s.collections().rollups().values().stream().map(HollowRollup::toString)
                        .collect(Collectors.joining(",", "[", "]"));
    }

    private static String describe(HollowBlobRef blob) {
        if (blob instanceof HollowBlobRef.Batch b) {
            return "batch " + b.batch().desc().lower() + ".." + b.batch().desc().upper() + " parts="
                    + b.batch().parts().size();
        }
        return "rollup " + ((HollowBlobRef.Rollup) blob).rollup().key();
    }

    private static String changedFields(StateDiff diff) {
        List<String> fields = new ArrayList<>();
        if (!diff.hostname().isEmpty()) {
            fields.add("hostname");
        }
        if (!diff.lastGcReq().isEmpty()) {
            fields.add("last_gc_req");
        }
        if (!diff.activeRollup().isEmpty()) {
            fields.add("active_rollup");
        }
        if (!diff.activeGc().isEmpty()) {
            fields.add("active_gc");
        }
        if (!diff.rollups().isEmpty()) {
            fields.add("rollups" + diff.rollups().stream()
                    .map(f -> (f.value() instanceof DiffValue.Delete<?> ? "-" : "+") + f.key()).toList());
        }
        if (!diff.leasedReaders().isEmpty()) {
            fields.add("leased_readers");
        }
        if (!diff.criticalReaders().isEmpty()) {
            fields.add("critical_readers");
        }
        if (!diff.writers().isEmpty()) {
            fields.add("writers");
        }
        if (!diff.schemas().isEmpty()) {
            fields.add("schemas");
        }
        if (!diff.since().isEmpty()) {
            fields.add("since");
        }
        if (!diff.batches().isEmpty()) {
            fields.add("batches");
        }
        return fields.isEmpty() ? "none" : String.join(",", fields);
    }

    /** {@code v4..v9} for consecutive seqnos (the live diffs always are), else the list. */
    private static String seqnos(List<VersionedData> diffs) {
        if (diffs.isEmpty()) {
            return "none";
        }
        SeqNo first = diffs.get(0).seqno();
        SeqNo last = diffs.get(diffs.size() - 1).seqno();
        boolean consecutive = last.value() - first.value() == diffs.size() - 1;
        if (consecutive) {
            return diffs.size() == 1 ? first.toString() : first + ".." + last;
        }
        return diffs.stream().map(v -> v.seqno().toString()).collect(Collectors.joining(",", "[", "]"));
    }

    private static long seqnoOf(String relativeKey) {
        Matcher m = Pattern.compile("^v(\\d+)/").matcher(relativeKey);
        return m.find() ? Long.parseLong(m.group(1)) : Long.MAX_VALUE;
    }

    /** {@code "\nevents: ..."} for the notable events since the last call, or nothing. */
    private String events() {
        List<String> notable = events.drain().stream().filter(e -> !e.equals("recent_live_diffs(fast)")).toList();
        return notable.isEmpty() ? "" : "\nevents: " + String.join(" ", notable);
    }

    /** Replaces every id by its alias; a rollup id seen for the first time here gets the next one. */
    private synchronized String scrub(String text) {
        Matcher m = ID.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String id = m.group();
            String alias = aliases.get(id);
            if (alias == null) {
                alias = m.group(1).equals("r") ? rollupAlias(RollupId.parse(id)) : "<unknown " + m.group(1) + " id>";
            }
            m.appendReplacement(out, Matcher.quoteReplacement(alias));
        }
        m.appendTail(out);
        return out.toString();
    }

    private synchronized void blobWritten(String key) {
        Matcher m = ROLLUP_BLOB.matcher(key);
        if (m.matches() && !aliases.containsKey(m.group(1))) {
            rollupAlias(RollupId.parse(m.group(1)));
        }
    }

    private synchronized String rollupAlias(RollupId id) {
        String alias = "r" + ++rollupCount;
        aliases.put(id.toString(), alias);
        rollupsByAlias.put(alias, id);
        return alias;
    }

    // -------------------------------------------------------------------------------------------- parsing

    private ShardId shard(Directive d) {
        return shards.computeIfAbsent(d.arg("shard"), name -> {
            ShardId id = ShardId.random();
            aliases.put(id.toString(), name);
            return id;
        });
    }

    private String handle(Directive d) {
        return d.arg("shard") + "/" + d.arg("handle", "main");
    }

    private State cachedState(Directive d) {
        shard(d);
        State state = cached.get(handle(d));
        if (state == null) {
            throw new ScriptError(d, "handle " + handle(d) + " has no state yet (init or fetch-current first)");
        }
        return state;
    }

    private WriterId writer(String name) {
        return writers.computeIfAbsent(name, n -> {
            WriterId id = WriterId.random();
            aliases.put(id.toString(), n);
            return id;
        });
    }

    private LeasedReaderId reader(String name) {
        return readers.computeIfAbsent(name, n -> {
            LeasedReaderId id = LeasedReaderId.random();
            aliases.put(id.toString(), n);
            return id;
        });
    }

    private static Codecs codecs(Directive d, String printed) {
        String[] names = printed.split(",");
        if (names.length != 4) {
            throw new ScriptError(d, "codecs must be key,val,ts,diff; got " + printed);
        }
        return new Codecs(names[0], names[1], names[2], names[3]);
    }

    private static SeqNo seqno(Directive d, String printed) {
        try {
            return SeqNo.parse(printed);
        } catch (IllegalArgumentException e) {
            throw new ScriptError(d, e.getMessage());
        }
    }

    /** {@code v4/r2} (an alias) to the rollup key. */
    private synchronized PartialRollupKey rollupKey(Directive d, String printed) {
        int slash = printed.indexOf('/');
        RollupId id = slash < 0 ? null : rollupsByAlias.get(printed.substring(slash + 1));
        if (id == null) {
            throw new ScriptError(d, "unknown rollup " + printed + " (expected vN/rK with a known alias rK)");
        }
        return new PartialRollupKey(seqno(d, printed.substring(0, slash)), id);
    }

    private static <T> T await(CompletionStage<T> stage) {
        try {
            return stage.toCompletableFuture().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException r) {
                throw r;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(cause);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no result within " + TIMEOUT_SECONDS + " s", e);
        }
    }

    // ------------------------------------------------------------------------------------------- recorder

    /** Records what StateVersions reports, in order, as short strings. */
    static final class Recorder implements StateVersionsMetrics {
        private final List<String> events = new ArrayList<>();

        synchronized void add(String event) {
            events.add(event);
        }

        synchronized List<String> drain() {
            List<String> copy = List.copyOf(events);
            events.clear();
            return copy;
        }

        /** Removes the first event named {@code name} and returns its argument. */
        synchronized Optional<String> take(String name) {
            for (int i = 0; i < events.size(); i++) {
                String e = events.get(i);
                if (e.startsWith(name + "(")) {
                    events.remove(i);
                    return Optional.of(e.substring(name.length() + 1, e.length() - 1));
                }
            }
            return Optional.empty();
        }

        @Override
        public void recentLiveDiffs(boolean fastPath) {
            add("recent_live_diffs(" + (fastPath ? "fast" : "slow") + ")");
        }

        @Override
        public void staleRollupRefetch(String op) {
            add("stale_rollup_refetch(" + op + ")");
        }

        @Override
        public void rollupAtSeqnoMigration() {
            add("rollup_at_seqno_migration");
        }

        @Override
        public void rollupWriteNoop(String reason) {
            add("rollup_write_noop(" + reason + ")");
        }
    }

    /** A Blob that reports the key of every {@code set} before it starts (so rollups are aliased in write order). */
    static final class ObservedBlob extends ForwardingBlob {
        private final Consumer<String> onSet;

        ObservedBlob(Blob delegate, Consumer<String> onSet) {
            super(delegate);
            this.onSet = onSet;
        }

        @Override
        public CompletionStage<Void> set(String key, byte[] value) {
            onSet.accept(key);
            return delegate.set(key, value);
        }
    }
}
