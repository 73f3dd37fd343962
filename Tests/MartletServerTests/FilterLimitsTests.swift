import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import MartletRelay
import NostrCore
import Testing

/// The filter list limits as NIP-11's `limitation` advertises them, from the configuration
/// and from martlet.yaml and the environment (MartletRelayTests checks they are enforced).
@Suite("Filter list limits, advertised")
struct FilterLimitsAdvertisedTests {
    @Test("NIP-11 limitation advertises the filter limits next to the standard ones")
    func advertised() async throws {
        try await TestRelay.with(configure: {
            $0.limits.maxFilterIDs = 3
            $0.limits.maxFilterAuthors = 3
            $0.limits.maxFilterKinds = 3
            $0.limits.maxFilterTagValues = 3
            $0.limits.maxAuthorsTimesKinds = 4
            $0.limits.queryTimeout = .milliseconds(2500)
        }) { relay in
            let document = try await relay.informationDocument()
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(limitation["max_filter_ids"] as? Int == 3)
            #expect(limitation["max_filter_authors"] as? Int == 3)
            #expect(limitation["max_filter_kinds"] as? Int == 3)
            #expect(limitation["max_filter_tag_values"] as? Int == 3)
            #expect(limitation["max_authors_times_kinds"] as? Int == 4)
            #expect(limitation["query_timeout"] as? Double == 2.5)
            #expect(limitation["max_filters"] as? Int == RelayConfiguration.Limits().maxFilters)
        }
    }

    @Test("martlet.yaml and the environment set the filter limits and the query time budget")
    func configured() async throws {
        let yaml = """
            limits:
              max_filter_ids: 11
              max_filter_authors: 12
              max_filter_kinds: 13
              max_filter_tag_values: 14
              max_authors_times_kinds: 15
              query_timeout: 1.5
            """
        try await withConfigurationFile(yaml) { file, folder in
            let relay = try await RelayProcess.start(
                data: folder.appendingPathComponent("data"), arguments: ["--config", file.path],
                environment: ["MARTLET_LIMITS_MAX_FILTER_KINDS": "16"])
            let document = try await relay.informationDocument()
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(limitation["max_filter_ids"] as? Int == 11)
            #expect(limitation["max_filter_authors"] as? Int == 12)
            #expect(limitation["max_filter_kinds"] as? Int == 16)
            #expect(limitation["max_filter_tag_values"] as? Int == 14)
            #expect(limitation["max_authors_times_kinds"] as? Int == 15)
            #expect(limitation["query_timeout"] as? Double == 1.5)
            #expect(await relay.stop(signal: SIGTERM) == 0)
        }
    }
}
