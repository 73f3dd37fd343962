import Foundation
import GRDB
import NostrCore

/// The SQLite schema as an ordered list of named migration steps.
///
/// Steps are appended, never edited: a database that ran a step keeps it, and
/// `DatabaseMigrator` runs only the steps a file has not seen yet.
///
/// ```swift
/// try SQLiteSchema.migrator.migrate(pool)
/// ```
enum SQLiteSchema {
    /// Kinds whose content is ciphertext (NIP-04 DMs, NIP-59 seals and gift wraps): kept out
    /// of the full-text index, where their base64 would only bloat it. The two triggers that
    /// maintain the index must agree on this list, or a deletion would corrupt it.
    static let unsearchableKinds = "(4, 13, 1059)"

    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("events", migrate: createEvents)
        migrator.registerMigration("tags", migrate: createTags)
        migrator.registerMigration("search", migrate: createSearch)
        migrator.registerMigration("deletions and vanish requests", migrate: createLifecycle)
        migrator.registerMigration("kind counts", migrate: createKindCounts)
        migrator.registerMigration("relay settings", migrate: createRelaySettings)
        migrator.registerMigration("tags keyed by value", migrate: keyTagsByValue)
        migrator.registerMigration("sync store", migrate: createSyncStore)
        migrator.registerMigration("groups", migrate: createGroups)
        migrator.registerMigration("search index kinds") { db in
            // The rule `events_fts` was built by (`SQLiteSearchIndex`); no row: the first one.
            try db.execute(sql: "CREATE TABLE search_index (kinds TEXT NOT NULL)")
        }
        migrator.registerMigration("search terms", migrate: createSearchTerms)
        migrator.registerMigration("bodies and signatures", migrate: splitStoredJSON)
        migrator.registerMigration("search indexed per batch") { db in
            // What `SQLiteSearchIndex.catchUp` applies at the end of each write; the index is
            // up to date here, since the triggers it replaces indexed every row at once.
            try db.execute(
                sql: """
                    CREATE TABLE search_pending (event_rowid INTEGER PRIMARY KEY);
                    CREATE TABLE search_removed (event_rowid INTEGER PRIMARY KEY, content TEXT NOT NULL);
                    """)
            try SQLiteSearchIndex.createTriggers(SQLiteSearchIndex.builtKinds(db), db)
        }
        migrator.registerMigration("ties ranked in the indexes", migrate: rankTies)
        migrator.registerMigration("rowids never reused") { db in
            // `RowidMark`: the highest rowid an event was ever given.
            try db.execute(
                sql: """
                    CREATE TABLE events_rowid_mark (highest INTEGER NOT NULL);
                    INSERT INTO events_rowid_mark SELECT coalesce(max(rowid), 0) FROM events;
                    """)
        }
        return migrator
    }

    /// One row per stored event. `json` held the canonical bytes that are served verbatim
    /// (since `splitStoredJSON`: `body` and `sig`); the other columns exist to be searched.
    /// `d_tag` is "" for replaceable kinds, the
    /// `d` value for addressable ones and NULL otherwise, so that `events_address` is the
    /// one-version-per-address rule as a constraint.
    private static func createEvents(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE events (
                    rowid INTEGER PRIMARY KEY,
                    id BLOB NOT NULL,
                    pubkey BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    kind INTEGER NOT NULL,
                    d_tag TEXT,
                    expires_at INTEGER,
                    json BLOB NOT NULL
                );
                CREATE UNIQUE INDEX events_id ON events(id);
                CREATE INDEX events_kind_created ON events(kind, created_at);
                CREATE INDEX events_pubkey_created ON events(pubkey, created_at);
                CREATE INDEX events_pubkey_kind_created ON events(pubkey, kind, created_at);
                CREATE INDEX events_created ON events(created_at);
                CREATE UNIQUE INDEX events_address ON events(pubkey, kind, d_tag) WHERE d_tag IS NOT NULL;
                CREATE INDEX events_expires ON events(expires_at) WHERE expires_at IS NOT NULL;
                """)
    }

    /// The first value of every single-letter tag (NIP-01 indexes only those). `created_at`
    /// is copied from the event so that `#x` queries read newest first from the index alone.
    /// The primary key both removes repeated tags and finds an event's tags on deletion.
    private static func createTags(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE tags (
                    event_rowid INTEGER NOT NULL,
                    name TEXT NOT NULL,
                    value BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (event_rowid, name, value)
                ) WITHOUT ROWID;
                CREATE INDEX tags_name_value_created ON tags(name, value, created_at);
                CREATE TRIGGER events_delete_tags AFTER DELETE ON events BEGIN
                    DELETE FROM tags WHERE event_rowid = old.rowid;
                END;
                """)
    }

    /// NIP-50: a contentless FTS5 index of `content`, keyed by the events rowid. Triggers keep
    /// it in step with `events` whoever deletes a row; the content is read back out of the
    /// stored JSON because a contentless table must be told what it is deleting.
    private static func createSearch(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE VIRTUAL TABLE events_fts USING fts5(
                    content, content='', tokenize='unicode61 remove_diacritics 2'
                );
                CREATE TRIGGER events_insert_fts AFTER INSERT ON events
                WHEN new.kind NOT IN \(unsearchableKinds) BEGIN
                    INSERT INTO events_fts(rowid, content)
                    VALUES (new.rowid, json_extract(CAST(new.json AS TEXT), '$.content'));
                END;
                CREATE TRIGGER events_delete_fts AFTER DELETE ON events
                WHEN old.kind NOT IN \(unsearchableKinds) BEGIN
                    INSERT INTO events_fts(events_fts, rowid, content)
                    VALUES ('delete', old.rowid, json_extract(CAST(old.json AS TEXT), '$.content'));
                END;
                """)
    }

    /// The terms `events_fts` holds, kept by `SearchVocabulary` so that a prefix can be read
    /// as its terms; filled here once from the index itself, through FTS5's vocabulary table.
    private static func createSearchTerms(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE search_terms (term TEXT PRIMARY KEY) WITHOUT ROWID;
                CREATE VIRTUAL TABLE events_fts_vocabulary USING fts5vocab(events_fts, 'row');
                """)
        try SearchVocabulary.rebuild(db)
    }

    /// What must be refused later: NIP-09 deletions by id (with the deleting author, since
    /// only the author's own events are deleted) and by address (up to a time), and NIP-62
    /// requests to vanish (everything by a key up to a time).
    private static func createLifecycle(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE deleted_ids (
                    id BLOB NOT NULL,
                    pubkey BLOB NOT NULL,
                    PRIMARY KEY (id, pubkey)
                ) WITHOUT ROWID;
                CREATE TABLE deleted_addresses (
                    pubkey BLOB NOT NULL,
                    kind INTEGER NOT NULL,
                    d_tag TEXT NOT NULL,
                    deleted_until INTEGER NOT NULL,
                    PRIMARY KEY (pubkey, kind, d_tag)
                ) WITHOUT ROWID;
                CREATE TABLE vanished (
                    pubkey BLOB NOT NULL PRIMARY KEY,
                    until INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
    }

    /// `tags` as one b-tree keyed the way `#x` queries read it, `(name, value, created_at,
    /// event_rowid)`, instead of a row b-tree and an index holding the same four columns: on
    /// a million events the second b-tree was 217 MB and one more random insert per tag.
    ///
    /// Without a key on `event_rowid`, a deleted event's tags are found from the event
    /// itself: its JSON names every tag, and `martlet_tag_value` (registered on every
    /// connection, see `SQLiteEventStore`) turns a value into the form it was stored in.
    /// Names and values are two separate `IN` lists, not one `(name, value) IN`: SQLite
    /// seeks the whole key only for the former (the latter read every tag of that name, per
    /// deleted event, which halved ingest). A name of one tag paired with a value of
    /// another can only be another row of the same event, which goes too.
    private static func keyTagsByValue(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE tags_by_value (
                    name TEXT NOT NULL,
                    value BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    event_rowid INTEGER NOT NULL,
                    PRIMARY KEY (name, value, created_at, event_rowid)
                ) WITHOUT ROWID;
                INSERT INTO tags_by_value(name, value, created_at, event_rowid)
                    SELECT name, value, created_at, event_rowid FROM tags;
                DROP TRIGGER events_delete_tags;
                DROP TABLE tags;
                ALTER TABLE tags_by_value RENAME TO tags;
                CREATE TRIGGER events_delete_tags AFTER DELETE ON events BEGIN
                    DELETE FROM tags WHERE created_at = old.created_at AND event_rowid = old.rowid
                    AND name IN (
                        SELECT json_extract(tag.value, '$[0]') FROM json_each(CAST(old.json AS TEXT), '$.tags') AS tag
                        WHERE length(json_extract(tag.value, '$[0]')) = 1
                    )
                    AND value IN (
                        SELECT \(tagValueFunction.name)(json_extract(tag.value, '$[1]'))
                        FROM json_each(CAST(old.json AS TEXT), '$.tags') AS tag
                        WHERE json_type(tag.value, '$[1]') = 'text'
                    );
                END;
                """)
    }

    /// `martlet_tag_value(text)`: a tag value as `tags` stores it (`TagValue`), for the
    /// delete trigger. Every connection registers it, since any may run a DELETE.
    static let tagValueFunction = DatabaseFunction("martlet_tag_value", argumentCount: 1, pure: true) { values in
        guard let text = String.fromDatabaseValue(values[0]) else { return nil }
        return TagValue.databaseValue(text)
    }

    /// Events per kind, kept by triggers so that `stats()` (status page, /metrics) costs a
    /// few rows instead of a scan of a million.
    private static func createKindCounts(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE kind_counts (
                    kind INTEGER NOT NULL PRIMARY KEY,
                    count INTEGER NOT NULL
                );
                INSERT INTO kind_counts(kind, count) SELECT kind, COUNT(*) FROM events GROUP BY kind;
                CREATE TRIGGER events_insert_count AFTER INSERT ON events BEGIN
                    INSERT INTO kind_counts(kind, count) VALUES (new.kind, 1)
                    ON CONFLICT(kind) DO UPDATE SET count = count + 1;
                END;
                CREATE TRIGGER events_delete_count AFTER DELETE ON events BEGIN
                    UPDATE kind_counts SET count = count - 1 WHERE kind = old.kind;
                END;
                """)
    }

    /// `events.json` becomes `body` and `sig` (`StoredBody`): the canonical JSON less the id,
    /// pubkey, created_at and kind the row already holds in columns, and the signature as
    /// 64 bytes instead of 128 hex digits. About a quarter of each row, on disk and in the
    /// WAL of every write.
    ///
    /// SQLite renames the column in the triggers that read it too; the body is still a JSON
    /// object with the same `tags` and `content`, so they read it unchanged. Every row is
    /// rewritten once, in this step's transaction (a million events: the whole table passes
    /// through the WAL once). A row that does not decode is left as it was, with no
    /// signature, and is reported as damaged when read, as it was before.
    private static func splitStoredJSON(_ db: Database) throws {
        try db.execute(
            sql: """
                ALTER TABLE events RENAME COLUMN json TO body;
                ALTER TABLE events ADD COLUMN sig BLOB;
                """)
        let page = try db.makeStatement(sql: "SELECT rowid, body FROM events WHERE rowid > ? ORDER BY rowid LIMIT 1000")
        let update = try db.makeStatement(sql: "UPDATE events SET body = ?, sig = ? WHERE rowid = ?")
        var after: Int64 = 0
        while true {
            let rows = try Row.fetchAll(page, arguments: [after])
            guard let last = rows.last else { return }
            for row in rows {
                let json = [UInt8](row[1] as Data)
                guard let event = try? EventDecoder.decode(storedJSON: json) else { continue }
                update.setUncheckedArguments([
                    Data(StoredBody.cut(event)).databaseValue, event.sig.databaseValue, row[0],
                ])
                try update.execute()
            }
            after = last[0]
        }
    }

    /// Every driving index gains `tie_rank` after `created_at` (`TieRank`), and so does the
    /// key of `tags`, so that each is read in NIP-01's order and a REQ's limit needs no row
    /// past it. Rows stored before are ranked here, in this step's transaction: a million
    /// events pass through the WAL once, as in `splitStoredJSON`. Tags whose event is gone
    /// are left behind.
    private static func rankTies(_ db: Database) throws {
        db.add(function: TieRank.sqlFunction)
        defer { db.remove(function: TieRank.sqlFunction) }
        try db.execute(
            sql: """
                ALTER TABLE events ADD COLUMN tie_rank INTEGER NOT NULL DEFAULT 0;
                UPDATE events SET tie_rank = \(TieRank.sqlFunction.name)(id);
                DROP INDEX events_kind_created;
                DROP INDEX events_pubkey_created;
                DROP INDEX events_pubkey_kind_created;
                DROP INDEX events_created;
                CREATE INDEX events_kind_created ON events(kind, created_at, tie_rank);
                CREATE INDEX events_pubkey_created ON events(pubkey, created_at, tie_rank);
                CREATE INDEX events_pubkey_kind_created ON events(pubkey, kind, created_at, tie_rank);
                CREATE INDEX events_created ON events(created_at, tie_rank);
                CREATE TABLE tags_ranked (
                    name TEXT NOT NULL,
                    value BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    tie_rank INTEGER NOT NULL,
                    event_rowid INTEGER NOT NULL,
                    PRIMARY KEY (name, value, created_at, tie_rank, event_rowid)
                ) WITHOUT ROWID;
                INSERT INTO tags_ranked(name, value, created_at, tie_rank, event_rowid)
                    SELECT tags.name, tags.value, tags.created_at, events.tie_rank, tags.event_rowid
                    FROM tags CROSS JOIN events ON events.rowid = tags.event_rowid;
                DROP TRIGGER events_delete_tags;
                DROP TABLE tags;
                ALTER TABLE tags_ranked RENAME TO tags;
                CREATE TRIGGER events_delete_tags AFTER DELETE ON events BEGIN
                    DELETE FROM tags
                    WHERE created_at = old.created_at AND tie_rank = old.tie_rank AND event_rowid = old.rowid
                    AND name IN (
                        SELECT json_extract(tag.value, '$[0]') FROM json_each(CAST(old.body AS TEXT), '$.tags') AS tag
                        WHERE length(json_extract(tag.value, '$[0]')) = 1
                    )
                    AND value IN (
                        SELECT \(tagValueFunction.name)(json_extract(tag.value, '$[1]'))
                        FROM json_each(CAST(old.body AS TEXT), '$.tags') AS tag
                        WHERE json_type(tag.value, '$[1]') = 'text'
                    );
                END;
                """)
    }
}
