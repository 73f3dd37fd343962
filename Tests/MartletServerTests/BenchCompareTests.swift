import MartletBench
import MartletTestSupport
import Testing

/// `martlet bench compare` against two real relays on 127.0.0.1: every scenario runs against
/// both in every round, the order alternates, and the table puts each figure side by side.
@Suite("martlet bench compare")
struct BenchCompareTests {
    @Test("two relays, two rounds: A then B, then B then A, with new events each round and one row per phase and metric")
    func alternatesAndCompares() async throws {
        try await TestRelay.with { first in
            try await TestRelay.with { second in
                var a = BenchConfiguration(url: try LoopbackRelayURL(first.url), scenario: .ingest)
                a.events = 300
                a.preload = 200
                a.queries = 40
                a.connections = 2
                a.verifySamples = 50
                a.timeout = 90
                var b = a
                b.url = try LoopbackRelayURL(second.url)
                let comparison = try await BenchComparison.run(a: a, b: b, scenarios: [.ingest, .query], rounds: 2)

                let order = comparison.runs.map { "\($0.round)\($0.report.scenario.rawValue)\($0.relay)" }
                #expect(order == ["1ingestA", "1ingestB", "1queryA", "1queryB", "2ingestB", "2ingestA", "2queryB", "2queryA"])
                // Round 2 has its own seed: its ingest is new events on both relays, not duplicates.
                for run in comparison.runs where run.report.scenario == .ingest {
                    let ingest = try #require(run.report.phases.first { $0.name == "ingest" })
                    #expect(ingest.counters["accepted", default: 0] > 250, "round \(run.round) relay \(run.relay): \(ingest.counters)")
                }
                let throughput = try #require(comparison.rows.first { $0.scenario == .ingest && $0.phase == "ingest" && $0.metric == .throughput })
                #expect(throughput.a.count == 2 && throughput.b.count == 2)
                #expect(throughput.ratio != nil)
                #expect(comparison.rows.contains { $0.scenario == .query && $0.metric == .p99 })
                #expect(comparison.text.contains("ingest: ingest"))
                #expect(try comparison.jsonString().contains("\"relayB\""))
            }
        }
    }
}
