import Logging
import PostgresNIO

/// The PostgreSQL schema as an ordered list of named migration steps, the same tables as
/// `SQLiteSchema` in PostgreSQL types.
///
/// Steps are appended, never edited. `migrate` runs the steps a database has not recorded
/// in `schema_migrations`, all in one transaction under an advisory lock, so that several
/// nodes starting at once against a new database apply each step exactly once: the second
/// node waits for the first, then finds every step recorded.
///
/// ```swift
/// try await PostgresSchema.migrate(client, schema: nil, now: now, logger: logger)
/// ```
enum PostgresSchema {
    /// The first key of the advisory locks on addresses (ASCII "Mart"; the second is a hash
    /// of the address), so that they cannot collide with another application's locks.
    static let lockClass: Int32 = 0x4D61_7274
    /// The first key of the migration lock (ASCII "Migr"); the second is a hash of the
    /// schema, so that stores in different schemas migrate side by side.
    static let migrationLockClass: Int32 = 0x4D69_6772

    /// A named step: statements run in order (the extended query protocol takes one
    /// statement at a time).
    struct Step: Sendable {
        var name: String
        var statements: [String]
        /// Work after the statements that needs the caller's settings (the partition interval).
        var body: (@Sendable (PostgresConnection, MigrationContext) async throws -> Void)? = nil
    }

    /// What a step's `body` may need to know.
    struct MigrationContext: Sendable {
        var partitions: PostgresPartitions
        var now: Int64
        var logger: Logger
    }

    static let steps: [Step] = [
        events, tags, lifecycle, kindCounts, relaySettings, ephemeralEvents, syncStore, groups, searchIndexKinds,
        partitionedEvents,
    ]

    /// One row per stored event. `json` holds the canonical bytes served verbatim; the other
    /// columns exist to be searched. `d_tag` is "" for replaceable kinds, the `d` value for
    /// addressable ones and NULL otherwise, so that `events_address` is the
    /// one-version-per-address rule as a constraint. `seq` orders rows as they were written;
    /// `txid` is the writing transaction, which the live feed uses to know when every
    /// transaction before a point has finished (see `PostgresEventFeed`). `search` is the
    /// NIP-50 document, folded as `SearchText` explains, NULL for ciphertext kinds.
    private static let events = Step(
        name: "events",
        statements: [
            """
            CREATE TABLE events (
                seq bigserial PRIMARY KEY,
                id bytea NOT NULL,
                pubkey bytea NOT NULL,
                created_at bigint NOT NULL,
                kind integer NOT NULL,
                d_tag text,
                expires_at bigint,
                json bytea NOT NULL,
                search tsvector,
                txid xid8 NOT NULL DEFAULT pg_current_xact_id()
            )
            """,
            "CREATE UNIQUE INDEX events_id ON events (id)",
            "CREATE INDEX events_kind_created ON events (kind, created_at)",
            "CREATE INDEX events_pubkey_created ON events (pubkey, created_at)",
            "CREATE INDEX events_pubkey_kind_created ON events (pubkey, kind, created_at)",
            "CREATE INDEX events_created ON events (created_at)",
            "CREATE UNIQUE INDEX events_address ON events (pubkey, kind, d_tag) WHERE d_tag IS NOT NULL",
            "CREATE INDEX events_expires ON events (expires_at) WHERE expires_at IS NOT NULL",
            "CREATE INDEX events_search ON events USING gin (search) WHERE search IS NOT NULL",
            "CREATE INDEX events_txid ON events (txid)",
        ])

    /// The first value of every single-letter tag (NIP-01 indexes only those), with the
    /// event's `created_at` copied so that `#x` queries read newest first from the index.
    /// Rows go with their event (`ON DELETE CASCADE`), whoever deletes it.
    private static let tags = Step(
        name: "tags",
        statements: [
            """
            CREATE TABLE tags (
                event_seq bigint NOT NULL REFERENCES events (seq) ON DELETE CASCADE,
                name text NOT NULL,
                value bytea NOT NULL,
                created_at bigint NOT NULL,
                PRIMARY KEY (event_seq, name, value)
            )
            """,
            "CREATE INDEX tags_name_value_created ON tags (name, value, created_at)",
        ])

    /// What must be refused later: NIP-09 deletions by id and by address, NIP-62 requests
    /// to vanish.
    private static let lifecycle = Step(
        name: "deletions and vanish requests",
        statements: [
            "CREATE TABLE deleted_ids (id bytea NOT NULL, pubkey bytea NOT NULL, PRIMARY KEY (id, pubkey))",
            """
            CREATE TABLE deleted_addresses (
                pubkey bytea NOT NULL,
                kind integer NOT NULL,
                d_tag text NOT NULL,
                deleted_until bigint NOT NULL,
                PRIMARY KEY (pubkey, kind, d_tag)
            )
            """,
            "CREATE TABLE vanished (pubkey bytea PRIMARY KEY, until bigint NOT NULL)",
        ])

    /// Events per kind for `stats()`, as signed deltas appended by statement triggers and
    /// folded now and then (`PostgresEventWriter.foldKindCounts`). One counter row per kind
    /// would be updated by every writer on every node and serialize their transactions;
    /// appended rows never wait for each other.
    private static let kindCounts = Step(
        name: "kind counts",
        statements: [
            "CREATE TABLE kind_counts (kind integer NOT NULL, delta bigint NOT NULL)",
            "INSERT INTO kind_counts (kind, delta) SELECT kind, count(*) FROM events GROUP BY kind",
            """
            CREATE FUNCTION martlet_count_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO kind_counts (kind, delta) SELECT kind, count(*) FROM inserted GROUP BY kind;
                RETURN NULL;
            END $$
            """,
            """
            CREATE FUNCTION martlet_count_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                INSERT INTO kind_counts (kind, delta) SELECT kind, -count(*) FROM deleted GROUP BY kind;
                RETURN NULL;
            END $$
            """,
            """
            CREATE TRIGGER events_count_inserted AFTER INSERT ON events
            REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION martlet_count_inserted()
            """,
            """
            CREATE TRIGGER events_count_deleted AFTER DELETE ON events
            REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION martlet_count_deleted()
            """,
        ])

    /// What an operator changes at run time (NIP-86), shared by every node: list entries
    /// ordered by their last change, and key/value settings.
    private static let relaySettings = Step(
        name: "relay settings",
        statements: [
            """
            CREATE TABLE settings_lists (
                list text NOT NULL,
                value text NOT NULL,
                listed boolean NOT NULL,
                reason text,
                changed bigserial NOT NULL,
                PRIMARY KEY (list, value)
            )
            """,
            "CREATE TABLE settings_values (key text PRIMARY KEY, value text NOT NULL)",
        ])

    /// Ephemeral events too large to ride in a notification, kept a short while for the
    /// other nodes to read (see `PostgresEphemeralNotice`). UNLOGGED: no WAL, and a crash
    /// empties the table, which is all an ephemeral event may ask.
    private static let ephemeralEvents = Step(
        name: "ephemeral events",
        statements: [
            """
            CREATE UNLOGGED TABLE ephemeral_events (
                seq bigserial PRIMARY KEY,
                json bytea NOT NULL,
                published timestamptz NOT NULL DEFAULT now()
            )
            """,
        ])

    /// The rule the `search` column was built by (`PostgresSearchIndex`); no row: the first one.
    private static let searchIndexKinds = Step(
        name: "search index kinds", statements: ["CREATE TABLE search_index (kinds text NOT NULL)"])

    /// Brings the database (or `schema`, created when missing) up to date.
    static func migrate(
        _ client: PostgresClient, schema: String?, partitions: PostgresPartitions = PostgresPartitions(),
        now: Int64, steps: [Step] = Self.steps, logger: Logger
    ) async throws {
        var schemaHash = StableHash()
        schemaHash.add((schema ?? "").utf8)
        try await client.withTransaction(logger: logger) { connection in
            // A step may build an index over millions of rows, and a node may wait here while
            // another migrates: neither is a stuck statement. The caller bounds the whole.
            try await connection.perform("SET LOCAL statement_timeout = 0", logger: logger)
            try await connection.perform(
                "SELECT pg_advisory_xact_lock(\(migrationLockClass), \(schemaHash.int32))", logger: logger)
            if let schema {
                try await connection.perform(
                    PostgresQuery(unsafeSQL: "CREATE SCHEMA IF NOT EXISTS \(quotedIdentifier(schema))"), logger: logger)
            }
            try await connection.perform(
                """
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    name text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """, logger: logger)
            var applied = Set<String>()
            for try await name in try await connection.query("SELECT name FROM schema_migrations", logger: logger)
                .decode(String.self)
            {
                applied.insert(name)
            }
            for step in steps where !applied.contains(step.name) {
                for statement in step.statements {
                    try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await step.body?(connection, MigrationContext(partitions: partitions, now: now, logger: logger))
                try await connection.perform("INSERT INTO schema_migrations (name) VALUES (\(step.name))", logger: logger)
                logger.info("PostgreSQL schema step applied", metadata: ["step": "\(step.name)"])
            }
        }
    }

    /// `name` as a double-quoted SQL identifier.
    static func quotedIdentifier(_ name: String) -> String {
        "\"" + name.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
