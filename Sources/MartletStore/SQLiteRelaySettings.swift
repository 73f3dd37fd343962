import GRDB

extension SQLiteEventStore: RelaySettingsStore {
    public func listEntries() async throws -> [SettingsListEntry] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT list, value, listed, reason FROM settings_lists ORDER BY rowid").map { row in
                SettingsListEntry(list: row[0], value: row[1], isListed: row[2], reason: row[3])
            }
        }
    }

    public func recordListEntry(_ entry: SettingsListEntry) async throws {
        try await write { db in
            // REPLACE deletes the old row and inserts a new one with a higher rowid, so
            // ordering by rowid is ordering by last change.
            try db.execute(
                sql: "INSERT OR REPLACE INTO settings_lists(list, value, listed, reason) VALUES (?, ?, ?, ?)",
                arguments: [entry.list, entry.value, entry.isListed, entry.reason])
        }
    }

    public func settings() async throws -> [String: String] {
        try await read { db in
            var settings: [String: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT key, value FROM settings_values") {
                settings[row[0]] = row[1]
            }
            return settings
        }
    }

    public func setSetting(_ key: String, to value: String?) async throws {
        try await write { db in
            if let value {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO settings_values(key, value) VALUES (?, ?)", arguments: [key, value])
            } else {
                try db.execute(sql: "DELETE FROM settings_values WHERE key = ?", arguments: [key])
            }
        }
    }
}

extension SQLiteSchema {
    /// The operator's run-time lists and settings (NIP-86). `settings_lists` keeps its rowid
    /// because the order of changes is the order of replay on start.
    static func createRelaySettings(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE settings_lists (
                    list TEXT NOT NULL,
                    value TEXT NOT NULL,
                    listed INTEGER NOT NULL,
                    reason TEXT,
                    UNIQUE (list, value)
                );
                CREATE TABLE settings_values (
                    key TEXT NOT NULL PRIMARY KEY,
                    value TEXT NOT NULL
                ) WITHOUT ROWID;
                """)
    }
}
