package io.stateversions.testing;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.PgConnection;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** Empty databases on the test PostgreSQL server ({@code test.postgres.url}), for tests that need a Consensus of their own. */
public final class TestDatabases {

    private static final AtomicInteger CREATED = new AtomicInteger();

    private TestDatabases() {}

    /**
     * Creates a database on the server of {@code serverUrl} and returns its name: {@code prefix_<pid>_<n>}, unique
     * per process, so that suites may share an external server ({@link StorageServers#EXTERNAL_POSTGRES}).
     */
    public static String create(Vertx vertx, String serverUrl, String prefix) {
        String database = prefix + "_" + ProcessHandle.current().pid() + "_" + CREATED.incrementAndGet();
        try {
            PgConnection.connect(vertx, PgConnectOptions.fromUri(serverUrl))
                    .compose(connection -> connection.query("CREATE DATABASE " + database).execute()
                            .eventually(() -> connection.close()))
                    .toCompletionStage().toCompletableFuture().get(60, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("could not create database " + database + ": " + e, e);
        }
        return database;
    }

    /** The URL of {@code database} on the server of {@code serverUrl}. */
    public static String urlOf(String serverUrl, String database) {
        return serverUrl.replaceAll("/[^/]*$", "/" + database);
    }
}
