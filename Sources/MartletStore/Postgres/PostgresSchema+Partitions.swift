import PostgresNIO

extension PostgresSchema {
    /// `events` and `tags` partitioned by range of `created_at` (see `PostgresPartitions`),
    /// with the indexes Parrhesia's plan lists. A new database passes through the
    /// unpartitioned tables of the first steps on its way here, empty; an existing one has
    /// its rows copied over, in the one migration transaction, so that a failure leaves it
    /// as it was.
    ///
    /// What partitioning changes in the constraints: a unique index of a partitioned table
    /// must hold the partition key. Uniqueness of `id` stays exact as `(id, created_at)`,
    /// because an event's id is the hash of its content, `created_at` included: two events
    /// with one id have one `created_at`, so they meet in one partition, and `ON CONFLICT`
    /// still turns the second into a duplicate, at no cost beyond the index. The one version
    /// per address rule loses its unique index (two versions differ in `created_at`); the
    /// writer's advisory locks on addresses, which already settled races between nodes, are
    /// now what keeps it (see `PostgresEventWriter`). Tags no longer reference their event
    /// (a foreign key would forbid dropping a partition): a statement trigger deletes the
    /// tags of deleted events, and a dropped partition takes its tags partition with it.
    ///
    /// Indexes: `created_at DESC` in each, as NIP-01 reads newest first; `e`, `p` and `d`
    /// tags, most of all tag queries, have partial indexes of their own without the name,
    /// and the other letters share one.
    static let partitionedEvents = Step(
        name: "partitioned events",
        statements: [
            // The sequence outlives the old table: seq numbers go on from where they were.
            "ALTER SEQUENCE events_seq_seq OWNED BY NONE",
            "ALTER TABLE events RENAME TO events_unpartitioned",
            "ALTER TABLE tags RENAME TO tags_unpartitioned",
            """
            CREATE TABLE events (
                seq bigint NOT NULL DEFAULT nextval('events_seq_seq'),
                id bytea NOT NULL,
                pubkey bytea NOT NULL,
                created_at bigint NOT NULL,
                kind integer NOT NULL,
                d_tag text,
                expires_at bigint,
                json bytea NOT NULL,
                search tsvector,
                txid xid8 NOT NULL DEFAULT pg_current_xact_id()
            ) PARTITION BY RANGE (created_at)
            """,
            """
            CREATE TABLE tags (
                event_seq bigint NOT NULL,
                name text NOT NULL,
                value bytea NOT NULL,
                created_at bigint NOT NULL
            ) PARTITION BY RANGE (created_at)
            """,
            "CREATE TABLE event_partitions (suffix text PRIMARY KEY, from_at bigint, to_at bigint)",
        ],
        body: { connection, context in
            var oldest: Int64?
            for try await value in try await connection.query(
                "SELECT min(created_at) FROM events_unpartitioned", logger: context.logger
            ).decode(Int64?.self) {
                oldest = value
            }
            try await context.partitions.createInitial(
                oldest: oldest, now: context.now, on: connection, logger: context.logger)
            for statement in partitionedEventsAfterCopy {
                try await connection.perform(PostgresQuery(unsafeSQL: statement), logger: context.logger)
            }
        })

    /// The copy, then constraints, indexes and triggers: building an index once over the
    /// copied rows is cheaper than keeping it up to date row by row, and the count triggers
    /// must not count the copy (the counts already hold those rows).
    private static let partitionedEventsAfterCopy = [
        """
        INSERT INTO events (seq, id, pubkey, created_at, kind, d_tag, expires_at, json, search, txid)
        SELECT seq, id, pubkey, created_at, kind, d_tag, expires_at, json, search, txid FROM events_unpartitioned
        """,
        """
        INSERT INTO tags (event_seq, name, value, created_at)
        SELECT event_seq, name, value, created_at FROM tags_unpartitioned
        """,
        "DROP TABLE tags_unpartitioned",
        "DROP TABLE events_unpartitioned",
        "ALTER SEQUENCE events_seq_seq OWNED BY events.seq",
        "ALTER TABLE events ADD PRIMARY KEY (seq, created_at)",
        "CREATE UNIQUE INDEX events_id ON events (id, created_at)",
        "CREATE INDEX events_kind_created ON events (kind, created_at DESC)",
        "CREATE INDEX events_pubkey_created ON events (pubkey, created_at DESC)",
        "CREATE INDEX events_pubkey_kind_created ON events (pubkey, kind, created_at DESC)",
        "CREATE INDEX events_created ON events (created_at DESC)",
        "CREATE INDEX events_address ON events (pubkey, kind, d_tag) WHERE d_tag IS NOT NULL",
        "CREATE INDEX events_expires ON events (expires_at) WHERE expires_at IS NOT NULL",
        "CREATE INDEX events_search ON events USING gin (search) WHERE search IS NOT NULL",
        "CREATE INDEX events_txid ON events (txid)",
        "ALTER TABLE tags ADD PRIMARY KEY (event_seq, name, value, created_at)",
        "CREATE INDEX tags_e ON tags (value, created_at DESC) WHERE name = 'e'",
        "CREATE INDEX tags_p ON tags (value, created_at DESC) WHERE name = 'p'",
        "CREATE INDEX tags_d ON tags (value, created_at DESC) WHERE name = 'd'",
        "CREATE INDEX tags_other ON tags (name, value, created_at DESC) WHERE name NOT IN ('e', 'p', 'd')",
        """
        CREATE TRIGGER events_count_inserted AFTER INSERT ON events
        REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION martlet_count_inserted()
        """,
        """
        CREATE TRIGGER events_count_deleted AFTER DELETE ON events
        REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION martlet_count_deleted()
        """,
        """
        CREATE FUNCTION martlet_delete_tags() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            DELETE FROM tags t USING deleted d WHERE t.event_seq = d.seq AND t.created_at = d.created_at;
            RETURN NULL;
        END $$
        """,
        """
        CREATE TRIGGER events_tags_deleted AFTER DELETE ON events
        REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION martlet_delete_tags()
        """,
    ]
}
