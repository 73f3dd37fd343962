/// What an operator changes while the relay runs (NIP-86), kept beside the events so that
/// it survives a restart: entries of named lists (banned pubkeys, blocked IPs, …) and a few
/// key/value settings (the relay's name, description and icon).
///
/// A list entry records the operator's last word on one value: `isListed` true when it was
/// added, false when it was taken off. Keeping removals too lets a run-time change win over
/// the configuration file (unbanning a pubkey that `martlet.yaml` bans) while a value added
/// to the file later still takes effect.
///
/// Every store adapter that can (SQLite, PostgreSQL) implements this beside `EventStore`;
/// the relay finds it with `store as? any RelaySettingsStore`.
///
/// ```swift
/// try await store.recordListEntry(SettingsListEntry(list: "banned_pubkeys", value: hex, isListed: true, reason: "spam"))
/// let entries = try await store.listEntries()
/// try await store.setSetting("relay.name", to: "My relay")
/// ```
public protocol RelaySettingsStore: Sendable {
    /// Every list entry, oldest change first (replaying them in order rebuilds the lists).
    func listEntries() async throws -> [SettingsListEntry]

    /// Records `entry`, replacing any earlier entry for the same list and value; it then
    /// counts as the newest change.
    func recordListEntry(_ entry: SettingsListEntry) async throws

    /// Every key/value setting.
    func settings() async throws -> [String: String]

    /// Sets `key` to `value`, or removes it when `value` is nil.
    func setSetting(_ key: String, to value: String?) async throws
}

/// One value on one of the relay's run-time lists, with the operator's reason.
public struct SettingsListEntry: Sendable, Equatable {
    /// The list's name, such as `banned_pubkeys` (the names are the relay's to choose).
    public var list: String
    /// The listed value as text: a hex pubkey or id, an IP address, a kind number.
    public var value: String
    /// Whether the value was put on the list (true) or taken off it (false).
    public var isListed: Bool
    public var reason: String?

    public init(list: String, value: String, isListed: Bool, reason: String? = nil) {
        self.list = list
        self.value = value
        self.isListed = isListed
        self.reason = reason
    }
}

/// A settings store that other writers share (relay nodes on one database) says when the
/// recorded changes may have moved under this process, so that an operator's change
/// through one node holds on every node within moments rather than at its next restart.
///
/// ```swift
/// if let shared = store as? any RelaySettingsFeed {
///     for await _ in shared.settingsChanges() { try await reloadSettings() }
/// }
/// ```
public protocol RelaySettingsFeed: RelaySettingsStore {
    /// An element each time another writer (or this one) recorded a change, and each time
    /// one may have been missed (once the store listens, and again after it lost touch with
    /// the database): read the lists and settings again then. Elements do not pile up: the
    /// changes made while the reader is busy make one. The stream ends when the store is
    /// closed or the consuming task is cancelled.
    func settingsChanges() -> AsyncStream<Void>
}
