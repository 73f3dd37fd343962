import GRDB
import NostrCore

/// Keeps SQLite's full-text index (`events_fts`) in step with `events`, for the kinds
/// `search.kinds` names, one batch at a time.
///
/// FTS5 writes what it holds in memory to a new segment of the index at every savepoint,
/// and SQLite opens one for each statement that fires a trigger. Indexed by a trigger on
/// every insert, each event became a segment of its own, merged again and again: the
/// index cost half the ingest (20,000 events: 2,650 events/s with it, 5,200 without).
/// So the triggers only note what changed, in two plain tables (`search_pending`: rows
/// stored and not yet indexed; `search_removed`: rows removed whose entries are still in
/// the index, with the content needed to take them out), and `catchUp` applies both in two
/// statements at the end of the same write transaction: one segment per batch, and a
/// search never sees the index behind the table.
///
/// The index is contentless, so an entry can only be removed by repeating exactly what was
/// indexed. When the kinds rule changes, the index is rebuilt whole, in one transaction,
/// with both triggers re-created by the new rule; `search_index` records the rule the
/// index was built by (no row: the first schema's, every kind but the ciphertext ones).
enum SQLiteSearchIndex {
    /// Rebuilds the index and its triggers if `kinds` is not the rule it was built by.
    /// Returns whether it did (a rebuild reads every stored event once).
    @discardableResult
    static func apply(_ kinds: SearchableKinds, to db: Database) throws -> Bool {
        guard try builtKinds(db) != kinds else { return false }
        try db.execute(
            sql: """
                INSERT INTO events_fts(events_fts) VALUES ('delete-all');
                DELETE FROM search_pending;
                DELETE FROM search_removed;
                INSERT INTO events_fts(rowid, content)
                    SELECT rowid, \(content("events")) FROM events WHERE \(kinds.sqlCondition("kind"));
                DELETE FROM search_index;
                """)
        try db.execute(sql: "INSERT INTO search_index (kinds) VALUES (?)", arguments: [kinds.description])
        try createTriggers(kinds, db)
        try SearchVocabulary.rebuild(db)
        return true
    }

    /// Indexes the rows stored and takes out the entries of the rows removed since the last
    /// call, in the caller's transaction. Every write that stores or removes events ends with it.
    static func catchUp(_ db: Database) throws {
        let behind = try db.cachedStatement(
            sql: "SELECT EXISTS (SELECT 1 FROM search_removed) OR EXISTS (SELECT 1 FROM search_pending)")
        guard try Bool.fetchOne(behind) == true else { return }
        // Removals first: a rowid removed and then taken again by a new row is in both tables.
        try db.cachedStatement(
            sql: """
                INSERT INTO events_fts(events_fts, rowid, content)
                    SELECT 'delete', event_rowid, content FROM search_removed ORDER BY event_rowid
                """
        ).execute()
        try db.cachedStatement(
            sql: """
                INSERT INTO events_fts(rowid, content)
                    SELECT events.rowid, \(content("events"))
                    FROM search_pending CROSS JOIN events ON events.rowid = search_pending.event_rowid
                    ORDER BY search_pending.event_rowid
                """
        ).execute()
        try db.cachedStatement(sql: "DELETE FROM search_removed").execute()
        try db.cachedStatement(sql: "DELETE FROM search_pending").execute()
    }

    /// The two triggers that note what the index must do for the kinds `kinds` names. A row
    /// removed before it was indexed only leaves `search_pending`: the index never had it.
    static func createTriggers(_ kinds: SearchableKinds, _ db: Database) throws {
        try db.execute(
            sql: """
                DROP TRIGGER IF EXISTS events_insert_fts;
                DROP TRIGGER IF EXISTS events_delete_fts;
                CREATE TRIGGER events_insert_fts AFTER INSERT ON events
                WHEN \(kinds.sqlCondition("new.kind")) BEGIN
                    INSERT INTO search_pending(event_rowid) VALUES (new.rowid);
                END;
                CREATE TRIGGER events_delete_fts AFTER DELETE ON events
                WHEN \(kinds.sqlCondition("old.kind")) BEGIN
                    INSERT INTO search_removed(event_rowid, content)
                        SELECT old.rowid, \(content("old"))
                        WHERE NOT EXISTS (SELECT 1 FROM search_pending WHERE event_rowid = old.rowid);
                    DELETE FROM search_pending WHERE event_rowid = old.rowid;
                END;
                """)
    }

    /// The rule the index was built by, as `search_index` records it.
    static func builtKinds(_ db: Database) throws -> SearchableKinds {
        try String.fetchOne(db, sql: "SELECT kinds FROM search_index").map(SearchableKinds.init(recorded:)) ?? .all
    }

    /// A row's content as the index holds it: read from the stored body.
    private static func content(_ row: String) -> String {
        "json_extract(CAST(\(row).body AS TEXT), '$.content')"
    }
}
