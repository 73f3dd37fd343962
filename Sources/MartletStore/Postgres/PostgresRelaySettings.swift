import PostgresNIO
public import NostrCore

/// NIP-86 changes kept in the shared database, so that every node sees the operator's
/// bans and settings and they survive restarts. The same contract as the SQLite store's;
/// besides, each change is announced on `PostgresChannels.settings`, so that every node
/// reads the settings again within moments (`settingsChanges()`).
extension PostgresEventStore {
    public func listEntries() async throws -> [SettingsListEntry] {
        try await bounded("settings read", on: reads) { client in
            var entries: [SettingsListEntry] = []
            let rows = try await client.query("SELECT list, value, listed, reason FROM settings_lists ORDER BY changed")
            for try await (list, value, listed, reason) in rows.decode((String, String, Bool, String?).self) {
                entries.append(SettingsListEntry(list: list, value: value, isListed: listed, reason: reason))
            }
            return entries
        }
    }

    public func recordListEntry(_ entry: SettingsListEntry) async throws {
        try await announcedChange { connection, logger in
            // A replaced entry takes a new `changed` number: ordering by it is ordering by last change.
            try await connection.perform(
                """
                INSERT INTO settings_lists (list, value, listed, reason)
                VALUES (\(entry.list), \(entry.value), \(entry.isListed), \(entry.reason)::text)
                ON CONFLICT (list, value) DO UPDATE SET listed = excluded.listed, reason = excluded.reason,
                    changed = nextval(pg_get_serial_sequence('settings_lists', 'changed'))
                """, logger: logger)
        }
    }

    public func settings() async throws -> [String: String] {
        try await bounded("settings read", on: reads) { client in
            var settings: [String: String] = [:]
            for try await (key, value) in try await client.query("SELECT key, value FROM settings_values")
                .decode((String, String).self)
            {
                settings[key] = value
            }
            return settings
        }
    }

    public func setSetting(_ key: String, to value: String?) async throws {
        try await announcedChange { connection, logger in
            if let value {
                try await connection.perform(
                    """
                    INSERT INTO settings_values (key, value) VALUES (\(key), \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, logger: logger)
            } else {
                try await connection.perform("DELETE FROM settings_values WHERE key = \(key)", logger: logger)
            }
        }
    }

    public func removeEvent(_ id: EventID) async throws -> Bool {
        try await remove([id]) > 0
    }

    public func settingsChanges() -> AsyncStream<Void> {
        let (changes, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let channel = channels.settings
        let subscription = listener.subscribe { message in
            switch message {
            case .listening: continuation.yield()
            case .notification(channel, _): continuation.yield()
            case .notification: break
            case .closed: continuation.finish()
            }
        }
        continuation.onTermination = { [listener] _ in listener.unsubscribe(subscription) }
        return changes
    }

    /// Runs `change` and announces it in one transaction. Inside the transaction, unlike
    /// the events' notifications, because a notification sent there goes out if and only if
    /// the change commits, so none is lost after a successful write; the lock it holds
    /// through the commit costs nothing at the rate an operator changes settings.
    private func announcedChange(
        _ change: @escaping @Sendable (PostgresConnection, Logger) async throws -> Void
    ) async throws {
        try await bounded("settings write", on: maintenance) { [logger, channels] client in
            try await client.withTransaction(logger: logger) { connection in
                try await change(connection, logger)
                try await connection.perform("SELECT pg_notify(\(channels.settings), '')", logger: logger)
            }
        }
    }
}
