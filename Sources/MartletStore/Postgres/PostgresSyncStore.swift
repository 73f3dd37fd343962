import PostgresNIO
public import NostrCore

/// The sync store in the shared database: every node of one deployment sees the relays
/// the others found and synced with. The same contract as the SQLite store's.
extension PostgresEventStore: SyncStore {
    public func syncRelays() async throws -> [SyncRelay] {
        try await bounded("sync store read", on: reads) { client in
            var relays: [SyncRelay] = []
            let rows = try await client.query(
                """
                SELECT url, information, last_seen, last_sync, last_error, last_error_at
                FROM sync_relays ORDER BY last_seen DESC, url
                """)
            for try await (url, information, seen, sync, error, errorAt) in rows.decode(
                (String, String?, Int64, Int64?, String?, Int64?).self)
            {
                relays.append(
                    SyncRelay(
                        url: url, information: information, lastSeen: seen, lastSync: sync, lastError: error,
                        lastErrorAt: errorAt))
            }
            return relays
        }
    }

    public func recordRelaySeen(_ url: String, information: String?, at time: Int64) async throws {
        let information = information.map { String($0.prefix(Self.maxInformationLength)) }
        try await bounded("sync store write", on: writes) { client in
            try await client.perform(
                """
                INSERT INTO sync_relays (url, information, last_seen) VALUES (\(url), \(information)::text, \(time))
                ON CONFLICT (url) DO UPDATE SET
                    information = coalesce(excluded.information, sync_relays.information),
                    last_seen = greatest(sync_relays.last_seen, excluded.last_seen)
                """)
        }
    }

    public func recordRelaySync(_ url: String, at time: Int64, error: String?) async throws {
        try await bounded("sync store write", on: writes) { client in
            if let error {
                let text = String(error.prefix(Self.maxErrorLength))
                try await client.perform(
                    """
                    INSERT INTO sync_relays (url, last_seen, last_error, last_error_at) VALUES (\(url), \(time), \(text), \(time))
                    ON CONFLICT (url) DO UPDATE SET last_error = excluded.last_error, last_error_at = excluded.last_error_at
                    """)
            } else {
                try await client.perform(
                    """
                    INSERT INTO sync_relays (url, last_seen, last_sync) VALUES (\(url), \(time), \(time))
                    ON CONFLICT (url) DO UPDATE SET last_sync = excluded.last_sync,
                        last_seen = greatest(sync_relays.last_seen, excluded.last_seen)
                    """)
            }
        }
    }

    public func forgetRelays(seenBefore time: Int64) async throws -> [String] {
        try await bounded("sync store write", on: writes) { client in
            var urls: [String] = []
            let rows = try await client.query("DELETE FROM sync_relays WHERE last_seen < \(time) RETURNING url")
            for try await url in rows.decode(String.self) { urls.append(url) }
            return urls
        }
    }

    public func syncAuthors() async throws -> [SyncAuthor] {
        try await bounded("sync store read", on: reads) { client in
            var authors: [SyncAuthor] = []
            let rows = try await client.query("SELECT pubkey, last_put FROM sync_authors ORDER BY last_put DESC, pubkey")
            for try await (hex, lastPut) in rows.decode((String, Int64).self) {
                if let pubkey = PublicKey(hex: hex) { authors.append(SyncAuthor(pubkey: pubkey, lastPut: lastPut)) }
            }
            return authors
        }
    }

    public func recordSyncAuthor(_ author: PublicKey, at time: Int64) async throws {
        try await bounded("sync store write", on: writes) { client in
            try await client.perform(
                """
                INSERT INTO sync_authors (pubkey, last_put) VALUES (\(author.hex), \(time))
                ON CONFLICT (pubkey) DO UPDATE SET last_put = greatest(sync_authors.last_put, excluded.last_put)
                """)
        }
    }
}

extension PostgresSchema {
    /// The sync store (`SyncStore`), as in `SQLiteSchema.createSyncStore`.
    static let syncStore = Step(
        name: "sync store",
        statements: [
            """
            CREATE TABLE sync_relays (
                url text PRIMARY KEY,
                information text,
                last_seen bigint NOT NULL,
                last_sync bigint,
                last_error text,
                last_error_at bigint
            )
            """,
            "CREATE TABLE sync_authors (pubkey text PRIMARY KEY, last_put bigint NOT NULL)",
        ])
}
