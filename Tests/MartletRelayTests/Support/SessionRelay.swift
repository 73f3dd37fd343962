import Foundation
import Logging
import MartletRelay
import MartletStore
import MartletTestSupport
import NostrCore
import ServiceLifecycle

/// A real relay engine with its SQLite store in a temporary folder, and no server: clients
/// are `RelaySession`s called directly, for the protocol's rules where a socket adds nothing.
/// The relay runs as `martlet serve` runs it, a service whose writer commits before an OK;
/// the clients a test opened are closed when its body returns.
///
/// ```swift
/// try await SessionRelay.with(configure: { $0.limits.maxFilters = 2 }) { relay in
///     let client = relay.connect()
///     try await client.request("s", "{}", "{}", "{}")   // answered CLOSED invalid:
/// }
/// ```
struct SessionRelay: Sendable {
    let relay: Relay
    /// Every client handed out, closed (as their connections would be) before the relay stops.
    private let clients = Locked<[SessionClient]>([])

    /// The URL NIP-42 authentications name: the loopback address a relay without configured
    /// URLs answers to, as if it listened on port 7777.
    var url: String { relay.addresses.isConfigured ? relay.addresses.all[0] : "ws://127.0.0.1:7777/" }

    /// Starts a relay, runs `body`, then shuts the relay down gracefully and removes its files.
    @discardableResult
    static func with<T: Sendable>(
        configure: (inout RelayConfiguration) -> Void = { _ in },
        clock: (@Sendable () -> Int64)? = nil,
        policies: [any WritePolicy] = [],
        _ body: (SessionRelay) async throws -> T
    ) async throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("martlet-session-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }

        var configuration = RelayConfiguration()
        configuration.purgeInterval = .seconds(1)
        configure(&configuration)
        var storeOptions = SQLiteEventStore.Options()
        storeOptions.searchableKinds = configuration.search.kinds
        let store = try SQLiteEventStore(
            path: directory.appendingPathComponent("martlet.sqlite").path, options: storeOptions)
        var logger = Logger(label: "martlet.test")
        logger.logLevel = .warning
        let relay = Relay(
            configuration: configuration, store: store, policies: policies, logger: logger,
            clock: clock ?? { now() })
        relay.addresses.listening(host: "127.0.0.1", port: 7777)
        try await RelayAdministration(relay: relay).restore()
        let group = ServiceGroup(configuration: .init(services: [relay], gracefulShutdownSignals: [], logger: logger))
        let running = Task { try await group.run() }
        let sessionRelay = SessionRelay(relay: relay)
        do {
            let result = try await body(sessionRelay)
            try await sessionRelay.stop(group, running, store)
            return result
        } catch {
            try? await sessionRelay.stop(group, running, store)
            throw error
        }
    }

    /// `with`, for the many tests that need one client: `body` gets the relay and a client.
    @discardableResult
    static func withClient<T: Sendable>(
        configure: (inout RelayConfiguration) -> Void = { _ in },
        clock: (@Sendable () -> Int64)? = nil,
        _ body: (SessionRelay, SessionClient) async throws -> T
    ) async throws -> T {
        try await with(configure: configure, clock: clock) { relay in try await body(relay, relay.connect()) }
    }

    private func stop(_ group: ServiceGroup, _ running: Task<Void, any Error>, _ store: SQLiteEventStore) async throws {
        for client in clients.value { await client.close() }
        await group.triggerGracefulShutdown()
        let outcome = await running.result
        try await store.close()
        try outcome.get()
    }

    /// `count` notes by one new author, saved straight into the store, as if published
    /// before the test began.
    @discardableResult
    func storeNotes(_ count: Int) async throws -> [Event] {
        let author = Author()
        let notes = (0..<count).map { author.event(content: "note \($0)") }
        _ = try await relay.store.save(notes)
        return notes
    }

    /// A new client: a session as the server makes one for each WebSocket.
    func connect(remoteAddress: String = "127.0.0.1") -> SessionClient {
        let client = SessionClient(session: relay.makeSession(remoteAddress: remoteAddress))
        clients.withLock { $0.append(client) }
        return client
    }
}
