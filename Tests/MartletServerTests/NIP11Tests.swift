import Foundation
import Testing

/// NIP-11: the relay information document on the WebSocket URL.
@Suite("NIP-11 relay information")
struct NIP11Tests {
    @Test("Accept: application/nostr+json returns the document with CORS headers and the enforced limits")
    func document() async throws {
        try await TestRelay.with(configure: {
            $0.info.name = "test relay"
            $0.limits.maxSubscriptions = 7
        }) { relay in
            let response = try await relay.httpGet(headers: ["Accept": "application/nostr+json"])
            #expect(response.status == 200)
            #expect(response.headers["access-control-allow-origin"] == "*")
            #expect(response.headers["content-type"]?.contains("application/nostr+json") == true)
            let document = try #require(try JSONSerialization.jsonObject(with: response.body) as? [String: Any])
            #expect(document["name"] as? String == "test relay")
            let nips = try #require(document["supported_nips"] as? [Int])
            #expect(nips.contains(1) && nips.contains(11))
            #expect(document["software"] is String && document["version"] is String)
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(limitation["max_subscriptions"] as? Int == 7)
            for key in [
                "max_message_length", "max_filters", "max_limit", "max_subid_length", "max_event_tags",
                "max_content_length", "created_at_lower_limit", "created_at_upper_limit", "auth_required",
                "restricted_writes",
            ] {
                #expect(limitation[key] != nil, "limitation.\(key) is advertised")
            }
        }
    }

    @Test("a browser gets an HTML page at the same URL")
    func htmlPage() async throws {
        try await TestRelay.with { relay in
            let response = try await relay.httpGet(headers: ["Accept": "text/html"])
            #expect(response.status == 200)
            #expect(response.headers["content-type"]?.hasPrefix("text/html") == true)
            let page = String(decoding: response.body, as: UTF8.self)
            #expect(page.contains("<html") && page.contains("Nostr"))
        }
    }

    @Test("the NIP-11 document says when writes are restricted or authentication is required")
    func informationReflectsAccess() async throws {
        try await TestRelay.with(configure: { $0.access.mode = .privateRelay }) { relay in
            let document = try await relay.informationDocument()
            let limitation = try #require(document["limitation"] as? [String: Any])
            #expect(limitation["auth_required"] as? Bool == true)
            #expect(limitation["restricted_writes"] as? Bool == true)
            let nips = try #require(document["supported_nips"] as? [Int])
            #expect(nips.contains(42) && nips.contains(70))
        }
    }

    @Test("the NIP-11 document lists 77 in supported_nips")
    func listsNIP77() async throws {
        try await TestRelay.with { relay in
            let document = try await relay.informationDocument()
            #expect((document["supported_nips"] as? [Int])?.contains(77) == true)
        }
    }
}
