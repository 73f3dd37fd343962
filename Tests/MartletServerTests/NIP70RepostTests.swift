import Foundation
import NostrCore
import MartletTestSupport
import Testing

/// NIP-70: "Reposts of protected events MUST NOT embed the reposted event. If a repost of
/// a protected event embeds the event anyway, relays SHOULD summarily reject it."
@Suite("NIP-70 reposts")
struct NIP70RepostTests {
    @Test("a kind 6 or kind 16 repost embedding a protected event is refused with blocked: and not stored")
    func embeddingRepostRefused() async throws {
        try await TestRelay.with { relay in
            let author = Author()
            let protected = author.event(content: "members only", tags: [["-"]])
            let client = try await relay.connect()
            for kind: Kind in [6, 16] {
                let repost = Author().event(
                    kind: kind, content: protected.jsonString,
                    tags: [["e", protected.id.hex], ["p", author.pubkey.hex], ["k", "1"]])
                let answer = try await client.publishAndWait(repost)
                #expect(!answer.accepted && answer.message.hasPrefix("blocked:"), "kind \(kind.rawValue): \(answer.message)")
                #expect(try await client.query("r\(kind.rawValue)", #"{"ids":["\#(repost.id.hex)"]}"#).isEmpty)
            }
            await client.close()
        }
    }

    @Test("the protected event's own author, authenticated, may not embed it in a repost either")
    func authorsOwnEmbeddingRefused() async throws {
        try await TestRelay.with { relay in
            let author = Author()
            let protected = author.event(content: "members only", tags: [["-"]])
            let client = try await relay.connect()
            try await client.publish(protected)
            let challenge = try await client.challenge()
            _ = try await client.ok(for: protected.id)
            #expect(try await client.authenticate(as: author, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await client.publishAndWait(protected).accepted)
            let repost = author.event(kind: 6, content: protected.jsonString, tags: [["e", protected.id.hex]])
            let answer = try await client.publishAndWait(repost)
            #expect(!answer.accepted && answer.message.hasPrefix("blocked:"), "\(answer.message)")
            await client.close()
        }
    }

    @Test("a repost of a protected event without the embedded event, and a repost embedding an unprotected one, are accepted")
    func lawfulRepostsAccepted() async throws {
        try await TestRelay.with { relay in
            let author = Author()
            let protected = author.event(content: "members only", tags: [["-"]])
            let open = author.event(content: "for everyone", tags: [["t", "-"]])
            let client = try await relay.connect()
            let bare = Author().event(kind: 6, content: "", tags: [["e", protected.id.hex], ["p", author.pubkey.hex]])
            #expect(try await client.publishAndWait(bare).accepted)
            let embedded = Author().event(kind: 16, content: open.jsonString, tags: [["e", open.id.hex], ["k", "1"]])
            #expect(try await client.publishAndWait(embedded).accepted)
            // A note that merely quotes such JSON is no repost.
            let quoting = Author().event(kind: 1, content: protected.jsonString)
            #expect(try await client.publishAndWait(quoting).accepted)
            await client.close()
        }
    }
}
