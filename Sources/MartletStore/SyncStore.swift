public import NostrCore

/// What relay discovery and the mesh remember between runs (the seed's "sync store"): the
/// relays this relay syncs with, when each was last seen, last synced and last failed, and
/// the authors whose relay lists it keeps in the DHT. Kept beside the events (shared by the
/// nodes of one PostgreSQL database), so that the operator sees on the status page which
/// relays this one deals with and how each sync went, across restarts.
///
/// Every store adapter that can (SQLite, PostgreSQL) implements this beside `EventStore`;
/// the relay finds it with `store as? any SyncStore`. Times are Unix seconds.
///
/// ```swift
/// try await store.recordRelaySeen("wss://a.example", information: json, at: now)
/// try await store.recordRelaySync("wss://a.example", at: now, error: nil)
/// let stale = try await store.forgetRelays(seenBefore: now - 3 * 3600)
/// ```
public protocol SyncStore: Sendable {
    /// Every relay known, most recently seen first.
    func syncRelays() async throws -> [SyncRelay]

    /// Notes that `url` was seen at `time` (announced in the DHT, or answering a sync), with
    /// what it says of itself when known (NIP-11 fields, as JSON); adds it when new. A time
    /// older than the one recorded leaves it.
    func recordRelaySeen(_ url: String, information: String?, at time: Int64) async throws

    /// Notes the end of a sync with `url` at `time`: a success (`error` nil) sets its last
    /// sync, and counts as seeing it; a failure sets its last error. Adds it when new.
    func recordRelaySync(_ url: String, at time: Int64, error: String?) async throws

    /// Forgets the relays last seen before `time`, and returns their URLs.
    func forgetRelays(seenBefore time: Int64) async throws -> [String]

    /// Every author whose relay list this relay keeps in the DHT, most recently put first.
    func syncAuthors() async throws -> [SyncAuthor]

    /// Notes that `author`'s relay list was put in the DHT at `time`; adds the author when new.
    func recordSyncAuthor(_ author: PublicKey, at time: Int64) async throws
}

/// One relay of the sync store.
public struct SyncRelay: Sendable, Equatable {
    public var url: String
    /// What the relay says of itself (NIP-11 fields: for a relay found in the DHT, those its
    /// announcement carries), as JSON.
    public var information: String?
    public var lastSeen: Int64
    public var lastSync: Int64?
    public var lastError: String?
    public var lastErrorAt: Int64?

    public init(
        url: String, information: String? = nil, lastSeen: Int64, lastSync: Int64? = nil, lastError: String? = nil,
        lastErrorAt: Int64? = nil
    ) {
        self.url = url
        self.information = information
        self.lastSeen = lastSeen
        self.lastSync = lastSync
        self.lastError = lastError
        self.lastErrorAt = lastErrorAt
    }
}

/// One author of the sync store: whose NIP-65 list is put in the DHT, and when it last was.
public struct SyncAuthor: Sendable, Equatable {
    public var pubkey: PublicKey
    public var lastPut: Int64

    public init(pubkey: PublicKey, lastPut: Int64) {
        self.pubkey = pubkey
        self.lastPut = lastPut
    }
}

/// Bounds a peer's words before they are kept: an error text comes from another relay.
extension SyncStore {
    static var maxErrorLength: Int { 512 }
    static var maxInformationLength: Int { 4096 }
}
