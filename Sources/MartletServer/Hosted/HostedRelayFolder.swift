public import Foundation
public import MartletRelay
public import MartletStore
public import NostrCore

/// Where hosted relays live on disk: `<data>/relays/<key>/` holds `relay.json` (the
/// manifest), `martlet.sqlite` (the relay's own store, unless the server's store is on
/// PostgreSQL: see `HostedRelayStorage`) and, on the node that created the relay,
/// `relay.key` (its secret, mode 0600).
///
/// A new relay is made in a hidden folder and renamed into place whole, so a server
/// watching `<data>/relays` never sees one half made.
///
/// ```swift
/// let folder = HostedRelayFolder(dataDirectory: "./data")
/// let (key, identity) = try folder.create(manifest: manifest)
/// let manifests = folder.manifests()
/// ```
public struct HostedRelayFolder: Sendable {
    public let root: URL

    public init(dataDirectory: String) {
        root = URL(fileURLWithPath: dataDirectory).appendingPathComponent("relays")
    }

    public func folder(of key: HostedRelayKey) -> URL { root.appendingPathComponent(key.hex) }
    public func storePath(of key: HostedRelayKey) -> String { folder(of: key).appendingPathComponent("martlet.sqlite").path }
    func manifestURL(of key: HostedRelayKey) -> URL { folder(of: key).appendingPathComponent("relay.json") }

    /// Every hosted relay's manifest, by key; folders without a readable manifest are skipped.
    public func manifests() -> [HostedRelayKey: HostedRelayManifest] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root.path)) ?? []
        var found: [HostedRelayKey: HostedRelayManifest] = [:]
        for name in names {
            guard let key = HostedRelayKey(name), let manifest = manifest(of: key) else { continue }
            found[key] = manifest
        }
        return found
    }

    public func manifest(of key: HostedRelayKey) -> HostedRelayManifest? {
        guard let data = try? Data(contentsOf: manifestURL(of: key)) else { return nil }
        return try? JSONDecoder().decode(HostedRelayManifest.self, from: data)
    }

    /// When `<data>/relays` last changed (a relay created or joined by another process).
    var modified: Date? {
        (try? FileManager.default.attributesOfItem(atPath: root.path))?[.modificationDate] as? Date
    }

    /// Writes the manifest through a temporary file and a rename: a reader sees the old
    /// one or the new one, never half of it.
    public func save(_ manifest: HostedRelayManifest, of key: HostedRelayKey) throws {
        try write(manifest, to: folder(of: key))
    }

    private func write(_ manifest: HostedRelayManifest, to folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(manifest)
        let temporary = folder.appendingPathComponent(".relay.json.\(UUID().uuidString)")
        try data.write(to: temporary)
        guard rename(temporary.path, folder.appendingPathComponent("relay.json").path) == 0 else {
            try? FileManager.default.removeItem(at: temporary)
            throw HostedRelayError.unwritable(folder.path)
        }
    }

    /// A new relay: its key pair (the secret in `relay.key`, 0600) and its manifest.
    public func create(manifest: HostedRelayManifest) throws -> (key: HostedRelayKey, identity: RelayIdentity) {
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let staging = root.appendingPathComponent(".new-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            let identity = try RelayIdentity.load(configured: nil, directory: staging.path)
            let key = HostedRelayKey(identity.publicKey)
            try write(manifest, to: staging)
            guard rename(staging.path, folder(of: key).path) == 0 else { throw HostedRelayError.unwritable(root.path) }
            return (key, identity)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// A relay created elsewhere, replicated here (`martlet relay join`): its manifest, no
    /// secret. Made whole under a hidden name, then renamed into place.
    public func adopt(_ key: HostedRelayKey, manifest: HostedRelayManifest) throws {
        if FileManager.default.fileExists(atPath: folder(of: key).path) { return try save(manifest, of: key) }
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        let staging = root.appendingPathComponent(".join-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            try write(manifest, to: staging)
            guard rename(staging.path, folder(of: key).path) == 0 else { throw HostedRelayError.unwritable(root.path) }
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    /// The relay's own key, on the node that created it.
    public func identity(of key: HostedRelayKey) -> RelayIdentity? {
        let path = folder(of: key).appendingPathComponent(RelayIdentity.fileName).path
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        return try? RelayIdentity.load(configured: nil, directory: folder(of: key).path)
    }

    /// The SQLite store of one hosted relay. Small on purpose (one reader, a small page
    /// cache, no memory map, an event cache of 1 MiB): a node may host thousands, most of
    /// them quiet.
    public static func openStore(path: String, durableCommits: Bool, searchableKinds: SearchableKinds) throws
        -> SQLiteEventStore
    {
        var options = SQLiteEventStore.Options(readerCount: 1, cacheSizeMiB: 2, mmapSizeMiB: 0)
        options.durableCommits = durableCommits
        options.searchableKinds = searchableKinds
        options.eventCacheMiB = 1
        return try SQLiteEventStore(path: path, options: options)
    }
}

/// Why a hosted relay could not be made, found or changed; `description` is one line.
public enum HostedRelayError: Error, CustomStringConvertible, Equatable {
    case unwritable(String)
    case unknown(HostedRelayKey)
    case refused(String)

    public var description: String {
        switch self {
        case .unwritable(let path): "could not write \(path)"
        case .unknown(let key): "no hosted relay \(key) here"
        case .refused(let reason): reason
        }
    }
}
