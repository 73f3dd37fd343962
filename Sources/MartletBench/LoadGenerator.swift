internal import Foundation
import NostrCore
internal import NIOCore
internal import NIOPosix

/// Which load a benchmark puts on the relay.
public enum Scenario: String, CaseIterable, Sendable, Codable {
    /// New events over a few connections with a window of unanswered ones on each.
    case ingest
    /// An ingest pass, then the same events again.
    case duplicates
    /// A preload, then a mix of REQ shapes timed to EOSE.
    case query
    /// Many subscribers, one publisher at a fixed rate; delivery latency and losses.
    case fanout
    /// Many idle connections with one subscription each; memory per connection.
    case connections
    /// A preload, then one NIP-77 reconciliation of a set that differs from the relay's.
    case negentropy
    /// A preload, then one-word NIP-50 searches timed to EOSE.
    case search
    /// A preload and one note's reactions, then NIP-45 COUNTs of them.
    case count
}

/// Everything a benchmark run is told; defaults are the issue's.
///
/// ```swift
/// var configuration = BenchConfiguration(url: try LoopbackRelayURL("ws://127.0.0.1:7777"), scenario: .ingest)
/// configuration.events = 5_000
/// ```
public struct BenchConfiguration: Sendable {
    public var url: LoopbackRelayURL
    public var scenario: Scenario
    public var connections = 4
    public var window = 64
    public var events = 20_000
    public var preload = 20_000
    public var queries = 2_000
    public var subscribers = 1_000
    public var rate = 500
    public var seconds = 10
    public var count = 1_000
    /// Reactions to the one note the count scenario counts.
    public var reactions = 1_000
    /// Items in which the local set of the negentropy scenario differs from the relay's.
    public var differences = 1_000
    /// Bytes of one negentropy message the local side writes (0: no limit).
    public var frameSizeLimit = 60_000
    /// Unix time that anchors the preloaded events' `created_at` and the query scenario's
    /// windows (nil: now). With the same seed and anchor a run makes the same events and
    /// asks for the same windows, so a relay preloaded once (or seeded by `bench generate
    /// --anchor`) answers the next run's preload `duplicate:` and the same REQs again.
    public var anchor: Int64?
    /// The relay's process id, for its CPU seconds and resident memory.
    public var pid: Int32?
    /// Fixes authors, topics and event shapes, so runs against two relays load them alike.
    public var seed: UInt64 = 1
    /// Bound on every phase, in seconds: whatever has not finished by then is cut off.
    public var timeout = 120
    /// Event-loop threads of the load generator. One leaves the other core to the relay.
    public var threads = 1
    /// How many BIP-340 verifications time the machine's verify bound.
    public var verifySamples = 2_000
    /// The protocols to speak, one pass each (`martlet bench --protocol`): JSON, axon, or
    /// both in one run for a side-by-side comparison.
    public var wires: [BenchWire] = [.json]

    public init(url: LoopbackRelayURL, scenario: Scenario) {
        self.url = url
        self.scenario = scenario
    }
}

/// Puts one scenario's load on a relay and measures it.
///
/// Every event is signed before any clock starts; every phase is bounded in count and in
/// time (`timeout`), and only loopback relays are accepted (`LoopbackRelayURL`).
///
/// ```swift
/// let report = try await LoadGenerator(configuration) { print($0) }.run()
/// print(report.text)
/// ```
public struct LoadGenerator: Sendable {
    public let configuration: BenchConfiguration
    let log: @Sendable (String) -> Void

    public init(_ configuration: BenchConfiguration, log: @escaping @Sendable (String) -> Void = { _ in }) {
        self.configuration = configuration
        self.log = log
    }

    public func run() async throws -> BenchReport {
        ProcessProbe.raiseOpenFileLimit()
        let group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, configuration.threads))
        var report = BenchReport(configuration: configuration)
        do {
            for (pass, wire) in configuration.wires.enumerated() {
                // Each pass its own events (another seed), so the second is not all duplicates.
                var passConfiguration = configuration
                passConfiguration.seed = configuration.seed &+ UInt64(pass)
                let context = RunContext(
                    configuration: passConfiguration, group: group, log: log,
                    probe: configuration.pid.map(ProcessProbe.init), workload: Workload(seed: passConfiguration.seed),
                    wire: wire)
                var passReport = BenchReport(configuration: passConfiguration)
                switch configuration.scenario {
                case .ingest, .duplicates: try await context.ingest(into: &passReport)
                case .query: try await context.query(into: &passReport)
                case .fanout: try await context.fanout(into: &passReport)
                case .connections: try await context.connections(into: &passReport)
                case .negentropy: try await context.negentropy(into: &passReport)
                case .search: try await context.search(into: &passReport)
                case .count: try await context.count(into: &passReport)
                }
                report.merge(passReport, labelled: configuration.wires.count > 1 ? wire.name : nil)
            }
            report.compareWires(configuration.wires.map(\.name))
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
        try await group.shutdownGracefully()
        return report
    }
}

/// What every phase of one run shares.
struct RunContext: Sendable {
    let configuration: BenchConfiguration
    let group: MultiThreadedEventLoopGroup
    let log: @Sendable (String) -> Void
    let probe: ProcessProbe?
    let workload: Workload
    /// The protocol of this pass.
    var wire: BenchWire = .json

    var url: LoopbackRelayURL { configuration.url }
    var now: Int64 { Int64(Date().timeIntervalSince1970) }
    /// Where preloaded events and query windows end: `--anchor`, or now.
    var anchor: Int64 { configuration.anchor ?? now }
    var phaseDeadline: NIODeadline { .now() + .seconds(Int64(configuration.timeout)) }

    /// Opens `count` connections, at most `parallel` handshakes at a time (a burst of a
    /// thousand SYNs would overflow the relay's accept backlog and measure the kernel).
    /// `makeDriver` learns its connection's index and when its connect began. With
    /// `tolerant`, connections the relay refuses are counted rather than fatal: refusing
    /// the thousandth subscriber is itself a result.
    func openMany<Driver: SocketDriver>(
        _ count: Int, parallel: Int = 64, deadline: NIODeadline, tolerant: Bool = false,
        driver makeDriver: @escaping @Sendable (_ index: Int, _ startedAt: UInt64) -> Driver
    ) async throws -> (connections: [BenchConnection<Driver.Outcome>], failed: Int) {
        try await withThrowingTaskGroup(of: (Int, BenchConnection<Driver.Outcome>?).self) { group in
            var opened = [BenchConnection<Driver.Outcome>?](repeating: nil, count: count)
            var failed = 0
            var next = 0
            func add() {
                let index = next
                next += 1
                group.addTask {
                    let startedAt = monotonicNanos()
                    do {
                        let connection = try await BenchSocket.open(
                            url, on: self.group, deadline: deadline, wire: self.wire
                        ) {
                            makeDriver(index, startedAt)
                        }
                        return (index, connection)
                    } catch where tolerant {
                        return (index, nil)
                    }
                }
            }
            while next < min(parallel, count) { add() }
            while let (index, connection) = try await group.next() {
                opened[index] = connection
                if connection == nil { failed += 1 }
                if next < count { add() }
            }
            if failed > 0 { log("\(failed) of \(count) connections failed to open") }
            return (opened.compactMap { $0 }, failed)
        }
    }

    /// Waits for every connection to be ready; returns how many made it.
    func awaitReady<Outcome>(_ connections: [BenchConnection<Outcome>]) async -> Int {
        var ready = 0
        for connection in connections where (try? await connection.ready.get()) != nil { ready += 1 }
        return ready
    }

    /// Runs `body` and reports the wall time and the CPU seconds of both sides.
    func timed<T>(_ body: () async throws -> T) async rethrows -> (T, Usage) {
        let relayBefore = probe?.cpuSeconds()
        let benchBefore = ProcessProbe.ownCPUSeconds()
        let start = monotonicNanos()
        let value = try await body()
        let wall = Double(monotonicNanos() - start) / 1e9
        let relayAfter = probe?.cpuSeconds()
        var relayCPU: Double?
        if let relayBefore, let relayAfter { relayCPU = relayAfter - relayBefore }
        return (value, Usage(wallSeconds: wall, relayCPUSeconds: relayCPU,
                             benchCPUSeconds: ProcessProbe.ownCPUSeconds() - benchBefore))
    }

    /// Signs `count` events of the mixed workload (never inside a timed phase), over the
    /// 30 days before `end`.
    func signedEvents(_ count: Int, stream: UInt64, label: String, endingAt end: Int64) async -> [Event] {
        let start = monotonicNanos()
        let events = await workload.events(count: count, stream: stream, now: end)
        log("signed \(events.count) \(label) events in \(Self.seconds(since: start)) s on \(System.coreCount) cores")
        return events
    }

    static func seconds(since start: UInt64) -> String {
        String(format: "%.2f", Double(monotonicNanos() - start) / 1e9)
    }
}

/// Wall time and CPU seconds of one phase.
struct Usage: Sendable {
    var wallSeconds: Double
    var relayCPUSeconds: Double?
    var benchCPUSeconds: Double
}
