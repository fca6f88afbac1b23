package io.stateversions.core;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The pure work functions of shard commands (spec §15, §17), each for {@link Transition#computeNext}. They read
 * and change only the collections they are given; everything around them (leases, maintenance, the diff) is the
 * transition's.
 */
public final class Commands {

    private Commands() {}

    /** The result of {@link #addRollup}: whether the rollup is in state (inserted now or earlier). */
    public record AddRollupResult(boolean applied) {}

    /**
     * Links a written rollup into state: inserted iff there is no rollup at its seqno and it is not older than the
     * oldest rollup in state (clearing the active-rollup marker); applied iff inserted or the same key is already
     * there. Always continues, so it is linearized.
     *
     * <p>A rollup below the oldest one in state is never linked: GC removes rollups from state only below a seqno it
     * has truncated to (spec §11.3), so such a rollup lies below earliest and is useless; worse, it may be one that
     * GC removed and whose blob it deleted, linked again by a retry of this very command after a lost reply. Not
     * applied, its writer deletes its blob, which no current or future state refers to.
     */
    public static Transition.Work<AddRollupResult> addRollup(SeqNo seqno, HollowRollup rollup) {
        return (newSeqno, c) -> {
            HollowRollup existing = c.rollups().get(seqno);
            if (existing != null) {
                return WorkResult.proceed(new AddRollupResult(existing.key().equals(rollup.key())));
            }
            if (!c.rollups().isEmpty() && seqno.isBefore(c.rollups().firstKey())) {
                return WorkResult.proceed(new AddRollupResult(false));
            }
            if (!rollup.key().seqno().equals(seqno)) {
                throw new IllegalArgumentException("rollup key " + rollup.key() + " is not for " + seqno);
            }
            c.mutableRollups().put(seqno, rollup);
            c.activeRollup(Optional.empty());
            return WorkResult.proceed(new AddRollupResult(true));
        };
    }

    /**
     * Removes rollups from state (the last step of GC), clearing the active-GC marker. Breaks on an empty list, and
     * on a tombstone, where it may not commit ({@link Command#allowedOnTombstone}; persist breaks there too).
     * Returns the seqnos removed; a rollup already gone, or replaced by another key, is left alone. When nothing is
     * left to do (every listed rollup is gone, and no active-GC marker) it breaks too: a second GC that finishes the
     * same work (another replica's, or a resumed one) commits no version for nothing.
     */
    public static Transition.Work<List<SeqNo>> removeRollups(List<Map.Entry<SeqNo, PartialRollupKey>> remove) {
        return (newSeqno, c) -> {
            if (remove.isEmpty() || c.isTombstone()) {
                return WorkResult.stop(List.of());
            }
            List<SeqNo> removed = new ArrayList<>();
            for (Map.Entry<SeqNo, PartialRollupKey> entry : remove) {
                HollowRollup existing = c.rollups().get(entry.getKey());
                if (existing != null && existing.key().equals(entry.getValue())) {
                    c.mutableRollups().remove(entry.getKey());
                    removed.add(entry.getKey());
                }
            }
            if (removed.isEmpty() && c.activeGc().isEmpty()) {
                return WorkResult.stop(List.of());
            }
            c.activeGc(Optional.empty());
            if (c.rollups().isEmpty()) {
                throw new IllegalStateException("invariant violated: removing rollups " + remove
                        + " would leave no rollup in state");
            }
            // GC removes rollups only below a seqno it has truncated to, having deleted first the parts released at
            // or below it; so every part released at or below the oldest rollup left is collected.
            List<PartialBatchKey> collected = c.releasedAtOrBelow(c.rollups().firstKey());
            if (!collected.isEmpty()) {
                NavigableMap<PartialBatchKey, SeqNo> released = c.mutableReleasedParts();
                collected.forEach(released::remove);
            }
            return WorkResult.proceed(removed);
        };
    }

    /**
     * {@code work}, refused with {@link HandleLimitException} if it continues with more handles than it found and
     * more than {@code maxHandles} of them live at {@code nowMs} (lapsed ones are removed by this very commit, so they
     * make no room only once they count). Throwing discards the work's changes: a batched command's neighbours are
     * unaffected. A command that re-registers or heartbeats a handle, or an append of a known writer, never grows
     * the count and is never refused; only at the limit are the expiry indexes asked for lapsed leases.
     */
    public static <R> Transition.Work<R> withHandleLimit(int maxHandles, long nowMs, Transition.Work<R> work) {
        return (newSeqno, c) -> {
            int before = handleCount(c);
            WorkResult<R> result = work.apply(newSeqno, c);
            int after = handleCount(c);
            if (after > before && after > maxHandles && result instanceof WorkResult.Continue<R>) {
                int live = after - lapsedHandles(c, nowMs);
                if (live > maxHandles) {
                    throw new HandleLimitException(live - (after - before), maxHandles);
                }
            }
            return result;
        };
    }

    private static int handleCount(StateCollections.Builder c) {
        return c.leasedReaders().size() + c.criticalReaders().size() + c.writers().size();
    }

    /** From the handle maps' expiry indexes: O(log n + lapsed). */
    private static int lapsedHandles(StateCollections.Builder c, long nowMs) {
        return c.lapsedLeasedReaders(nowMs).size() + c.lapsedWriters(nowMs).size();
    }

    /** The result of {@link #registerLeasedReader}. */
    public record RegisteredReader(LeasedReaderState reader, SeqNo seqnoSince) {}

    /**
     * Registers a leased reader holding the new seqno, with since = the shard's since. On a tombstone it breaks with a
     * reader whose since is {@code {}}.
     *
     * <p>Registering a reader that is already in the state is idempotent, unlike persist (which overwrites it): its
     * seqno hold and its since stay as they are, and the command only heartbeats it and takes the new lease duration
     * and purpose. Persist's handle registers once in-process; a network client's repeated request (its HTTP library's
     * retry, a delayed duplicate) would otherwise move the hold of a reader that is still fetching parts of the
     * version it was given forward, and GC could then delete those parts under it.
     */
    public static Transition.Work<RegisteredReader> registerLeasedReader(LeasedReaderId id, HandleDebug debug,
            long leaseDurationMs, long heartbeatMs) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new RegisteredReader(
                        new LeasedReaderState(newSeqno, Frontier.EMPTY, heartbeatMs, leaseDurationMs, debug), newSeqno));
            }
            LeasedReaderState existing = c.leasedReaders().get(id);
            LeasedReaderState reader = existing == null
                    ? new LeasedReaderState(newSeqno, c.trace().since(), heartbeatMs, leaseDurationMs, debug)
                    : new LeasedReaderState(existing.seqno(), existing.since(),
                            Math.max(existing.lastHeartbeatTimestampMs(), heartbeatMs), leaseDurationMs, debug);
            c.mutableLeasedReaders().put(id, reader);
            SeqNo seqnoSince = c.leastSeqnoHold().filter(hold -> hold.isBefore(newSeqno)).orElse(newSeqno);
            return WorkResult.proceed(new RegisteredReader(reader, seqnoSince));
        };
    }

    /**
     * Heartbeats a leased reader, moves its seqno hold to {@code min(outstandingSeqno, newSeqno)} (without an
     * outstanding seqno: to {@code newSeqno}) and, iff its since is strictly less than {@code newSince}, sets it and
     * recomputes the shard's since as the meet of all readers'. Always commits (so it is linearized). A missing
     * reader or a tombstone breaks with since {@code {}}. An outstanding seqno below the reader's present hold throws
     * {@link InvalidUsageException}: a hold never moves back (GC may have collected below it already).
     */
    public static Transition.Work<Frontier> downgradeSince(LeasedReaderId id, Optional<SeqNo> outstandingSeqno,
            Frontier newSince, long heartbeatMs) {
        return (newSeqno, c) -> {
            LeasedReaderState reader = c.leasedReaders().get(id);
            if (c.isTombstone() || reader == null) {
                return WorkResult.stop(Frontier.EMPTY);
            }
            SeqNo hold = newSeqno;
            if (outstandingSeqno.isPresent()) {
                if (outstandingSeqno.get().isBefore(reader.seqno())) {
                    throw new InvalidUsageException("outstandingSeqno " + outstandingSeqno.get().value()
                            + " is below reader " + id + "'s seqno hold " + reader.seqno().value()
                            + ": a hold never moves back");
                }
                hold = outstandingSeqno.get().isBefore(newSeqno) ? outstandingSeqno.get() : newSeqno;
            }
            Frontier since = reader.since().lessThan(newSince) ? newSince : reader.since();
            LeasedReaderState updated = new LeasedReaderState(hold, since,
                    Math.max(reader.lastHeartbeatTimestampMs(), heartbeatMs), reader.leaseDurationMs(), reader.debug());
            NavigableMap<LeasedReaderId, LeasedReaderState> readers = c.mutableLeasedReaders();
            readers.put(id, updated);
            if (!since.equals(reader.since())) {
                c.trace(c.trace().withSince(readerSinceMeet(c)));
            }
            return WorkResult.proceed(since);
        };
    }

    /**
     * Heartbeats a leased reader ({@code heartbeat = max(old, new)}) and commits. A missing reader (expired, or
     * never registered) or a tombstone breaks with {@code false}: unlike persist, which commits a no-op, a missing
     * reader writes nothing, because the API reports it as expired and the caller must not go on reading.
     */
    public static Transition.Work<Boolean> heartbeatLeasedReader(LeasedReaderId id, long heartbeatMs) {
        return (newSeqno, c) -> {
            LeasedReaderState reader = c.leasedReaders().get(id);
            if (c.isTombstone() || reader == null) {
                return WorkResult.stop(false);
            }
            if (heartbeatMs > reader.lastHeartbeatTimestampMs()) {
                c.mutableLeasedReaders().put(id, new LeasedReaderState(reader.seqno(), reader.since(), heartbeatMs,
                        reader.leaseDurationMs(), reader.debug()));
            }
            return WorkResult.proceed(true);
        };
    }

    /**
     * The meet of every reader's since (leased and critical), from the readers' indexes (O(log n), not a walk of every
     * reader); the shard's since never regresses.
     */
    private static Frontier readerSinceMeet(StateCollections.Builder c) {
        return c.trace().since().join(c.readerSinceMeet());
    }

    /** Removes a leased reader. The shard's since is not recomputed (spec §14). Breaks on a tombstone. */
    public static Transition.Work<Boolean> expireLeasedReader(LeasedReaderId id) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(false);
            }
            boolean existed = c.leasedReaders().containsKey(id);
            if (existed) {
                c.mutableLeasedReaders().remove(id);
            }
            return WorkResult.proceed(existed);
        };
    }

    /**
     * Registers a critical reader with since = the shard's since and the caller's initial opaque token. Registering
     * it again with the same codec is idempotent: only its debug is updated, its since and token stay (and it still
     * commits). Another codec breaks with {@link RegisterCriticalResult.OpaqueCodecMismatch}; a tombstone breaks.
     * The shard's since is unchanged: the new reader starts at it.
     */
    public static Transition.Work<RegisterCriticalResult> registerCriticalReader(CriticalReaderId id,
            HandleDebug debug, String opaqueCodec, long initialOpaque) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new RegisterCriticalResult.Tombstoned());
            }
            CriticalReaderState existing = c.criticalReaders().get(id);
            if (existing != null && !existing.opaqueCodec().equals(opaqueCodec)) {
                return WorkResult.stop(new RegisterCriticalResult.OpaqueCodecMismatch(existing.opaqueCodec()));
            }
            CriticalReaderState reader = existing == null
                    ? new CriticalReaderState(c.trace().since(), initialOpaque, opaqueCodec, debug)
                    : new CriticalReaderState(existing.since(), existing.opaque(), existing.opaqueCodec(), debug);
            if (!reader.equals(existing)) {
                c.mutableCriticalReaders().put(id, reader);
            }
            return WorkResult.proceed(new RegisterCriticalResult.Registered(reader));
        };
    }

    /**
     * Compare-and-set of a critical reader's token, downgrading its since (spec §15, §22.9). A token other than
     * {@code expectedOpaque} changes nothing but still commits, so that the answer is linearized. Otherwise the
     * token becomes {@code newOpaque} and, iff the reader's since is {@code <= newSince} (less or equal, unlike a
     * leased reader's strictly less), the since becomes {@code newSince} and the shard's since is recomputed as the
     * meet of all readers' (never regressing). A missing reader breaks; a tombstone breaks with since {@code {}}
     * whatever the token, as in persist.
     *
     * <p>Monotone across retries (spec §22.7), unlike persist's in-process handle, whose caller cannot lose a reply:
     * a token other than {@code expectedOpaque} that already is {@code newOpaque}, with the reader's since at or
     * beyond {@code newSince}, means this call (or an equal one) already applied. It breaks with the reader's since
     * and token instead of a mismatch.
     */
    public static Transition.Work<CompareAndDowngradeResult> compareAndDowngradeSince(CriticalReaderId id,
            long expectedOpaque, long newOpaque, Frontier newSince) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new CompareAndDowngradeResult.Downgraded(Frontier.EMPTY, expectedOpaque));
            }
            CriticalReaderState reader = c.criticalReaders().get(id);
            if (reader == null) {
                return WorkResult.stop(new CompareAndDowngradeResult.ReaderMissing());
            }
            if (reader.opaque() != expectedOpaque) {
                if (reader.opaque() == newOpaque && newSince.lessEqual(reader.since())) {
                    // The reader already holds what this call asks for: the retry of a call that applied (its
                    // reply lost). Answer as it did, writing nothing; answering a mismatch would tell the client
                    // its downgrade did not happen.
                    return WorkResult.stop(new CompareAndDowngradeResult.Downgraded(reader.since(), reader.opaque()));
                }
                return WorkResult.proceed(new CompareAndDowngradeResult.OpaqueMismatch(reader.opaque(),
                        reader.since()));
            }
            boolean downgrade = reader.since().lessEqual(newSince);
            Frontier since = downgrade ? newSince : reader.since();
            CriticalReaderState updated = new CriticalReaderState(since, newOpaque, reader.opaqueCodec(),
                    reader.debug());
            if (!updated.equals(reader)) {
                c.mutableCriticalReaders().put(id, updated);
            }
            if (downgrade) {
                // As persist, also when the since is unchanged: the shard's since may lag the readers' meet after
                // an expiry (spec §14), and this lets it catch up.
                Frontier shardSince = readerSinceMeet(c);
                if (!shardSince.equals(c.trace().since())) {
                    c.trace(c.trace().withSince(shardSince));
                }
            }
            return WorkResult.proceed(new CompareAndDowngradeResult.Downgraded(since, newOpaque));
        };
    }

    /**
     * Removes a critical reader, the only way one goes away. As {@link #expireLeasedReader}: the shard's since is
     * not recomputed, a missing reader still commits (expiry is idempotent), a tombstone breaks.
     */
    public static Transition.Work<Boolean> expireCriticalReader(CriticalReaderId id) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(false);
            }
            boolean existed = c.criticalReaders().containsKey(id);
            if (existed) {
                c.mutableCriticalReaders().remove(id);
            }
            return WorkResult.proceed(existed);
        };
    }

    /**
     * Registers a writer, or heartbeats one: a new writer has no write yet (token {@link IdempotencyToken#SENTINEL},
     * upper {@link Frontier#MIN}); an existing one keeps its token and upper, so that a retried append is still
     * recognized, and takes the new lease and debug with {@code heartbeat = max(old, new)}. Breaks on a tombstone.
     */
    public static Transition.Work<RegisterWriterResult> registerWriter(WriterId id, HandleDebug debug,
            long leaseDurationMs, long heartbeatMs) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new RegisterWriterResult.Tombstoned());
            }
            WriterState existing = c.writers().get(id);
            WriterState writer = existing == null
                    ? new WriterState(heartbeatMs, leaseDurationMs, IdempotencyToken.SENTINEL, Frontier.MIN, debug)
                    : new WriterState(Math.max(existing.lastHeartbeatTimestampMs(), heartbeatMs), leaseDurationMs,
                            existing.mostRecentWriteToken(), existing.mostRecentWriteUpper(), debug);
            if (!writer.equals(existing)) {
                c.mutableWriters().put(id, writer);
            }
            return WorkResult.proceed(new RegisterWriterResult.Registered(writer));
        };
    }

    /**
     * Heartbeats a writer ({@code heartbeat = max(old, new)}) and commits. A missing writer or a tombstone breaks
     * with {@code false} (the API reports the writer as expired).
     */
    public static Transition.Work<Boolean> heartbeatWriter(WriterId id, long heartbeatMs) {
        return (newSeqno, c) -> {
            WriterState writer = c.writers().get(id);
            if (c.isTombstone() || writer == null) {
                return WorkResult.stop(false);
            }
            if (heartbeatMs > writer.lastHeartbeatTimestampMs()) {
                c.mutableWriters().put(id, new WriterState(heartbeatMs, writer.leaseDurationMs(),
                        writer.mostRecentWriteToken(), writer.mostRecentWriteUpper(), writer.debug()));
            }
            return WorkResult.proceed(true);
        };
    }

    /** Removes a writer, and with it its idempotency token. Breaks on a tombstone. */
    public static Transition.Work<Boolean> expireWriter(WriterId id) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(false);
            }
            boolean existed = c.writers().containsKey(id);
            if (existed) {
                c.mutableWriters().remove(id);
            }
            return WorkResult.proceed(existed);
        };
    }

    /**
     * compare_and_append's state-level checks, in the order of spec §17.1 (compaction claiming aside): tombstone,
     * writer upsert, bounds, empty interval, idempotency token, upper, inline backpressure; then the batch is
     * pushed (a non-empty range only), and the token and upper recorded. Unlike persist, whose handles never
     * reuse a token, a token recorded for another append breaks with {@link AppendResult.TokenReused} instead of
     * failing an assertion: a network client's mistake must not look like a broken invariant.
     */
    public static Transition.Work<AppendResult> compareAndAppend(HollowBatch batch, WriterId writerId,
            IdempotencyToken token, HandleDebug debug, long heartbeatMs, long leaseDurationMs,
            long inlineWritesTotalMaxBytes) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new AppendResult.UpperMismatch(Frontier.EMPTY, Frontier.EMPTY));
            }
            WriterState writer = c.writers().get(writerId);
            if (writer == null) {
                writer = new WriterState(heartbeatMs, leaseDurationMs, IdempotencyToken.SENTINEL, Frontier.MIN, debug);
            }
            Description desc = batch.desc();
            if (desc.upper().lessThan(desc.lower())) {
                return WorkResult.stop(new AppendResult.InvalidBounds(desc.lower(), desc.upper()));
            }
            if (desc.isEmptyTimeInterval() && !batch.isEmpty()) {
                return WorkResult.stop(new AppendResult.InvalidEmptyTimeInterval(desc.lower(), desc.upper(),
                        batch.parts().stream().map(Object::toString).toList()));
            }
            Frontier shardUpper = c.trace().upper();
            if (token.equals(writer.mostRecentWriteToken())) {
                if (!desc.upper().equals(writer.mostRecentWriteUpper())
                        || c.trace().batchAt(desc).filter(committed -> !committed.equals(batch)).isPresent()) {
                    // The same token for another append: the client's error, not a retry. (A batch merged away
                    // or folded into an empty neighbour can no longer be compared; its upper still is.)
                    return WorkResult.stop(new AppendResult.TokenReused());
                }
                if (!desc.upper().lessEqual(shardUpper)) {
                    throw new IllegalStateException("invariant violated: writer " + writerId + " token " + token
                            + " was recorded with upper " + writer.mostRecentWriteUpper() + " beyond the shard's"
                            + " upper " + shardUpper);
                }
                return WorkResult.stop(new AppendResult.AlreadyCommitted());
            }
            if (!shardUpper.equals(desc.lower())) {
                return WorkResult.stop(new AppendResult.UpperMismatch(shardUpper, writer.mostRecentWriteUpper()));
            }
            long inline = batch.inlineBytes();
            if (inline > 0 && c.trace().totals().inlineBytes() + inline >= inlineWritesTotalMaxBytes) {
                return WorkResult.stop(new AppendResult.InlineBackpressure());
            }
            refuseReleased(c, batch, Set.of(), writerId);
            List<FueledMergeReq> mergeRequests = List.of();
            if (!desc.isEmptyTimeInterval()) {
                mergeRequests = c.push(batch).mergeRequests();
            }
            if (desc.upper().lessThan(writer.mostRecentWriteUpper())) {
                throw new IllegalStateException("invariant violated: writer " + writerId + " upper would regress from "
                        + writer.mostRecentWriteUpper() + " to " + desc.upper());
            }
            c.mutableWriters().put(writerId, new WriterState(Math.max(writer.lastHeartbeatTimestampMs(), heartbeatMs),
                    writer.leaseDurationMs(), token, desc.upper(), writer.debug()));
            return WorkResult.proceed(new AppendResult.Appended(mergeRequests));
        };
    }

    /** Replaces compacted batches by a compaction's output (spec §3.5); breaks when it does not apply. */
    public static Transition.Work<ApplyMergeResult> applyMergeRes(FueledMergeRes res) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(ApplyMergeResult.NOT_APPLIED_NO_MATCH);
            }
            Trace.Merged merged = c.applyMergeRes(res);
            if (!merged.result().applied()) {
                return WorkResult.stop(merged.result());
            }
            Set<PartialBatchKey> inputKeys = new HashSet<>();
            res.inputs().forEach(input -> blobKeys(input, inputKeys::add));
            refuseReleased(c, res.output(), inputKeys, null);
            Set<PartialBatchKey> outputKeys = new HashSet<>();
            blobKeys(res.output(), outputKeys::add);
            NavigableMap<PartialBatchKey, SeqNo> released = c.mutableReleasedParts();
            for (PartialBatchKey key : inputKeys) {
                if (!outputKeys.contains(key)) {
                    released.put(key, newSeqno);
                }
            }
            return WorkResult.proceed(merged.result());
        };
    }

    /**
     * Refuses ({@link InvalidUsageException}, changing nothing) a batch that names a blob part a merge has released
     * ({@link StateCollections#releasedParts}), unless it is among {@code allowed} (a merge output may keep its own
     * inputs' parts). GC deletes a released part once it truncates the version that released it, and it decides so
     * from the versions it has read: a version committed while it deletes, naming the part again, would be left
     * pointing at a deleted blob. Refusing it in the state machine holds on every replica, since every commit
     * starts from the latest state. Checked after the idempotency token, so that the retry of an append that
     * committed before a merge released its parts still answers that it committed. {@code writer} is the appending
     * writer, or null for a merge output (only the message says which).
     */
    private static void refuseReleased(StateCollections.Builder c, HollowBatch batch, Set<PartialBatchKey> allowed,
            WriterId writer) {
        if (!c.hasReleasedParts()) {
            return;
        }
        blobKeys(batch, key -> {
            SeqNo at = c.releasedAt(key);
            if (at != null && !allowed.contains(key)) {
                throw new InvalidUsageException((writer == null ? "merge output" : "append of writer " + writer)
                        + " names blob part " + key + ", which a merge removed from the"
                        + " shard at seqno " + at.value() + " and garbage collection deletes: write every part under a"
                        + " new key. Nothing was changed");
            }
        });
    }

    private static void blobKeys(HollowBatch batch, Consumer<PartialBatchKey> out) {
        for (BatchPart part : batch.parts()) {
            if (part instanceof BatchPart.Hollow hollow) {
                out.accept(hollow.key());
            }
        }
    }

    /**
     * Registers a (key, value) schema pair. The API's rule, not persist's (which allows one pair and evolves it
     * with compare_and_evolve_schema): ids are dense from 0, so a new pair gets the number of pairs registered; a
     * pair equal to a registered one breaks with that pair's id (searching newest first, as persist), writing
     * nothing. Breaks on a tombstone.
     */
    public static Transition.Work<RegisterSchemaResult> registerSchema(EncodedSchemas schemas) {
        return (newSeqno, c) -> {
            if (c.isTombstone()) {
                return WorkResult.stop(new RegisterSchemaResult.Tombstoned());
            }
            for (Map.Entry<SchemaId, EncodedSchemas> entry : c.schemas().descendingMap().entrySet()) {
                if (entry.getValue().equals(schemas)) {
                    return WorkResult.stop(new RegisterSchemaResult.Registered(entry.getKey()));
                }
            }
            SchemaId id = new SchemaId(c.schemas().size());
            if (!c.schemas().isEmpty() && c.schemas().lastKey().value() != id.value() - 1) {
                throw new IllegalStateException("invariant violated: schema ids must be dense from 0, got "
                        + c.schemas().keySet());
            }
            c.mutableSchemas().put(id, schemas);
            return WorkResult.proceed(new RegisterSchemaResult.Registered(id));
        };
    }

    /**
     * Finalizes a shard whose since and upper are both {@code {}} into a tombstone, in one transition: every
     * reader and writer is removed, and the batches are replaced by a single empty batch {@code [{0}, {})} at since
     * {@code {}} (a single empty batch already there is kept). Persist shrinks the trace one batch per transition
     * to bound each diff; here finalizing is one version, whose diff deletes each batch once, so it is no larger
     * than the batches already in state. The parts of the removed batches become garbage
     * ({@link StateDiff#partDeletes}). Breaks with
     * {@link BecomeTombstoneResult.NotFinalizable} unless since and upper are {@code {}}, and with
     * {@link BecomeTombstoneResult.AlreadyTombstone} on a finalized tombstone ({@link State#isFinalized}); a
     * tombstone that still holds several or non-empty batches is shrunk and commits.
     */
    public static Transition.Work<BecomeTombstoneResult> becomeTombstone() {
        return (newSeqno, c) -> {
            Trace trace = c.trace();
            if (!trace.since().isEmpty() || !trace.upper().isEmpty()) {
                return WorkResult.stop(new BecomeTombstoneResult.NotFinalizable(trace.since(), trace.upper()));
            }
            List<HollowBatch> batches = trace.batches();
            boolean singleEmptyBatch = batches.size() <= 1 && batches.stream().allMatch(HollowBatch::isEmpty);
            if (c.isTombstone() && singleEmptyBatch) {
                return WorkResult.stop(new BecomeTombstoneResult.AlreadyTombstone());
            }
            if (!c.leasedReaders().isEmpty()) {
                c.mutableLeasedReaders().clear();
            }
            if (!c.criticalReaders().isEmpty()) {
                c.mutableCriticalReaders().clear();
            }
            if (!c.writers().isEmpty()) {
                c.mutableWriters().clear();
            }
            if (!singleEmptyBatch) {
                c.trace(new Trace(Frontier.EMPTY, List.of(HollowBatch.empty(
                        new Description(Frontier.MIN, Frontier.EMPTY, Frontier.EMPTY)))));
            }
            return WorkResult.proceed(new BecomeTombstoneResult.Finalized());
        };
    }

    /**
     * Commits iff a leased reader or a writer of the shard has a lapsed lease at {@code nowMs}, so that the
     * transition's lease expiry removes it (spec §14): for shards that go quiet, whose handles would otherwise
     * hold back GC until the next command. Returns how many handles lapsed; breaks (writes nothing) if none.
     */
    public static Transition.Work<Integer> expireLapsedHandles(long nowMs) {
        return (newSeqno, c) -> {
            int lapsed = lapsedHandles(c, nowMs);
            return lapsed > 0 ? WorkResult.proceed(lapsed) : WorkResult.stop(0);
        };
    }
}
