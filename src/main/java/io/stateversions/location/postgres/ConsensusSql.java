package io.stateversions.location.postgres;

/**
 * The SQL of the PostgreSQL/CockroachDB consensus backend, each statement next to the argument for its
 * correctness. Re-check the argument of every statement you edit; the contract tests (16 concurrent CaS on one
 * expected value, CaS racing truncate, two pools as two replicas) must stay green on a real server.
 *
 * <h2>Isolation</h2>
 * On PostgreSQL every connection runs at READ COMMITTED (set on each new connection, and verified when the schema
 * is prepared); on CockroachDB at SERIALIZABLE (its default, verified). Every operation is one statement, i.e. one
 * implicit transaction sent in one round trip (the extended protocol's Parse/Bind/Execute/Sync travel together, and
 * prepared statements are cached), except the first version of a key on PostgreSQL ({@link #CAS_EMPTY}).
 *
 * <p><b>Why READ COMMITTED is correct here.</b> Every compare-and-set writes exactly {@code expected + 1} (the
 * {@link io.stateversions.location.Consensus} contract), so a key's seqnos are contiguous from its earliest entry to
 * its head: an entry is inserted only right above an existing one, and truncation only removes a prefix below the
 * head. So "entry {@code e} exists and {@code e + 1} does not" is the same as "the head is {@code e}", and that is
 * what {@link #CAS_NEXT_POSTGRES} asks, with the primary key deciding among racers instead of a serializable
 * snapshot. The argument is at the statement. READ COMMITTED aborts nothing with serialization failures (40001),
 * which at SERIALIZABLE hit compare-and-sets of <em>neighbouring</em> keys through index-page predicate locks; and
 * the reads (head, scan) see every transaction that committed before they started, so operations stay
 * linearizable per key.
 *
 * <h2>Failures</h2>
 * An error from the server does not by itself mean that the statement's transaction rolled back: CockroachDB
 * answers a statement whose timer fired with 57014 even if the statement's one-phase commit went through. Only the
 * SQLSTATEs on the dialect's list in {@link PostgresErrors} (where the argument for each is) are classified
 * determinate; everything else, and every failure after the statement was sent without a server answer, is
 * indeterminate.
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

    /** Set on every PostgreSQL connection as it joins the pool, whatever the server's or role's default. */
    static final String READ_COMMITTED = "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED";

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
     * <p>On PostgreSQL it runs inside {@link #INIT_BEGIN} ... {@link #INIT_LOCK} ... {@code COMMIT}: the check of a
     * missing key cannot lock a row that does not exist, so initializers of one key take a transaction-scoped
     * advisory lock on it. The argument: (1) initializers of a key are serialized by the lock, and each runs its
     * INSERT as a new statement after acquiring it, so its snapshot contains every row committed by the initializers
     * before it: at most one inserts (a statement delayed past a whole other initialization and its truncation,
     * which could otherwise insert below a head, cannot happen: its snapshot is taken after the lock). (2) Every
     * other writer of the key ({@link #CAS_NEXT_POSTGRES}) inserts only above an existing entry, and a key that has
     * rows never loses its last one (truncate keeps the head), so no other writer can make an empty key non-empty
     * concurrently. (3) Reads see the new row only once it is committed, as any committed row.
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
     * CaS on an expected head, on PostgreSQL at READ COMMITTED: insert {@code $2 + 1} iff entry {@code $2} exists,
     * and let the primary key refuse it if {@code $2 + 1} exists already. Parameters: shard, expected seqno, data.
     * One row affected = committed, zero = mismatch.
     *
     * <p>The argument (keys' seqnos are contiguous, see the class comment):
     * <ul>
     *   <li><b>Head is {@code $2}:</b> the entry exists and the insert succeeds, unless a racer inserts
     *       {@code $2 + 1} first. Then the primary key decides: the later insert waits for the earlier transaction
     *       and, if it committed, does nothing (ON CONFLICT); exactly one racer commits, as at SERIALIZABLE.</li>
     *   <li><b>Head above {@code $2}:</b> {@code $2 + 1} exists (contiguity), or entry {@code $2} was truncated
     *       away; either way nothing is inserted. Below {@code $2}, or no entries: {@code prev} is empty.</li>
     *   <li><b>Racing truncation.</b> A READ COMMITTED statement reads a snapshot taken when it started, but the
     *       primary key is checked against the latest committed rows. Without a lock, a statement delayed after
     *       reading {@code $2} could find {@code $2 + 1} committed <em>and then truncated</em> by the time it
     *       inserts, and insert an entry below the head. {@code FOR KEY SHARE} prevents that: locking entry
     *       {@code $2} re-reads its latest version (a deleted one is skipped: a mismatch), and a truncation must
     *       wait to delete it until this transaction ends; a truncation that removes {@code $2 + 1} also removes
     *       {@code $2}, so it cannot commit in between. (If that truncation had already deleted {@code $2 + 1}
     *       when it meets this lock, the two wait for each other and PostgreSQL aborts one with 40P01: a
     *       determinate failure, retried; the key's head was above {@code $2} anyway.)</li>
     *   <li><b>Failover.</b> Nothing here depends on the isolation of other sessions or on anything but committed
     *       rows and the primary key: a standby promoted with every commit it acknowledged answers the same way. A
     *       compare-and-set whose commit was lost in the failover was never acknowledged; its caller saw an
     *       indeterminate failure and re-reads.</li>
     * </ul>
     */
    static final String CAS_NEXT_POSTGRES = """
            WITH prev AS (
                SELECT 1 FROM consensus WHERE shard = $1 AND sequence_number = $2 FOR KEY SHARE
            )
            INSERT INTO consensus (shard, sequence_number, data)
            SELECT $1, $2 + 1, $3 FROM prev
            ON CONFLICT (shard, sequence_number) DO NOTHING""";

    /**
     * {@link #CAS_NEXT_POSTGRES} for a group of distinct keys in one statement and one transaction (group commit):
     * parameters are three arrays of the same length, shards, expected seqnos and data; the answer lists the shards
     * that committed. Each member is decided exactly as alone (its own entry locked, its own primary key), so members
     * are independent, and the group commits or fails as one. Entries are locked and inserted in shard order, so
     * that two groups (of two replicas) that share keys wait for each other in one order and cannot deadlock on
     * their inserts.
     */
    static final String CAS_NEXT_GROUP_POSTGRES = """
            WITH input AS (
                SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[]) AS i(shard, expected, data)
            ),
            prev AS (
                SELECT c.shard FROM consensus c
                JOIN input i ON c.shard = i.shard AND c.sequence_number = i.expected
                ORDER BY c.shard
                FOR KEY SHARE OF c
            )
            INSERT INTO consensus (shard, sequence_number, data)
            SELECT i.shard, i.expected + 1, i.data FROM input i JOIN prev p ON p.shard = i.shard
            ORDER BY i.shard
            ON CONFLICT (shard, sequence_number) DO NOTHING
            RETURNING shard""";

    /**
     * CaS on an expected head, on CockroachDB at SERIALIZABLE: insert iff the current head is exactly {@code $2}. The
     * head is read by one index probe (CockroachDB's one-round-trip, one-phase-commit form of the statement). Racing
     * writers all write {@code $2 + 1}: the primary key decides (unique violation, or 40001). A head above
     * {@code $2}, below it, or absent makes the predicate false or null: zero rows, a mismatch.
     * Parameters: shard, expected seqno, new seqno, data.
     */
    static final String CAS_EXPECTED_COCKROACH = """
            INSERT INTO consensus (shard, sequence_number, data)
            SELECT $1, $3, $4
            WHERE (SELECT sequence_number FROM consensus WHERE shard = $1
                   ORDER BY sequence_number DESC LIMIT 1) = $2""";

    /**
     * Truncate in one round trip: delete the rows below {@code $2} iff {@code $2 <= head}, and report the head seen
     * and the number deleted. The head itself is never deleted: its seqno is {@code >= $2}. With no rows the head is
     * null and the comparison is null, so nothing is deleted and the caller reports "no data"; with {@code $2 > head}
     * nothing is deleted and the caller reports "upper bound too high". Both CTEs read one snapshot. At READ
     * COMMITTED a commit may come between that snapshot and the deletes, but it cannot make them wrong: the head
     * only grows (so {@code $2 <= head} still holds), entries below the head are never inserted, and a row another
     * truncation deleted meanwhile is skipped (so {@code deleted} counts this call's deletions). A compare-and-set
     * holding its expected entry ({@code FOR KEY SHARE}) makes the delete of that entry wait for it. On CockroachDB
     * the statement is one serializable transaction.
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
