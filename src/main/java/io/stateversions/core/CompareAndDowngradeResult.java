package io.stateversions.core;

/** The outcome of {@link Commands#compareAndDowngradeSince} (spec §15, §22.9). */
public sealed interface CompareAndDowngradeResult {

    /**
     * The token matched and was replaced by {@code opaque}; {@code since} is the reader's since afterwards, which
     * is the requested one unless that would have regressed it. On a tombstone: {@code {}}, whatever the token.
     */
    record Downgraded(Frontier since, long opaque) implements CompareAndDowngradeResult {}

    /** The token did not match: nothing changed (but the call was still committed, so it is linearized). */
    record OpaqueMismatch(long currentOpaque, Frontier since) implements CompareAndDowngradeResult {}

    /** No such critical reader (it was expired or never registered). */
    record ReaderMissing() implements CompareAndDowngradeResult {}
}
