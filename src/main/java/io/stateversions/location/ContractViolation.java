package io.stateversions.location;

/**
 * A call that breaks the contract of {@link Consensus} or {@link Blob}: a new seqno not greater than the
 * expected one, a truncation beyond the head, an invalid key or limit. It is a bug in the caller, never a
 * storage failure: it is not retried, and nothing was changed.
 */
public final class ContractViolation extends RuntimeException {

    public ContractViolation(String message) {
        super(message);
    }
}
