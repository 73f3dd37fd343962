import ArgumentParser
import Foundation
import MartletBench
import NostrCore

/// `martlet bench <ws-url> <scenario>`: puts a bounded load on a Nostr relay running on
/// this machine (Martlet, strfry or any other) and reports latency percentiles,
/// throughput and, given `--pid`, the relay's CPU seconds and memory.
/// `martlet bench compare <url-a> <url-b>` runs scenarios against two relays in alternation.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Load a Nostr relay on this machine and measure it.",
        discussion: """
            Scenarios: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")). Every event is signed \
            before timing starts; only loopback relays are accepted. Compare relays side by \
            side in one session (`martlet bench compare`), on release builds: debug figures mean nothing.
            """,
        subcommands: [Measure.self, Compare.self, Generate.self],
        defaultSubcommand: Measure.self)
}

/// The load every scenario is shaped by, shared by `bench` and `bench compare`.
struct LoadOptions: ParsableArguments {
    @Option(help: "Connections publishing or querying (ingest, duplicates, query).") var connections = 4
    @Option(help: "Unanswered messages kept in flight on each connection (query caps it at 16).") var window = 64
    @Option(help: "Distinct events to publish (ingest, duplicates).") var events = 20_000
    @Option(help: "Events published before the queries (query, search, count; 0 queries what is there) or the sync (negentropy).")
    var preload = 20_000
    @Option(help: "Items in which the local set differs from the relay's, half on each side (negentropy).")
    var differences = 1_000
    @Option(help: "Bytes of one negentropy message this side writes, 0 for no limit (negentropy).")
    var frameSizeLimit = 60_000
    @Option(help: "Unix time anchoring the preloaded events' created_at and the query scenario's windows (default: now); repeat it to ask a seeded or preloaded relay the same again (query, negentropy).")
    var anchor: Int64?
    @Option(help: "REQs or COUNTs to time (query, search, count).") var queries = 2_000
    @Option(help: "Reactions to the note whose reactions are counted (count).") var reactions = 1_000
    @Option(help: "Live subscribers (fanout).") var subscribers = 1_000
    @Option(help: "Events per second the publisher sends (fanout).") var rate = 500
    @Option(help: "How long the publisher publishes (fanout).") var seconds = 10
    @Option(help: "Idle connections to open (connections).") var count = 1_000
    @Option(help: "Seed of the workload's authors, topics and event shapes.") var seed: UInt64 = 1
    @Option(help: "Bound on each phase, in seconds.") var timeout = 120
    @Option(help: "Event-loop threads of the load generator.") var threads = 1
    @Option(help: "Verifications timed for the verify bound (ingest, duplicates).") var verifySamples = 2_000

    func validate() throws {
        let counts = [
            connections, window, events, queries, subscribers, rate, seconds, count, reactions, timeout, threads, verifySamples,
        ]
        guard counts.allSatisfy({ $0 > 0 }), preload >= 0, differences >= 0 else { throw ValidationError("counts must be positive") }
        guard frameSizeLimit == 0 || frameSizeLimit >= 4_096 else {
            throw ValidationError("--frame-size-limit is 0 (no limit) or at least 4096 bytes")
        }
    }

    /// A run's configuration against `url`, with this load.
    func configuration(url: String, scenario: Scenario, pid: Int32?) throws -> BenchConfiguration {
        var configuration = BenchConfiguration(url: try LoopbackRelayURL(url), scenario: scenario)
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
        return configuration
    }

    static func scenario(_ name: String) throws -> Scenario {
        guard let scenario = Scenario(rawValue: name) else {
            throw ValidationError("unknown scenario \"\(name)\"; use one of \(Scenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return scenario
    }
}

extension Bench {
    /// One scenario against one relay.
    struct Measure: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "run", abstract: "Measure one relay (the default: `martlet bench <url> <scenario>`).")

        @Argument(help: "The relay's WebSocket URL, e.g. ws://127.0.0.1:7777 (loopback only).")
        var url: String
        @Argument(help: "One of: \(Scenario.allCases.map(\.rawValue).joined(separator: ", ")).")
        var scenario: String
        @OptionGroup var load: LoadOptions
        @Option(help: "The relay's process id: report its CPU seconds and resident memory.") var pid: Int32?
        @Option(help: "Write the report as JSON to this file.") var report: String?
        @Option(
            name: .customLong("protocol"),
            help: "json, axon or both (one pass each, compared in one report; ingest, duplicates, fanout).")
        var wireProtocol = "json"
        @Option(help: "The ed25519 secret (64 hex) axon authenticates with; its key must be on the relay's axon.allowlist.")
        var axonKey: String?

        func validate() throws {
            let scenario = try LoadOptions.scenario(scenario)
            guard ["json", "axon", "both"].contains(wireProtocol) else {
                throw ValidationError("--protocol is json, axon or both")
            }
            if wireProtocol != "json" {
                guard [.ingest, .duplicates, .fanout].contains(scenario) else {
                    throw ValidationError("--protocol axon runs the ingest, duplicates and fanout scenarios")
                }
                guard let axonKey, Hex.decode(axonKey)?.count == 32 else {
                    throw ValidationError("--protocol axon needs --axon-key, an ed25519 secret of 64 hex characters")
                }
            }
        }

        func run() async throws {
            var configuration = try load.configuration(url: url, scenario: try LoadOptions.scenario(scenario), pid: pid)
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

    /// The same scenarios against two relays, in alternation, as one side-by-side table.
    struct Compare: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the same scenarios against two relays in alternation and print them side by side.",
            discussion: """
                Round 1 measures A then B, round 2 B then A, and so on; both relays get the same \
                pre-signed load within a round, and each round a new one (its own seed). Give \
                each relay a fresh data folder, and --pid-a/--pid-b for relay CPU per operation.
                """)

        @Argument(help: "Relay A's WebSocket URL (loopback only).") var urlA: String
        @Argument(help: "Relay B's WebSocket URL (loopback only).") var urlB: String
        @Option(help: "Comma-separated scenarios, run in this order each round.") var scenarios = "ingest,query,fanout"
        @Option(help: "Rounds; each runs every scenario against both relays.") var rounds = 2
        @Option(help: "Relay A's process id, for its CPU seconds and memory.") var pidA: Int32?
        @Option(help: "Relay B's process id, for its CPU seconds and memory.") var pidB: Int32?
        @OptionGroup var load: LoadOptions
        @Option(help: "Write every run's report and the table's source as JSON to this file.") var report: String?

        func validate() throws {
            guard rounds > 0 else { throw ValidationError("--rounds must be positive") }
            _ = try parsedScenarios()
        }

        private func parsedScenarios() throws -> [Scenario] {
            let names = scenarios.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            guard !names.isEmpty else { throw ValidationError("--scenarios names at least one scenario") }
            return try names.map(LoadOptions.scenario)
        }

        func run() async throws {
            let scenarios = try parsedScenarios()
            let a = try load.configuration(url: urlA, scenario: scenarios[0], pid: pidA)
            let b = try load.configuration(url: urlB, scenario: scenarios[0], pid: pidB)
            let comparison = try await BenchComparison.run(a: a, b: b, scenarios: scenarios, rounds: rounds) { print($0) }
            print(comparison.text)
            if let report {
                try comparison.jsonString().write(toFile: report, atomically: true, encoding: .utf8)
                print("report written to \(report)")
            }
        }
    }
}
