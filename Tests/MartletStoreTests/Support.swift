import Foundation
import MartletStore
import MartletTestSupport
import NostrCore
import Testing

/// NostrCore's tag, not Swift Testing's.
typealias Tag = NostrCore.Tag

/// Makes the stores a contract test runs against: one per adapter. Its test description
/// names the adapter in each case of a parameterized test.
protocol StoreFactory: Sendable, CustomTestStringConvertible {
    /// A new, empty store of its own.
    func makeStore() async throws -> any EventStore
    /// `store` closed and opened again on the same data.
    func reopen(_ store: any EventStore) async throws -> any EventStore
    /// `store` closed and opened again on the same data, indexing `searchableKinds` for search.
    func reopen(_ store: any EventStore, searchableKinds: SearchableKinds) async throws -> any EventStore
    /// Closes `store` and removes its data.
    func dispose(_ store: any EventStore) async throws
}

/// Every store the contract runs on: SQLite always, PostgreSQL when a server is configured
/// (`TestPostgres.url`; CI always sets it, and the PostgreSQL-only suites say when a
/// run skips it).
let storeFactories: [any StoreFactory] =
    [SQLiteFactory(), SQLiteFactory(eventCacheMiB: 0)] + (TestPostgres.url == nil ? [] : [PostgresFactory()])

extension StoreFactory {
    /// Runs `body` on a new store and disposes of it afterwards, whether `body` throws or not.
    func withStore(_ body: (any EventStore) async throws -> Void) async throws {
        let store = try await makeStore()
        do {
            try await body(store)
            try await dispose(store)
        } catch {
            try? await dispose(store)
            throw error
        }
    }
}

/// The `created_at` of a store test's events where the time is not what the test is about:
/// fixed, so every run stores the same thing and `testNow` is after it.
let testTime: Int64 = 1_700_000_000

extension Author {
    /// A NIP-09 deletion request naming `events` by id.
    func deletion(of events: [Event], at createdAt: Int64 = 1_700_000_100) -> Event {
        event(kind: .deletion, tags: events.map { ["e", $0.id.hex] }, createdAt: createdAt)
    }

    /// A NIP-09 deletion request naming addresses (`kind:pubkey:d`).
    func deletion(ofAddresses addresses: [String], at createdAt: Int64) -> Event {
        event(kind: .deletion, tags: addresses.map { ["a", $0] }, createdAt: createdAt)
    }
}

/// A fixed "now" for tests, after every test event's `created_at`.
let testNow: Int64 = 1_800_000_000

extension EventStore {
    /// Query with a generous server limit.
    func query(_ filters: Filter..., maxLimit: Int = 1000, now: Int64 = testNow) async throws -> [Event] {
        try await query(filters, maxLimit: maxLimit, now: now)
    }

    func save(_ events: Event...) async throws -> [SaveResult] {
        try await save(events)
    }
}

/// NIP-01 order, for expectations: newest first, then lowest id.
func newestOrder(_ events: [Event]) -> [Event] {
    events.sorted { $0.createdAt != $1.createdAt ? $0.createdAt > $1.createdAt : $0.id < $1.id }
}

/// Stores on real SQLite files, each in a directory of its own under the system's
/// temporary directory, removed when the test is done with it.
struct SQLiteFactory: StoreFactory {
    /// `SQLiteEventStore.Options.eventCacheMiB`: with the default, REQs read positions and
    /// take events from the cache; with 0, every row from the table.
    var eventCacheMiB = SQLiteEventStore.Options().eventCacheMiB

    var testDescription: String { eventCacheMiB == 0 ? "SQLite without the event cache" : "SQLite" }

    private var options: SQLiteEventStore.Options {
        var options = SQLiteEventStore.Options()
        options.eventCacheMiB = eventCacheMiB
        return options
    }

    static let root: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-store-tests-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.removeItem(at: url)
        return url
    }()

    func makeStore() async throws -> any EventStore {
        let path = Self.root.appendingPathComponent(UUID().uuidString).appendingPathComponent("martlet.sqlite").path
        return try SQLiteEventStore(path: path, options: options)
    }

    func reopen(_ store: any EventStore) async throws -> any EventStore {
        let sqlite = try #require(store as? SQLiteEventStore)
        try await sqlite.close()
        return try SQLiteEventStore(path: sqlite.path, options: options)
    }

    func reopen(_ store: any EventStore, searchableKinds: SearchableKinds) async throws -> any EventStore {
        let sqlite = try #require(store as? SQLiteEventStore)
        try await sqlite.close()
        var options = options
        options.searchableKinds = searchableKinds
        return try SQLiteEventStore(path: sqlite.path, options: options)
    }

    func dispose(_ store: any EventStore) async throws {
        let sqlite = try #require(store as? SQLiteEventStore)
        try? await sqlite.close()
        try FileManager.default.removeItem(atPath: (sqlite.path as NSString).deletingLastPathComponent)
    }

    func makeSQLiteStore() async throws -> SQLiteEventStore {
        try #require(try await makeStore() as? SQLiteEventStore)
    }
}
