import PostgresNIO
public import NostrCore

/// NIP-86 changes kept in the shared database, so that every node sees the operator's
/// bans and settings and they survive restarts. The same contract as the SQLite store's.
extension PostgresEventStore: RelaySettingsStore {
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
        try await bounded("settings write", on: writes) { client in
            // A replaced entry takes a new `changed` number: ordering by it is ordering by last change.
            try await client.perform(
                """
                INSERT INTO settings_lists (list, value, listed, reason)
                VALUES (\(entry.list), \(entry.value), \(entry.isListed), \(entry.reason)::text)
                ON CONFLICT (list, value) DO UPDATE SET listed = excluded.listed, reason = excluded.reason,
                    changed = nextval(pg_get_serial_sequence('settings_lists', 'changed'))
                """)
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
        try await bounded("settings write", on: writes) { client in
            if let value {
                try await client.perform(
                    """
                    INSERT INTO settings_values (key, value) VALUES (\(key), \(value))
                    ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """)
            } else {
                try await client.perform("DELETE FROM settings_values WHERE key = \(key)")
            }
        }
    }

    public func removeEvent(_ id: EventID) async throws -> Bool {
        try await remove([id]) > 0
    }
}
