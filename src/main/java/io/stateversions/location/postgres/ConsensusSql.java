package io.stateversions.location.postgres;

/**
 * The SQL of the PostgreSQL/CockroachDB consensus backend, each statement next to the argument for its
 * correctness. Re-check the argument of every statement you edit; the contract tests (16 concurrent CaS on one
 * expected value, CaS racing truncate, two pools as two replicas) must stay green on a real server.
 *
 * <h2>Isolation</h2>
 * Every connection runs at SERIALIZABLE ({@code default_transaction_isolation} set as a startup parameter, and
 * verified when the schema is prepared). Every operation is one statement, i.e. one implicit transaction sent in
 * one round trip (the extended protocol's Parse/Bind/Execute/Sync travel together, and prepared statements are
 * cached). Serializable execution of single-statement transactions makes each operation atomic with respect to
 * every other; PostgreSQL's SSI is also strict (a transaction that starts after another committed sees it), so the
 * operations are linearizable per key. CockroachDB is serializable by default.
 *
 * <p>Why not READ COMMITTED: the contract allows {@code new > expected + 1}. Under READ COMMITTED two CaS
 * calls with the same expected value but different new seqnos both see the old head and insert different
 * primary keys, and both commit. Persist's newer READ COMMITTED family avoids that only by deriving expected
 * from new (its CaS always writes {@code expected + 1}), which our classic, more general contract does not.
 *
 * <h2>Failures</h2>
 * An error from the server for a statement means its implicit transaction rolled back, but only the SQLSTATEs in
 * {@link PostgresErrors} are classified determinate; everything else, and every failure after the statement
 * was sent without a server answer, is indeterminate.
 */
final class ConsensusSql {

    private ConsensusSql() {}

    /** The table (persist's layout). {@code COLLATE "C"} makes key order byte order, as {@code listKeys} promises. */
    static final String CREATE_TABLE_POSTGRES = """
            CREATE TABLE IF NOT EXISTS consensus (
                shard text COLLATE "C" NOT NULL,
                sequence_number bigint NOT NULL CHECK (sequence_number >= 0),
                data bytea NOT NULL,
                PRIMARY KEY (shard, sequence_number)
            )""";

    /**
     * {@code CREATE TABLE IF NOT EXISTS} is not safe against itself in PostgreSQL: two replicas starting at once
     * can both pass the existence check and one fails on the catalog's unique index. A transaction-scoped advisory
     * lock serializes the creators; it is released at commit. The key is "state_vs" in ASCII.
     */
    static final String SCHEMA_LOCK_POSTGRES = "SELECT pg_advisory_xact_lock(8319395793566950515)";

    /**
     * CockroachDB runs schema changes transactionally (concurrent creation is safe without a lock). High row churn
     * leaves MVCC garbage that slows scans, so collect it after 10 minutes instead of the default, and keep
     * automatic statistics off the table (persist's settings).
     */
    static final String CREATE_TABLE_COCKROACH = """
            CREATE TABLE IF NOT EXISTS consensus (
                shard STRING NOT NULL,
                sequence_number INT8 NOT NULL CHECK (sequence_number >= 0),
                data BYTES NOT NULL,
                PRIMARY KEY (shard, sequence_number)
            ) WITH (sql_stats_automatic_collection_enabled = false)""";

    static final String CONFIGURE_ZONE_COCKROACH = "ALTER TABLE consensus CONFIGURE ZONE USING gc.ttlseconds = 600";

    static final String VERSION = "SELECT version()";

    static final String ISOLATION = "SELECT current_setting('transaction_isolation')";

    /** The entry with the largest seqno: one backward probe of the primary key. */
    static final String HEAD = """
            SELECT sequence_number, data FROM consensus
            WHERE shard = $1 ORDER BY sequence_number DESC LIMIT 1""";

    /** Entries {@code >= $2}, ascending, at most {@code $3}: one forward range scan of the primary key. */
    static final String SCAN = """
            SELECT sequence_number, data FROM consensus
            WHERE shard = $1 AND sequence_number >= $2 ORDER BY sequence_number ASC LIMIT $3""";

    /**
     * CaS with no expected entry: insert iff the key has no rows. Parameters: shard, new seqno, data. One row
     * affected = committed, zero = mismatch.
     *
     * <p>On CockroachDB this is the whole operation: racing initializers all see no rows, and serializable
     * execution lets at most one commit (the others fail with 40001, or with a unique violation when they chose the
     * same seqno).
     *
     * <p>On PostgreSQL it runs inside {@link #INIT_BEGIN} ... {@link #INIT_LOCK} ... {@code COMMIT}: at SERIALIZABLE
     * the existence check of a missing key takes a predicate lock on a page of the primary key's index, so that
     * inserting other keys into the same page aborts with 40001; many shards opened at once mostly failed (a
     * contract test opens 64). Instead, initializers of one key take a transaction-scoped advisory lock on it and
     * run at READ COMMITTED. The argument: (1) initializers of a key are serialized by the lock, and each runs its
     * INSERT as a new statement after acquiring it, so its snapshot contains every row committed by the initializers
     * before it: at most one inserts. (2) Every other writer of the key ({@link #CAS_EXPECTED}) inserts only when the
     * key has a head, and a key that has rows never loses its last one (truncate keeps the head), so no other writer
     * can make an empty key non-empty concurrently. (3) Reads and serializable writers see the new row only once it
     * is committed, as any committed row.
     */
    static final String CAS_EMPTY = """
            INSERT INTO consensus (shard, sequence_number, data)
            SELECT $1, $2, $3 WHERE NOT EXISTS (SELECT 1 FROM consensus WHERE shard = $1)""";

    /** Opens the initialization transaction of a key on PostgreSQL (see {@link #CAS_EMPTY}). */
    static final String INIT_BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED";

    /**
     * The advisory lock of one key's initializers, released at commit or rollback. The two-key form keeps it apart
     * from single-key advisory locks ({@link #SCHEMA_LOCK_POSTGRES}); the class is "svsi" in ASCII. Keys whose
     * hashes collide only wait for each other.
     */
    static final String INIT_LOCK = "SELECT pg_advisory_xact_lock(1937142633, hashtext($1))";

    /**
     * CaS on an expected head: insert iff the current head is exactly {@code $2}. The head is read by one index
     * probe (CockroachDB's one-round-trip, one-phase-commit form of the statement). Among racing writers with the
     * same expected value the primary key decides when they write the same new seqno (persist always writes
     * expected + 1): the loser waits on the winner's tuple and then fails with a unique violation (or 40001); with
     * different new seqnos SSI sees both read the head the other wrote after, and aborts one with 40001. A head
     * above {@code $2}, below it, or absent makes the predicate false or null: zero rows, a mismatch.
     * Parameters: shard, expected seqno, new seqno, data.
     */
    static final String CAS_EXPECTED = """
            INSERT INTO consensus (shard, sequence_number, data)
            SELECT $1, $3, $4
            WHERE (SELECT sequence_number FROM consensus WHERE shard = $1
                   ORDER BY sequence_number DESC LIMIT 1) = $2""";

    /**
     * Truncate in one round trip: delete the rows below {@code $2} iff {@code $2 <= head}, and report the head seen
     * and the number deleted. The head itself is never deleted: its seqno is {@code >= $2}. With no rows the head is
     * null and the comparison is null, so nothing is deleted and the caller reports "no data"; with {@code $2 > head}
     * nothing is deleted and the caller reports "upper bound too high". Both CTEs read one snapshot, and the
     * statement is one serializable transaction, so the check and the delete cannot be separated by a commit.
     */
    static final String TRUNCATE = """
            WITH head AS (SELECT max(sequence_number) AS seq FROM consensus WHERE shard = $1),
            deleted AS (
                DELETE FROM consensus
                WHERE shard = $1 AND sequence_number < $2 AND $2 <= (SELECT seq FROM head)
                RETURNING 1)
            SELECT (SELECT seq FROM head) AS head, (SELECT count(*) FROM deleted) AS deleted""";

    /**
     * Distinct keys after {@code $1} by a loose index scan: each step is one probe of the primary key for the next
     * greater key, so the cost is {@code limit} probes however many versions each shard has. PostgreSQL evaluates
     * the recursive CTE lazily, so the outer LIMIT stops the recursion.
     */
    static final String LIST_KEYS_POSTGRES = """
            WITH RECURSIVE keys(shard) AS (
                (SELECT shard FROM consensus WHERE shard > $1 ORDER BY shard LIMIT 1)
                UNION ALL
                SELECT (SELECT c.shard FROM consensus c WHERE c.shard > k.shard ORDER BY c.shard LIMIT 1)
                FROM keys k WHERE k.shard IS NOT NULL
            )
            SELECT shard FROM keys WHERE shard IS NOT NULL LIMIT $2""";

    /** CockroachDB plans DISTINCT over the primary key's prefix as a streaming distinct. */
    static final String LIST_KEYS_COCKROACH = """
            SELECT DISTINCT shard FROM consensus WHERE shard > $1 ORDER BY shard LIMIT $2""";
}
