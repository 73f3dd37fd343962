import ArgumentParser
import Foundation
import MartletBench
import NostrCore

/// `martlet bench <ws-url> <scenario>`: puts a bounded load on a Nostr relay running on
/// this machine (Martlet, strfry or any other) and reports latency percentiles,
/// throughput and, given `--pid`, the relay's CPU seconds and memory.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a Nostr relay on this machine and measure it.",
        discussion: """
            Scenarios: ingest, duplicates, query, fanout, connections, negentropy, search, count. Every event is signed \
            before timing starts; only loopback relays are accepted. Compare relays side by \
            side in one session, on release builds: debug figures mean nothing.
            """)

    @Argument(help: "The relay's WebSocket URL, e.g. ws://127.0.0.1:7777 (loopback only).")
    var url: String
    @Argument(help: "One of: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
    var scenario: String

    @Option(help: "Connections publishing or querying (ingest, duplicates, query).") var connections = 4
    @Option(help: "Unanswered messages kept in flight on each connection (query caps it at 16).") var window = 64
    @Option(help: "Distinct events to publish (ingest, duplicates).") var events = 20_000
    @Option(help: "Events published before the queries (query, search, count; 0 queries what is there) or the sync (negentropy).")
    var preload = 20_000
    @Option(help: "Items in which the local set differs from the relay's, half on each side (negentropy).")
    var differences = 1_000
    @Option(help: "Bytes of one negentropy message this side writes, 0 for no limit (negentropy).")
    var frameSizeLimit = 60_000
    @Option(help: "Unix time anchoring the notes' created_at; repeat it to find a preloaded relay's set again (negentropy).")
    var anchor: Int64?
    @Option(help: "REQs or COUNTs to time (query, search, count).") var queries = 2_000
    @Option(help: "Reactions to the note whose reactions are counted (count).") var reactions = 1_000
    @Option(help: "Live subscribers (fanout).") var subscribers = 1_000
    @Option(help: "Events per second the publisher sends (fanout).") var rate = 500
    @Option(help: "How long the publisher publishes (fanout).") var seconds = 10
    @Option(help: "Idle connections to open (connections).") var count = 1_000
    @Option(help: "The relay's process id: report its CPU seconds and resident memory.") var pid: Int32?
    @Option(help: "Write the report as JSON to this file.") var report: String?
    @Option(help: "Seed of the workload's authors, topics and event shapes.") var seed: UInt64 = 1
    @Option(help: "Bound on each phase, in seconds.") var timeout = 120
    @Option(help: "Event-loop threads of the load generator.") var threads = 1
    @Option(help: "Verifications timed for the verify bound (ingest, duplicates).") var verifySamples = 2_000
    @Option(
        name: .customLong("protocol"),
        help: "json, axon or both (one pass each, compared in one report; ingest, duplicates, fanout).")
    var wireProtocol = "json"
    @Option(help: "The ed25519 secret (64 hex) axon authenticates with; its key must be on the relay's axon.allowlist.")
    var axonKey: String?

    func validate() throws {
        guard Scenario(rawValue: scenario) != nil else {
            throw ValidationError("unknown scenario \"\(scenario)\"; use one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        let counts = [
            connections, window, events, queries, subscribers, rate, seconds, count, reactions, timeout, threads, verifySamples,
        ]
        guard counts.allSatisfy({ $0 > 0 }), preload >= 0, differences >= 0 else { throw ValidationError("counts must be positive") }
        guard ["json", "axon", "both"].contains(wireProtocol) else {
            throw ValidationError("--protocol is json, axon or both")
        }
        if wireProtocol != "json" {
            guard [.ingest, .duplicates, .fanout].contains(Scenario(rawValue: scenario)) else {
                throw ValidationError("--protocol axon runs the ingest, duplicates and fanout scenarios")
            }
            guard let axonKey, Hex.decode(axonKey)?.count == 32 else {
                throw ValidationError("--protocol axon needs --axon-key, an ed25519 secret of 64 hex characters")
            }
        }
        guard frameSizeLimit == 0 || frameSizeLimit >= 4_096 else {
            throw ValidationError("--frame-size-limit is 0 (no limit) or at least 4096 bytes")
        }
    }

    func run() async throws {
        var configuration = BenchConfiguration(url: try LoopbackRelayURL(url), scenario: Scenario(rawValue: scenario)!)
        configuration.connections = connections
        configuration.window = window
        configuration.events = events
        configuration.preload = preload
        configuration.queries = queries
        configuration.subscribers = subscribers
        configuration.rate = rate
        configuration.seconds = seconds
        configuration.count = count
        configuration.reactions = reactions
        configuration.differences = differences
        configuration.frameSizeLimit = frameSizeLimit
        configuration.anchor = anchor
        configuration.pid = pid
        configuration.seed = seed
        configuration.timeout = timeout
        configuration.threads = threads
        configuration.verifySamples = verifySamples
        let axon = BenchWire.axon(secret: axonKey.flatMap(Hex.decode) ?? [])
        configuration.wires = wireProtocol == "both" ? [.json, axon] : wireProtocol == "axon" ? [axon] : [.json]
        let result = try await LoadGenerator(configuration) { line in print(line) }.run()
        print(result.text)
        if let report {
            try result.jsonString().write(toFile: report, atomically: true, encoding: .utf8)
            print("report written to \(report)")
        }
    }
}
