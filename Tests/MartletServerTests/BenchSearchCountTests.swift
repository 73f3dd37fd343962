import Foundation
import MartletBench
import MartletTestSupport
import Testing

/// `martlet bench search` and `martlet bench count` against a real relay on 127.0.0.1: every
/// request is answered and timed, and the rare words find the fixture's notes.
@Suite("martlet bench search and count")
struct BenchSearchCountTests {
    static func run(_ scenario: Scenario, against url: String) async throws -> BenchReport {
        var configuration = BenchConfiguration(url: try LoopbackRelayURL(url), scenario: scenario)
        configuration.preload = 200
        configuration.queries = 40
        configuration.reactions = 60
        configuration.connections = 2
        configuration.timeout = 90
        return try await LoadGenerator(configuration).run()
    }

    @Test("search: one-word REQs, common and rare words, each answered with up to 100 ranked events")
    func search() async throws {
        try await TestRelay.with { relay in
            let report = try await Self.run(.search, against: relay.url)
            let phase = try #require(report.phases.first { $0.name == "search" })
            #expect(phase.count == 40)
            #expect(phase.counters["refused"] == 0)
            #expect(phase.counters["unanswered"] == 0)
            // 1,000 fixture notes over 10 rare words: 100 each, a full page of `limit` 100.
            let rare = try #require(report.phases.first { $0.name.hasSuffix("rare word") })
            #expect(rare.count == 20)
            #expect(rare.counters["events returned"] == 20 * 100)
        }
    }

    @Test("count: NIP-45 COUNTs of one note's reactions, each answered")
    func count() async throws {
        try await TestRelay.with { relay in
            let report = try await Self.run(.count, against: relay.url)
            let phase = try #require(report.phases.first { $0.name == "count" })
            #expect(phase.count == 40)
            #expect(phase.counters["refused"] == 0)
            #expect(phase.counters["unanswered"] == 0)
            #expect(report.phases.contains { $0.name == "count fixture" && $0.counters["accepted"] == 61 })
        }
    }
}
