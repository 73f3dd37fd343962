import Foundation
import MartletTestSupport
import NostrCore
import Testing

/// Every limit NIP-11 advertises is enforced with the answer NIP-01 prescribes, and the
/// connection stays usable afterwards.
@Suite("Advertised limits")
struct LimitsTests {
    @Test("content longer than max_content_length is answered OK false invalid:")
    func contentLength() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxContentLength = 10 }) { _, client throws in
            let author = Author()
            let long = author.event(content: String(repeating: "é", count: 11))
            #expect(try await client.refusal(of: long)?.hasPrefix("invalid:") == true)
            // Characters, not bytes: ten two-byte characters fit.
            #expect(try await client.publishAndWait(author.event(content: String(repeating: "é", count: 10))).accepted)
        }
    }

    @Test("an event with more tags than max_event_tags is answered OK false invalid:")
    func tagCount() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxEventTags = 3 }) { _, client throws in
            let event = Author().event(tags: (0..<4).map { ["t", "tag\($0)"] })
            #expect(try await client.refusal(of: event)?.hasPrefix("invalid:") == true)
        }
    }

    @Test("created_at outside the accepted window is answered OK false invalid:")
    func createdAtWindow() async throws {
        try await SessionRelay.withClient(configure: {
            $0.limits.createdAtUpperLimit = 60
            $0.limits.createdAtLowerLimit = 3600
        }) { _, client throws in
            let author = Author()
            #expect(try await client.refusal(of: author.event(createdAt: now() + 600))?.hasPrefix("invalid:") == true)
            #expect(try await client.refusal(of: author.event(createdAt: now() - 7200))?.hasPrefix("invalid:") == true)
            #expect(try await client.publishAndWait(author.event(createdAt: now() - 60)).accepted)
        }
    }

    @Test("a filter's limit is clamped to max_limit")
    func maxLimit() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxLimit = 3 }) { _, client in
            let author = Author()
            // Distinct content: two events a second apart could otherwise share an id.
            for offset in 0..<5 {
                _ = try await client.publishAndWait(author.event(content: "n\(offset)", createdAt: now() - Int64(offset)))
            }
            let served = try await client.query("s", #"{"authors":["\#(author.pubkey.hex)"],"limit":100}"#)
            #expect(served.count == 3)
        }
    }

    @Test("a subscription id longer than max_subid_length is answered CLOSED invalid:")
    func subscriptionIDLength() async throws {
        try await SessionRelay.withClient(configure: { $0.limits.maxSubscriptionIDLength = 8 }) { _, client in
            try await client.request("123456789", "{}")
            #expect(try await client.closedReason("123456789").hasPrefix("invalid:"))
        }
    }
}
