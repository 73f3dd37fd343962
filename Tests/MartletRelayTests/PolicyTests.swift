import Foundation
@testable import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// Operator rules: gift-wrap privacy, PoW, request to vanish, job expiry, block lists,
/// kind lists and rate limits — each allowed and refused, end to end.
@Suite("Access policies")
struct PolicyTests {
    @Test("NIP-59: a gift wrap is served, counted and delivered only to its authenticated recipient")
    func giftWrapPrivacy() async throws {
        try await SessionRelay.with { relay in
            let bob = Author()
            let carol = Author()
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", bob.pubkey.hex]])
            let note = Author().event(content: "public")
            let publisher = relay.connect()
            #expect(try await publisher.publishAndWait(wrap).accepted)
            #expect(try await publisher.publishAndWait(note).accepted)

            let stranger = relay.connect()
            #expect(try await stranger.query("all", "{}").ids == [note.id.hex])
            try await stranger.send(#"["COUNT","c",{}]"#)
            #expect(try await stranger.next().object(2)?["count"] as? Int == 1)

            // Carol authenticates but is not the recipient: her wide reads still leave the wrap out.
            try await stranger.send(##"["REQ","x",{"kinds":[1059],"#p":["\##(bob.pubkey.hex)"],"limit":0}]"##)
            let challenge = try await stranger.challenge()
            #expect(try await stranger.authenticate(as: carol, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await stranger.query("w", #"{"kinds":[1059]}"#).isEmpty)
            #expect(try await stranger.query("all", "{}").ids == [note.id.hex])

            let recipient = relay.connect()
            try await recipient.publish(bob.event(tags: [["-"]]))
            let bobsChallenge = try await recipient.challenge()
            #expect(try await recipient.authenticate(as: bob, challenge: bobsChallenge, relayURL: relay.url).accepted)
            #expect(try await recipient.query("w", #"{"kinds":[1059]}"#).ids == [wrap.id.hex])
            try await recipient.send(#"["COUNT","c",{"kinds":[1059]}]"#)
            #expect(try await recipient.next(timeout: .seconds(5)).object(2)?["count"] as? Int == 1)

            // Live: a new wrap for bob reaches bob's subscription, not the stranger's.
            let live = Author().event(kind: 1059, content: "live", tags: [["p", bob.pubkey.hex]])
            _ = try await publisher.publishAndWait(live)
            while true {
                let message = try await recipient.next()
                if message.type == "EVENT" {
                    #expect(message.object(2)?["id"] as? String == live.id.hex)
                    break
                }
            }
            while let message = try await stranger.silence() {
                #expect(message.type != "EVENT", "the stranger must not receive the gift wrap")
            }
        }
    }

    @Test("NIP-13: events below the minimum difficulty are answered pow:, mined ones accepted")
    func proofOfWork() async throws {
        try await SessionRelay.withClient(configure: { $0.access.minPowDifficulty = 8 }) { _, client in
            let author = Author()
            var plain = author.event()
            while ProofOfWork.difficulty(of: plain.id) >= 8 { plain = author.event(content: UUID().uuidString) }
            let refused = try await client.publishAndWait(plain)
            #expect(!refused.accepted && refused.message.hasPrefix("pow:"))
            #expect(try await client.publishAndWait(author.minedEvent(difficulty: 8)).accepted)
            // A lucky note that committed to a lower target is refused all the same.
            let lucky = author.minedEvent(difficulty: 8, target: 4)
            #expect(try await client.refusal(of: lucky)?.hasPrefix("pow:") == true)
        }
    }

    @Test("NIP-62: a request to vanish removes the author's events and gift wraps to them, and refuses them again")
    func requestToVanish() async throws {
        try await SessionRelay.withClient(configure: { $0.info.url = "wss://relay.example.com" }) { relay, client in
            let alice = Author()
            let old = alice.event(content: "old", createdAt: now() - 100)
            let wrap = Author().event(kind: 1059, tags: [["p", alice.pubkey.hex]], createdAt: now() - 100)
            let other = Author().event(content: "someone else")
            for event in [old, wrap, other] { #expect(try await client.publishAndWait(event).accepted) }
            let wrongRelay = alice.event(kind: 62, content: "", tags: [["relay", "wss://other.example.com"]])
            #expect(try await client.publishAndWait(wrongRelay).accepted == false)
            let vanish = alice.event(kind: 62, content: "bye", tags: [["relay", "wss://relay.example.com/"]])
            #expect(try await client.publishAndWait(vanish).accepted)
            #expect(try await relay.relay.store.count([Filter(authors: [alice.pubkey])], now: now()) == 0)
            #expect(try await relay.relay.store.count([Filter(kinds: [1059])], now: now()) == 0)
            #expect(try await client.query("o", #"{"ids":["\#(other.id.hex)"]}"#).count == 1)
            let again = try await client.publishAndWait(old)
            #expect(!again.accepted)
        }
    }

    @Test("NIP-90: a job request whose expiration or expires_at is past is refused with invalid:")
    func expiredJobRequest() async throws {
        try await SessionRelay.withClient { _, client throws in
            let author = Author()
            let expired = author.event(kind: 5100, tags: [["expires_at", String(now() - 5)]])
            #expect(try await client.refusal(of: expired)?.hasPrefix("invalid:") == true)
            let current = author.event(kind: 5100, tags: [["expires_at", String(now() + 600)]])
            #expect(try await client.publishAndWait(current).accepted)
        }
    }

    @Test("banned pubkeys and events, blocked IPs and denied kinds are answered blocked:")
    func blockLists() async throws {
        let banned = Author()
        let bannedEvent = Author().event(content: "banned one")
        try await SessionRelay.withClient(configure: {
            $0.access.bannedPubkeys = [banned.pubkey]
            $0.access.bannedEvents = [bannedEvent.id]
            $0.access.deniedKinds = [4]
        }) { relay, client throws in
            for event in [banned.event(), bannedEvent, Author().event(kind: 4)] {
                #expect(try await client.refusal(of: event)?.hasPrefix("blocked:") == true)
            }
            #expect(try await client.publishAndWait(Author().event()).accepted)
            relay.relay.access.block(ip: "127.0.0.1")
            #expect(try await client.refusal(of: Author().event())?.hasPrefix("blocked:") == true)
            relay.relay.access.unblock(ip: "127.0.0.1")
            #expect(try await client.publishAndWait(Author().event()).accepted)
        }
    }

    @Test("with a kind allowlist only those kinds are accepted")
    func kindAllowlist() async throws {
        try await SessionRelay.withClient(configure: { $0.access.allowedKinds = [1, 7] }) { _, client throws in
            let author = Author()
            #expect(try await client.publishAndWait(author.event(kind: 7)).accepted)
            #expect(try await client.refusal(of: author.event(kind: 30023, tags: [["d", "x"]]))?.hasPrefix("blocked:") == true)
        }
    }

    @Test("EVENT beyond the per-IP rate is answered rate-limited:, REQ beyond its rate CLOSED rate-limited:")
    func rateLimits() async throws {
        try await SessionRelay.withClient(configure: {
            $0.access.rateLimits.eventsPerSecondPerIP = 0.001
            $0.access.rateLimits.requestsPerSecondPerIP = 0.001
            $0.access.rateLimits.burst = 3
        }) { _, client in
            let author = Author()
            for index in 0..<3 { #expect(try await client.publishAndWait(author.event(content: "\(index)")).accepted) }
            let limited = try await client.publishAndWait(author.event(content: "one too many"))
            #expect(!limited.accepted && limited.message.hasPrefix("rate-limited:"))
            for index in 0..<3 { _ = try await client.query("q\(index)", "{}") }
            try await client.request("q4", "{}")
            #expect(try await client.closedReason("q4").hasPrefix("rate-limited:"))
        }
    }
}

@Suite("NIP-90 job lifetime")
struct JobLifetimeTests {
    @Test("job requests older than the configured lifetime are purged; other kinds are not")
    func staleJobRequestsArePurged() async throws {
        try await SessionRelay.withClient(configure: { $0.access.jobRequestLifetime = 60 }) { relay, client in
            let author = Author()
            let stale = author.event(kind: 5100, content: "old job", createdAt: now() - 600)
            let fresh = author.event(kind: 5100, content: "new job", createdAt: now() - 5)
            let note = author.event(kind: 1, content: "old note", createdAt: now() - 600)
            for event in [stale, fresh, note] { #expect(try await client.publishAndWait(event).accepted) }
            try await relay.relay.purgeStaleJobRequests()
            let left = try await client.query("q", #"{"authors":["\#(author.pubkey.hex)"]}"#)
            #expect(Set(left.ids) == [fresh.id.hex, note.id.hex])
        }
    }
}
