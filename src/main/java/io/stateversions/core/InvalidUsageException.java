package io.stateversions.core;

/**
 * A command asked for something its caller may not ask for, which only the state could tell (for instance a
 * leased reader moving its seqno hold backwards). The command changes nothing; the API answers
 * {@code 400 invalid_request} with this message. Syntax errors are refused earlier, before a command exists.
 */
public final class InvalidUsageException extends IllegalArgumentException {

    public InvalidUsageException(String message) {
        super(message);
    }
}
