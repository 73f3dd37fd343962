internal import Foundation

/// Two relays put under the same scenarios in alternation (`martlet bench compare`), so a
/// side-by-side table such as Martlet against strfry can be reproduced on any machine.
///
/// Each round runs every scenario against both relays, A then B in odd rounds and B then A
/// in even ones, so neither relay always meets a machine the other has just warmed or
/// loaded. Within a round both relays get the same pre-signed load (one seed); each round
/// has its own seed, so a second ingest round publishes new events rather than duplicates.
///
/// ```swift
/// let a = BenchConfiguration(url: try LoopbackRelayURL("ws://127.0.0.1:7777"), scenario: .ingest)
/// let b = BenchConfiguration(url: try LoopbackRelayURL("ws://127.0.0.1:7778"), scenario: .ingest)
/// let comparison = try await BenchComparison.run(a: a, b: b, scenarios: [.ingest, .query], rounds: 2)
/// print(comparison.text)
/// ```
public struct BenchComparison: Codable, Sendable {
    /// One scenario's run against one relay in one round.
    public struct Run: Codable, Sendable {
        /// "A" or "B".
        public var relay: String
        public var round: Int
        public var report: BenchReport
    }

    public var relayA: String
    public var relayB: String
    public var runs: [Run] = []

    /// Runs `scenarios` against both relays for `rounds` rounds. `a` and `b` carry every
    /// other setting (counts, pids, the first round's seed); only the scenario and the
    /// seed change from run to run.
    public static func run(
        a: BenchConfiguration, b: BenchConfiguration, scenarios: [Scenario], rounds: Int,
        log: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> BenchComparison {
        var comparison = BenchComparison(relayA: a.url.description, relayB: b.url.description)
        for round in 1...max(1, rounds) {
            for scenario in scenarios {
                let order = round % 2 == 1 ? [("A", a), ("B", b)] : [("B", b), ("A", a)]
                for (label, base) in order {
                    var configuration = base
                    configuration.scenario = scenario
                    configuration.seed = base.seed &+ UInt64(round - 1)
                    log("round \(round): \(scenario.rawValue) against \(label) (\(base.url))")
                    let report = try await LoadGenerator(configuration, log: log).run()
                    comparison.runs.append(Run(relay: label, round: round, report: report))
                }
            }
        }
        return comparison
    }

    /// The report as pretty-printed JSON with sorted keys.
    public func jsonString() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// One row of the table: a phase's figure for each relay, round by round.
    public struct Row: Sendable, Equatable {
        public var scenario: Scenario
        public var phase: String
        public var metric: Metric
        public var a: [Double]
        public var b: [Double]

        /// B's mean over A's mean; nil when A has nothing to divide by.
        public var ratio: Double? {
            guard !a.isEmpty, !b.isEmpty else { return nil }
            let meanA = a.reduce(0, +) / Double(a.count)
            let meanB = b.reduce(0, +) / Double(b.count)
            return meanA > 0 ? meanB / meanA : nil
        }
    }

    /// The figures compared for every phase.
    public enum Metric: String, Sendable, CaseIterable {
        case throughput = "per second"
        case p50 = "p50 ms"
        case p99 = "p99 ms"
        /// The relay's CPU per operation, when its pid was given: the steadier figure on a
        /// machine the relay shares with the load generator.
        case relayCPU = "relay CPU µs/op"

        func value(of phase: PhaseResult) -> Double? {
            switch self {
            case .throughput: phase.throughput
            case .p50: phase.latency.p50
            case .p99: phase.latency.p99
            case .relayCPU: phase.relayCPUSeconds.flatMap { phase.count > 0 ? $0 * 1e6 / Double(phase.count) : nil }
            }
        }
    }

    /// Every phase both relays ran, in the order first run, with each metric both have.
    public var rows: [Row] {
        var rows: [Row] = []
        var seen = Set<String>()
        for run in runs {
            for phase in run.report.phases where seen.insert("\(run.report.scenario.rawValue)/\(phase.name)").inserted {
                for metric in Metric.allCases {
                    let a = values(of: metric, phase: phase.name, scenario: run.report.scenario, relay: "A")
                    let b = values(of: metric, phase: phase.name, scenario: run.report.scenario, relay: "B")
                    if !a.isEmpty, !b.isEmpty {
                        rows.append(Row(scenario: run.report.scenario, phase: phase.name, metric: metric, a: a, b: b))
                    }
                }
            }
        }
        return rows
    }

    private func values(of metric: Metric, phase: String, scenario: Scenario, relay: String) -> [Double] {
        runs.filter { $0.relay == relay && $0.report.scenario == scenario }
            .sorted { $0.round < $1.round }
            .compactMap { run in run.report.phases.first { $0.name == phase }.flatMap(metric.value(of:)) }
    }

    /// The side-by-side table for the terminal: each round's figure, then B over A.
    public var text: String {
        var lines = ["martlet bench compare: A = \(relayA), B = \(relayB) (rounds alternate A/B, B/A)"]
        let header = [
            TableText.pad("phase", 26), TableText.pad("metric", 16), TableText.pad("A", 24, right: true), TableText.pad("B", 24, right: true), TableText.pad("B/A", 7, right: true),
        ]
        lines.append(header.joined())
        for row in rows {
            let format = { (values: [Double]) in values.map { TableText.fixed($0, row.metric == .throughput ? 0 : 2) }.joined(separator: " / ") }
            lines.append(
                [
                    TableText.pad("\(row.scenario.rawValue): \(row.phase)", 26), TableText.pad(row.metric.rawValue, 16),
                    TableText.pad(format(row.a), 24, right: true), TableText.pad(format(row.b), 24, right: true),
                    TableText.pad(row.ratio.map { TableText.fixed($0, 2) } ?? "-", 7, right: true),
                ].joined())
        }
        return lines.joined(separator: "\n")
    }
}
