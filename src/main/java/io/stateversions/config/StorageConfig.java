package io.stateversions.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;

/** Where state lives: the Consensus and Blob locations, and the data directory of the embedded defaults. */
@ConfigMapping(prefix = "stateversions")
public interface StorageConfig {

    /**
     * Directory for durable local data: the embedded PostgreSQL ({@code postgres/}) and the default file blob
     * store ({@code blob/}). Environment: {@code STATEVERSIONS_DATA_DIR}.
     */
    @WithDefault("./data")
    String dataDir();

    Consensus consensus();

    Blob blob();

    Health health();

    Deployment deployment();

    interface Consensus {
        /**
         * {@code postgres://user:password@host:port/database[?sslmode=…]} (PostgreSQL or CockroachDB) or
         * {@code mem://}. Unset: the Quarkus-managed reactive datasource if one is configured
         * ({@code quarkus.datasource.reactive.url}, or Dev Services), else an embedded PostgreSQL under the data
         * directory. Environment: {@code STATEVERSIONS_CONSENSUS_URL}.
         */
        Optional<String> url();

        Postgres postgres();

        Embedded embedded();
    }

    interface Postgres {
        /**
         * Connections in the pool of a {@code postgres://} URL (each replica also holds one more, to hear other
         * replicas' commits). The commit path needs few: group commit sends at most
         * {@code group-commit-max-in-flight} statements at once; 8 sustained the benchmark's 64 clients over 1,000
         * shards at the rate of 50.
         */
        @WithDefault("10")
        int maxPoolSize();

        /** How long an operation waits for a free connection before failing (determinately). */
        @WithDefault("60s")
        Duration acquireTimeout();

        /** Connections are replaced after this long, so that they follow failovers and DNS changes. */
        @WithDefault("300s")
        Duration maxLifetime();

        /** Timeout of opening one connection. */
        @WithDefault("5s")
        Duration connectTimeout();

        /**
         * Server-side {@code statement_timeout}; the client gives up {@code 5s} later. For the Quarkus-managed
         * datasource set {@code quarkus.datasource.reactive.additional-properties.statement_timeout} to match.
         */
        @WithDefault("30s")
        Duration statementTimeout();

        /** The most compare-and-sets of different shards sent to PostgreSQL as one statement (1: no grouping). */
        @WithDefault("32")
        int groupCommitMaxSize();

        /**
         * The most group statements in flight at once; compare-and-sets arriving meanwhile wait and go together in
         * the next group. About the number of cores PostgreSQL can spend on this service.
         */
        @WithDefault("4")
        int groupCommitMaxInFlight();
    }

    interface Embedded {
        /** Loopback port of the embedded PostgreSQL; 0 picks a free one (logged at start-up). */
        @WithDefault("0")
        int port();
    }

    interface Blob {
        /**
         * {@code s3://[access-key:secret-key@]bucket[/prefix][?endpoint=…&region=…&path-style=true]},
         * {@code file:///absolute/dir[?tombstone]} or {@code mem://[?tombstone=false]}. Unset: a file store in
         * {@code <data-dir>/blob}. Environment: {@code STATEVERSIONS_BLOB_URL}.
         */
        Optional<String> url();

        S3 s3();

        /** Threads doing the blocking I/O of a {@code file://} store. */
        @WithDefault("8")
        int fileIoThreads();
    }

    /** Timeouts of the S3 clients built from a URL's settings (the managed client takes {@code quarkus.s3.*}). */
    interface S3 {
        /** One whole operation, SDK retries included. */
        @WithDefault("180s")
        Duration operationTimeout();

        /** One attempt of an operation. */
        @WithDefault("90s")
        Duration attemptTimeout();

        @WithDefault("7s")
        Duration connectTimeout();

        /** Longest wait for data on an open connection. */
        @WithDefault("10s")
        Duration readTimeout();
    }

    /** The deployment identity that ties Consensus and Blob together (see {@code DeploymentIdentity}). */
    interface Deployment {
        /**
         * How long start-up retries Consensus and Blob for the deployment identity check before it fails (a server
         * may still be starting). A mismatch of the stores fails at once.
         */
        @WithDefault("60s")
        Duration startTimeout();
    }

    interface Health {
        /** Readiness reports DOWN when Consensus or Blob does not answer within this time. */
        @WithDefault("5s")
        Duration storageTimeout();
    }
}
