public import Logging
public import MartletStore
public import NostrCore

/// Which store a hosted relay gets, decided in this one place from the server's own
/// storage: beside a default relay in the data folder's SQLite file, each hosted relay has
/// a SQLite file of its own in its folder; beside a default relay on PostgreSQL, a schema
/// of its own on the same database (issue 18). Its manifest, key and writers stay in the
/// data folder either way.
///
/// ```swift
/// let storage = HostedRelayStorage.postgres(url: "postgres://martlet@db/martlet", options: serverOptions)
/// let store = try await storage.openStore(for: key, in: folder, searchableKinds: .all)
/// HostedRelayStorage.schema(of: key)   // "hosted_0f3a…", 63 characters
/// ```
public enum HostedRelayStorage: Sendable {
    /// `<data>/relays/<key>/martlet.sqlite`.
    case sqlite(durableCommits: Bool)
    /// The schema `schema(of:)` on the database at `url`; `options` are the server's
    /// (time limits, partitioning), the pools made small by `options(for:)`.
    case postgres(url: String, options: PostgresEventStore.Options)

    /// The schema a hosted relay's tables are in: `hosted_` and as much of the key as a
    /// PostgreSQL identifier holds (63 bytes: 56 of the 64 hex characters). Made from the
    /// key alone, so a restart, or another node on the same database, finds the same one.
    public static func schema(of key: HostedRelayKey) -> String {
        let prefix = "hosted_"
        return prefix + key.hex.prefix(maximumIdentifierLength - prefix.utf8.count)
    }

    /// PostgreSQL's NAMEDATALEN - 1: a longer identifier is cut, silently.
    static let maximumIdentifierLength = 63

    /// Where a hosted relay's events are, for the log and the command line.
    public func location(of key: HostedRelayKey, in folder: HostedRelayFolder) -> String {
        switch self {
        case .sqlite: folder.storePath(of: key)
        case .postgres: "PostgreSQL schema \(Self.schema(of: key))"
        }
    }

    /// Opens (and, the first time, creates) the relay's store.
    public func openStore(
        for key: HostedRelayKey, in folder: HostedRelayFolder, searchableKinds: SearchableKinds,
        logger: Logger = Logger(label: "martlet.hosted.store")
    ) async throws -> any EventStore {
        switch self {
        case .sqlite(let durableCommits):
            return try HostedRelayFolder.openStore(
                path: folder.storePath(of: key), durableCommits: durableCommits, searchableKinds: searchableKinds)
        case .postgres(let url, let server):
            var options = Self.options(for: key, from: server)
            options.searchableKinds = searchableKinds
            return try await PostgresEventStore(url: url, options: options, logger: logger)
        }
    }

    /// The server's options with the smallest pools the store runs with: one connection
    /// each for ingest, reads and maintenance, and the one that listens for other nodes'
    /// news. A node may host many relays on one database, most of them quiet; pooled
    /// connections left idle are closed by the pool, and an idle relay's store is closed
    /// whole (`hosted.idle_close`), so an open relay holds at most four and usually two.
    static func options(for key: HostedRelayKey, from server: PostgresEventStore.Options) -> PostgresEventStore.Options {
        var options = server
        options.readConnections = 1
        options.writeConnections = 1
        options.maintenanceConnections = 1
        options.schema = schema(of: key)
        return options
    }
}
