import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import MartletRelay
import MartletServer
import MartletStore
import MartletTestSupport
import NostrCore
import ServiceLifecycle

/// A real relay on an ephemeral 127.0.0.1 port with its SQLite store in a temporary
/// folder, for end-to-end tests.
///
/// ```swift
/// try await TestRelay.with { relay in
///     let client = try await relay.connect()
/// }
/// ```
struct TestRelay: Sendable {
    let port: Int
    let relay: Relay
    let directory: URL

    var url: String { "ws://127.0.0.1:\(port)/" }

    /// Starts a relay, runs `body`, then shuts the relay down gracefully and removes its files
    /// (unless `directory` names a folder to keep, for a restart on the same store).
    /// `store` makes the store instead of the SQLite file in that folder (several nodes on
    /// one PostgreSQL database); the relay closes it when done.
    @discardableResult
    static func with<T: Sendable>(
        configure: (inout RelayConfiguration) -> Void = { _ in },
        clock: (@Sendable () -> Int64)? = nil,
        policies: [any WritePolicy] = [],
        pingInterval: Duration = .seconds(30),
        directory kept: URL? = nil,
        store makeStore: (() async throws -> any EventStore)? = nil,
        _ body: (TestRelay) async throws -> T
    ) async throws -> T {
        let directory = kept ?? FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { if kept == nil { try? FileManager.default.removeItem(at: directory) } }

        let running = try await RunningRelay.start(
            configure: configure, clock: clock, policies: policies, pingInterval: pingInterval, directory: directory,
            store: makeStore)
        do {
            let result = try await body(running.testRelay)
            try await running.stop()
            return result
        } catch {
            try? await running.stop()
            throw error
        }
    }

    /// A new client connection to this relay.
    func connect() async throws -> NostrTestClient {
        try await NostrTestClient.connect(url: url)
    }

    /// The relay's NIP-11 document, parsed.
    func informationDocument() async throws -> [String: Any] {
        try await HTTPGet.informationDocument(port: port)
    }

    /// An HTTP GET of the relay URL with the given headers (for NIP-11 and the HTML page).
    func httpGet(headers: [String: String] = [:]) async throws -> (status: Int, headers: [String: String], body: Data) {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/")!)
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await HTTPGet.run(request)
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension TestRelay {
    /// `with` on PostgreSQL: a store in a fresh schema of the test server, dropped afterwards
    /// whether `body` throws or not. Callers check `TestPostgres.url` (the suites' `.enabled`).
    @discardableResult
    static func withPostgres<T: Sendable>(
        configure: (inout RelayConfiguration) -> Void = { _ in }, _ body: (TestRelay) async throws -> T
    ) async throws -> T {
        let schema = TestPostgres.freshSchema()
        do {
            let result = try await with(configure: configure, store: { try await TestPostgres.store(schema: schema) }, body)
            try await TestPostgres.dropSchema(schema)
            return result
        } catch {
            try? await TestPostgres.dropSchema(schema)
            throw error
        }
    }
}
