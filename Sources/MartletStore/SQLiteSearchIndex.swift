import GRDB
import NostrCore

/// Keeps SQLite's full-text index (`events_fts`) to the kinds `search.kinds` names.
///
/// The index is contentless, so a row can only be removed by repeating exactly what was
/// indexed: the two triggers must agree with each other and with every row already in the
/// index. When the rule changes, the index is therefore rebuilt whole, in one transaction,
/// with both triggers re-created by the new rule; `search_index` records the rule the
/// index was built by (no row: the first schema's, every kind but the ciphertext ones).
enum SQLiteSearchIndex {
    /// Rebuilds the index and its triggers if `kinds` is not the rule it was built by.
    /// Returns whether it did (a rebuild reads every stored event once).
    @discardableResult
    static func apply(_ kinds: SearchableKinds, to db: Database) throws -> Bool {
        let built = try String.fetchOne(db, sql: "SELECT kinds FROM search_index") ?? SearchableKinds.all.description
        guard built != kinds.description else { return false }
        let content = { (row: String) in "json_extract(CAST(\(row).body AS TEXT), '$.content')" }
        try db.execute(
            sql: """
                DROP TRIGGER IF EXISTS events_insert_fts;
                DROP TRIGGER IF EXISTS events_delete_fts;
                INSERT INTO events_fts(events_fts) VALUES ('delete-all');
                CREATE TRIGGER events_insert_fts AFTER INSERT ON events
                WHEN \(kinds.sqlCondition("new.kind")) BEGIN
                    INSERT INTO events_fts(rowid, content) VALUES (new.rowid, \(content("new")));
                END;
                CREATE TRIGGER events_delete_fts AFTER DELETE ON events
                WHEN \(kinds.sqlCondition("old.kind")) BEGIN
                    INSERT INTO events_fts(events_fts, rowid, content) VALUES ('delete', old.rowid, \(content("old")));
                END;
                INSERT INTO events_fts(rowid, content)
                    SELECT rowid, \(content("events")) FROM events WHERE \(kinds.sqlCondition("kind"));
                DELETE FROM search_index;
                """)
        try db.execute(sql: "INSERT INTO search_index (kinds) VALUES (?)", arguments: [kinds.description])
        try SearchVocabulary.rebuild(db)
        return true
    }
}
