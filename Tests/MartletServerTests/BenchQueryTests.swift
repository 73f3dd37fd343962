import Foundation
import MartletBench
import MartletTestSupport
import Testing

/// `martlet bench query` against a real relay on 127.0.0.1, anchored away from the wall
/// clock as a seeded store is (`bench generate --anchor`).
@Suite("martlet bench query")
struct BenchQueryTests {
    @Test("with an anchor, the preload and the time windows fall in the 30 days before it, and a second run asks the same")
    func anchoredWindows() async throws {
        try await TestRelay.with { relay in
            var configuration = BenchConfiguration(url: try LoopbackRelayURL(relay.url), scenario: .query)
            configuration.preload = 300
            configuration.queries = 50
            configuration.connections = 1
            configuration.timeout = 90
            // 200 days ago: windows of the 30 days before now would hold none of these events.
            configuration.anchor = Int64(Date().timeIntervalSince1970) - 200 * 86_400
            let first = try await LoadGenerator(configuration).run()
            let windows = try #require(first.phases.first { $0.name == "  time window" })
            #expect(windows.count == 10)
            let returned = try #require(windows.counters["events returned"])
            #expect(returned > 0, "300 events over 30 days put a few in most 6-hour windows")

            // The same seed and anchor: the preload is answered `duplicate:` and the same
            // windows find the same events.
            let again = try await LoadGenerator(configuration).run()
            let preload = try #require(again.phases.first { $0.name == "preload" })
            #expect(preload.counters["accepted"] == 0)
            let windowsAgain = try #require(again.phases.first { $0.name == "  time window" })
            #expect(windowsAgain.counters["events returned"] == returned)
        }
    }
}
