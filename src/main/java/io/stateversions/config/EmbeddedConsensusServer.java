package io.stateversions.config;

/**
 * The embedded PostgreSQL of the zero-configuration default. Its only implementation is a bean that native builds
 * leave out, so that a native executable contains none of the embedded server's code.
 */
public interface EmbeddedConsensusServer {

    /** Starts the server (at most once) and returns its connection URL. */
    String start();

    /** Stops the server, if started. */
    void stop();

    /** A short description for logs, e.g. the server version. */
    String describe();
}
