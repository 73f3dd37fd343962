import GRDB
public import NostrCore

extension SQLiteEventStore: SyncStore {
    public func syncRelays() async throws -> [SyncRelay] {
        try await read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT url, information, last_seen, last_sync, last_error, last_error_at
                    FROM sync_relays ORDER BY last_seen DESC, url
                    """
            ).map { row in
                SyncRelay(
                    url: row[0], information: row[1], lastSeen: row[2], lastSync: row[3], lastError: row[4],
                    lastErrorAt: row[5])
            }
        }
    }

    public func recordRelaySeen(_ url: String, information: String?, at time: Int64) async throws {
        let information = information.map { String($0.prefix(Self.maxInformationLength)) }
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_relays (url, information, last_seen) VALUES (?, ?, ?)
                    ON CONFLICT (url) DO UPDATE SET
                        information = coalesce(excluded.information, information),
                        last_seen = max(last_seen, excluded.last_seen)
                    """, arguments: [url, information, time])
        }
    }

    public func recordRelaySync(_ url: String, at time: Int64, error: String?) async throws {
        try await write { db in
            if let error {
                try db.execute(
                    sql: """
                        INSERT INTO sync_relays (url, last_seen, last_error, last_error_at) VALUES (?, ?, ?, ?)
                        ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                        """, arguments: [url, time, String(error.prefix(Self.maxErrorLength)), time])
            } else {
                try db.execute(
                    sql: """
                        INSERT INTO sync_relays (url, last_seen, last_sync) VALUES (?, ?, ?)
                        ON CONFLICT (url) DO UPDATE SET last_sync = excluded.last_sync,
                            last_seen = max(last_seen, excluded.last_seen)
                        """, arguments: [url, time, time])
            }
        }
    }

    public func forgetRelays(seenBefore time: Int64) async throws -> [String] {
        try await write { db in
            let stale = try String.fetchAll(db, sql: "SELECT url FROM sync_relays WHERE last_seen < ?", arguments: [time])
            try db.execute(sql: "DELETE FROM sync_relays WHERE last_seen < ?", arguments: [time])
            return stale
        }
    }

    public func syncAuthors() async throws -> [SyncAuthor] {
        try await read { db in
            try Row.fetchAll(db, sql: "SELECT pubkey, last_put FROM sync_authors ORDER BY last_put DESC, pubkey")
                .compactMap { row in
                    PublicKey(hex: row[0]).map { SyncAuthor(pubkey: $0, lastPut: row[1]) }
                }
        }
    }

    public func recordSyncAuthor(_ author: PublicKey, at time: Int64) async throws {
        try await write { db in
            try db.execute(
                sql: """
                    INSERT INTO sync_authors (pubkey, last_put) VALUES (?, ?)
                    ON CONFLICT (pubkey) DO UPDATE SET last_put = max(last_put, excluded.last_put)
                    """, arguments: [author.hex, time])
        }
    }
}

extension SQLiteSchema {
    /// The sync store (`SyncStore`): discovered and synced relays, and the authors whose
    /// relay lists are kept in the DHT.
    static func createSyncStore(_ db: Database) throws {
        try db.execute(
            sql: """
                CREATE TABLE sync_relays (
                    url TEXT NOT NULL PRIMARY KEY,
                    information TEXT,
                    last_seen INTEGER NOT NULL,
                    last_sync INTEGER,
                    last_error TEXT,
                    last_error_at INTEGER
                ) WITHOUT ROWID;
                CREATE TABLE sync_authors (
                    pubkey TEXT NOT NULL PRIMARY KEY,
                    last_put INTEGER NOT NULL
                ) WITHOUT ROWID;
                """)
    }
}
