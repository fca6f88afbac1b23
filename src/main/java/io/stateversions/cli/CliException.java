package io.stateversions.cli;

/** A command that failed for a reason the user can act on: printed as one line, with its exit code. */
final class CliException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** The service or storage could not answer, or answered with an error. */
    static final int FAILED = 3;

    private final int exitCode;

    CliException(String message) {
        this(message, FAILED);
    }

    CliException(String message, int exitCode) {
        super(message);
        this.exitCode = exitCode;
    }

    int exitCode() {
        return exitCode;
    }
}
