public import NostrCore

/// Where events live: the contract every storage adapter (SQLite, PostgreSQL) fulfils.
///
/// One shared contract test suite runs against every adapter. Replacement, deletion and
/// expiration rules are applied inside `save` atomically, so concurrent writers cannot
/// leave two versions of a replaceable event behind.
///
/// ```swift
/// let store = try SQLiteEventStore(path: "./data/martlet.sqlite")
/// let results = try await store.save([event])
/// let newest = try await store.query([filter], maxLimit: 500, now: now)
/// ```
public protocol EventStore: Sendable {
    /// Saves a batch in one transaction and reports one result per event, in order.
    /// Returns only after the transaction is durable (committed).
    ///
    /// - Replaceable (NIP-01): only the newest per (pubkey, kind) is kept; on equal
    ///   `created_at` the lowest id wins. An older one is answered `.superseded`.
    /// - Addressable: the same per (pubkey, kind, d tag).
    /// - Kind 5 (NIP-09): the author's events named by `e` tags are removed, and the
    ///   author's replaceable/addressable versions named by `a` tags up to the deletion's
    ///   `created_at`. The deletion is remembered: a removed event sent again is answered
    ///   `.deleted`. A deletion of a deletion has no effect.
    /// - Ephemeral events are never passed here.
    func save(_ events: [Event]) async throws -> [SaveResult]

    /// `save(events)`, calling `committed` once the transaction has committed and the
    /// store's writer is free for the next batch, which may be before the commit is
    /// durable; returns, as `save` does, once it is. `committed` is called at most once,
    /// and not at all if the transaction fails. A batching writer hands the store its next
    /// batch on `committed`, so the next commit overlaps this one's sync.
    func save(_ events: [Event], whenCommitted committed: @escaping @Sendable () -> Void) async throws -> [SaveResult]

    /// Whether an event with this id is stored (the duplicate check before any crypto).
    func contains(_ id: EventID) async throws -> Bool

    /// The ids of stored events above `after` (nil: from the lowest), ascending, at most
    /// `limit` of them: pages that walk the whole store without holding one read open. The
    /// ingest pipeline loads its memory of stored ids (`StoredEventIDs`) with them at start.
    func storedIDs(after: EventID?, limit: Int) async throws -> [EventID]

    /// Events matching any of `filters` that `visibility` lets the reader see: each filter
    /// contributes at most `min(filter.limit ?? maxLimit, maxLimit)` of its newest such
    /// events (hidden events are left out before the limit, never after); the union is
    /// de-duplicated and ordered newest first (`created_at` descending, then id ascending).
    /// Events whose NIP-40 expiration is at or before `now` are never returned.
    ///
    /// A query still running after `timeout` (nil: no budget of its own) is stopped and
    /// throws a `StoreError` whose `isTimeout` is true.
    ///
    /// The events come back as stored, undecoded (`StoredEvent`): a REQ sends their JSON
    /// as it is. `query` decodes them for readers that need whole events.
    func queryStored(
        _ filters: [Filter], maxLimit: Int, now: Int64, visibility: ReadVisibility, timeout: Duration?
    ) async throws -> [StoredEvent]

    /// The exact number of distinct stored, unexpired events matching any of `filters`
    /// (NIP-45); `limit` is ignored.
    func count(_ filters: [Filter], now: Int64) async throws -> Int

    /// NIP-45's COUNT with `hll`: `count(filters)` and the HyperLogLog of the matching
    /// events' authors at `offset` (8 to 23), read together so that both describe the
    /// same events.
    func countWithHyperLogLog(_ filters: [Filter], offset: Int, now: Int64) async throws
        -> (count: Int, hll: HyperLogLog)

    /// The distinct pubkeys of the stored, unexpired events matching any of `filters`
    /// (NIP-45's HyperLogLog reads nothing else of them); `limit` is ignored.
    func distinctAuthors(_ filters: [Filter], now: Int64) async throws -> [PublicKey]

    /// NIP-62: removes every event by `pubkey` with `created_at <= until`, and gift wraps
    /// (kind 1059) whose `p` tag names it; remembers the request so such events are
    /// refused later (`.vanished`). Returns how many events were removed.
    func vanish(pubkey: PublicKey, until: Int64) async throws -> Int

    /// Removes events whose expiration is at or before `now`; returns how many.
    func purgeExpired(now: Int64) async throws -> Int

    /// Removes the events with these ids (an operator's ban, a NIP-90 job past its
    /// lifetime); returns how many were stored. Unlike a deletion it leaves no record, so
    /// the same event may be stored again unless a policy refuses it.
    func remove(_ ids: [EventID]) async throws -> Int

    /// `(created_at, id)` of every stored, unexpired event matching `filter` (ignoring its
    /// limit), sorted ascending by `created_at` then id: the item set of NIP-77.
    func negentropyItems(_ filter: Filter, now: Int64) async throws -> [TimestampedEventID]

    /// Figures for NIP-11, the status page and /metrics.
    func stats() async throws -> StoreStats

    /// Flushes and closes; later calls fail.
    func close() async throws
}

extension EventStore {
    /// A store whose commit is durable when it returns: `committed` is called on return.
    public func save(_ events: [Event], whenCommitted committed: @escaping @Sendable () -> Void) async throws
        -> [SaveResult]
    {
        let results = try await save(events)
        committed()
        return results
    }

    /// `queryStored`, each event decoded whole.
    public func query(
        _ filters: [Filter], maxLimit: Int, now: Int64, visibility: ReadVisibility, timeout: Duration?
    ) async throws -> [Event] {
        try await queryStored(filters, maxLimit: maxLimit, now: now, visibility: visibility, timeout: timeout)
            .map { stored in try decodingStored { try stored.decoded() } }
    }

    /// Every matching event, whoever reads, with no time budget of its own (the relay's own
    /// reads: the mesh, `martlet sync`, replaceable checks).
    public func query(_ filters: [Filter], maxLimit: Int, now: Int64) async throws -> [Event] {
        try await query(filters, maxLimit: maxLimit, now: now, visibility: .everything, timeout: nil)
    }
}

/// The outcome of saving one event.
public enum SaveResult: Sendable, Equatable {
    /// Stored now.
    case saved
    /// An event with the same id is already stored.
    case duplicate
    /// A newer version of this replaceable or addressable event is stored; not kept.
    case superseded
    /// Its author deleted it (NIP-09) before; not kept.
    case deleted
    /// Its author asked the relay to vanish (NIP-62); not kept.
    case vanished
}

/// A stored event's `created_at` and id: what a NIP-77 item set is built from (the
/// `Negentropy` module's `NegentropyItem` is the same pair in the protocol's own types).
///
/// ```swift
/// let items = try await store.negentropyItems(filter, now: now)   // [TimestampedEventID]
/// items.sorted().first?.createdAt
/// ```
public struct TimestampedEventID: Sendable, Hashable, Comparable {
    public var createdAt: Int64
    public var id: EventID

    public init(createdAt: Int64, id: EventID) {
        self.createdAt = createdAt
        self.id = id
    }

    /// NIP-77's order: by `created_at`, then by id.
    public static func < (lhs: TimestampedEventID, rhs: TimestampedEventID) -> Bool {
        lhs.createdAt != rhs.createdAt ? lhs.createdAt < rhs.createdAt : lhs.id < rhs.id
    }
}

/// Size figures of a store.
public struct StoreStats: Sendable, Equatable {
    public var eventCount: Int
    /// Bytes on disk (database and its write-ahead log).
    public var bytesOnDisk: Int64
    /// The most common kinds, most frequent first.
    public var topKinds: [(kind: Kind, count: Int)]

    public init(eventCount: Int, bytesOnDisk: Int64, topKinds: [(kind: Kind, count: Int)]) {
        self.eventCount = eventCount
        self.bytesOnDisk = bytesOnDisk
        self.topKinds = topKinds
    }

    public static func == (lhs: StoreStats, rhs: StoreStats) -> Bool {
        lhs.eventCount == rhs.eventCount && lhs.bytesOnDisk == rhs.bytesOnDisk
            && lhs.topKinds.map(\.kind) == rhs.topKinds.map(\.kind)
            && lhs.topKinds.map(\.count) == rhs.topKinds.map(\.count)
    }
}

/// A store failure that a relay reports to the client as `error:`.
public struct StoreError: Error, Sendable, CustomStringConvertible {
    public var message: String
    /// The operation ran out of its time budget (the store is fine; the request was too
    /// costly).
    public var isTimeout = false
    public init(_ message: String) { self.message = message }
    public var description: String { message }

    /// A query stopped at its time budget.
    public static func timedOut(_ message: String) -> StoreError {
        var error = StoreError(message)
        error.isTimeout = true
        return error
    }
}

/// Reads stored event bytes with `decode`: bytes the relay wrote that do not decode mean a
/// damaged store, one error whichever store and whichever way they are read.
func decodingStored<T>(_ decode: () throws -> T) throws -> T {
    do {
        return try decode()
    } catch {
        throw StoreError("stored event does not decode: \(error)")
    }
}
