import Foundation
import Logging
import MartletRelay
import MartletReplication
import MartletServer
import MartletStore
import ServiceLifecycle

/// A test relay started and stopped by hand, where `TestRelay.with` scopes one to a
/// closure: for tests that stop one relay while others keep running, start it again on the
/// same port and folder, or give it a mesh once its peers' ports are known.
///
/// ```swift
/// let a = try await RunningRelay.start(directory: folder)
/// let mesh = a.startMesh(peers: [b.url, c.url])
/// try await a.stop()
/// let again = try await RunningRelay.start(port: a.port, directory: folder, mesh: configuration)
/// ```
final class RunningRelay: Sendable {
    let port: Int
    let relay: Relay
    let directory: URL
    /// The mesh the relay was started with, run by its application.
    private let configuredMesh: Mesh?
    private let store: any EventStore
    private let serviceGroup: ServiceGroup
    private let running: Task<Void, any Error>
    /// Meshes added after the start, each run in its own task.
    private let addedMeshes = Locked<[(mesh: Mesh, task: Task<Void, Never>)]>([])
    private let stopped = Locked(false)

    var url: String { "ws://127.0.0.1:\(port)/" }
    var testRelay: TestRelay { TestRelay(port: port, relay: relay, directory: directory) }
    /// The relay's mesh: the one it started with, else the first one added.
    var mesh: Mesh? { configuredMesh ?? addedMeshes.value.first?.mesh }

    private init(
        port: Int, relay: Relay, directory: URL, mesh: Mesh?, store: any EventStore, serviceGroup: ServiceGroup,
        running: Task<Void, any Error>
    ) {
        self.port = port
        self.relay = relay
        self.directory = directory
        self.configuredMesh = mesh
        self.store = store
        self.serviceGroup = serviceGroup
        self.running = running
    }

    /// Starts a relay with its store in `directory` (SQLite unless `store` makes one) on
    /// `host` and `port` (0: a free one), running `mesh` beside it as `martlet serve` does.
    static func start(
        host: String = "127.0.0.1",
        configure: (inout RelayConfiguration) -> Void = { _ in },
        clock: (@Sendable () -> Int64)? = nil,
        policies: [any WritePolicy] = [],
        pingInterval: Duration = .seconds(30),
        port requested: Int = 0,
        directory: URL,
        store makeStore: (() async throws -> any EventStore)? = nil,
        mesh meshConfiguration: MeshConfiguration? = nil
    ) async throws -> RunningRelay {
        var configuration = RelayConfiguration()
        configuration.purgeInterval = .seconds(1)
        configure(&configuration)
        let store = try await makeStore?()
            ?? SQLiteEventStore(path: directory.appendingPathComponent("martlet.sqlite").path)
        var logger = Logger(label: "martlet.test")
        logger.logLevel = .warning
        let metrics = MetricsExporter()
        let relay = Relay(
            configuration: configuration, store: store, policies: policies, logger: logger,
            metrics: metrics.makeRelayMetrics(), clock: clock ?? { Int64(Date().timeIntervalSince1970) })
        try await RelayAdministration(relay: relay).restore()
        // Peers failing is what some tests are about: only errors are worth a line.
        var meshLogger = logger
        meshLogger.logLevel = .error
        let mesh = meshConfiguration.map {
            Mesh(relay: relay, configuration: $0, metrics: metrics.factory, logger: meshLogger)
        }
        let (portStream, portContinuation) = AsyncStream.makeStream(of: Int.self)
        let app = RelayServer.application(
            relay: relay, host: host, port: requested, pingInterval: pingInterval, metrics: metrics,
            services: mesh.map { [$0] } ?? [], onServerRunning: { port in portContinuation.yield(port) }, logger: logger)
        let serviceGroup = ServiceGroup(
            configuration: .init(services: [app], gracefulShutdownSignals: [], logger: logger))
        let running = Task {
            defer { portContinuation.finish() }
            try await serviceGroup.run()
        }
        var ports = portStream.makeAsyncIterator()
        guard let port = await ports.next() else {
            _ = try? await running.value
            try? await store.close()
            throw TestFailure("the relay did not start")
        }
        return RunningRelay(
            port: port, relay: relay, directory: directory, mesh: mesh, store: store, serviceGroup: serviceGroup,
            running: running)
    }

    /// Starts a mesh with `peers` beside the running relay; `stop` ends it first.
    @discardableResult
    func startMesh(peers: [String], configure: (inout MeshConfiguration) -> Void = { _ in }) -> Mesh {
        var configuration = MeshConfiguration()
        configuration.peers = peers
        configure(&configuration)
        var logger = Logger(label: "martlet.test.mesh")
        logger.logLevel = .error
        let mesh = Mesh(relay: relay, configuration: configuration, logger: logger)
        addedMeshes.withLock { $0.append((mesh, Task { await mesh.run() })) }
        return mesh
    }

    /// Shuts down gracefully (meshes first, then the listener, then the writer) and closes
    /// the store; the folder stays. Stopping a stopped relay does nothing. A shutdown that
    /// takes longer than `limit` fails the test instead of hanging the run (and is left to
    /// finish in the background).
    func stop(within limit: Duration = .seconds(20)) async throws {
        enum Outcome: Sendable {
            case stopped
            case failed(any Error)
            case timedOut
        }
        let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<Outcome, Never>) in
            let once = Locked<CheckedContinuation<Outcome, Never>?>(continuation)
            let finish: @Sendable (Outcome) -> Void = { outcome in
                once.withLock { waiting in
                    defer { waiting = nil }
                    return waiting
                }?.resume(returning: outcome)
            }
            Task {
                do {
                    try await self.shutDown()
                    finish(.stopped)
                } catch {
                    finish(.failed(error))
                }
            }
            Task {
                try? await Task.sleep(for: limit)
                finish(.timedOut)
            }
        }
        switch outcome {
        case .stopped: return
        case .failed(let error): throw error
        case .timedOut: throw TestFailure("the relay on port \(port) did not stop within \(limit)")
        }
    }

    private func shutDown() async throws {
        let first = stopped.withLock { stopped in
            defer { stopped = true }
            return !stopped
        }
        guard first else { return }
        let meshes = addedMeshes.value
        for mesh in meshes { mesh.task.cancel() }
        for mesh in meshes { await mesh.task.value }
        await serviceGroup.triggerGracefulShutdown()
        do {
            try await running.value
        } catch {
            try? await store.close()
            throw error
        }
        try await store.close()
    }
}
