import Foundation
import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// NIP-42 authentication, private relays and NIP-70 protected events.
@Suite("NIP-42 AUTH and private relays")
struct AuthTests {
    @Test("NIP-70: a protected event is auth-required until its author authenticates, then accepted")
    func protectedEvent() async throws {
        try await SessionRelay.withClient { relay, client in
            let alice = Author()
            let protected = alice.event(content: "members only", tags: [["-"]])
            try await client.publish(protected)
            // "the client must have a stored challenge" before the auth-required answer.
            let challenge = try await client.challenge()
            let refused = try await client.ok(for: protected.id)
            #expect(!refused.accepted && refused.message.hasPrefix("auth-required:"))
            #expect(try await client.authenticate(as: alice, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await client.publishAndWait(protected).accepted)
        }
    }

    @Test("NIP-70: a protected event authenticated as someone else is answered restricted:")
    func protectedEventOtherAuthor() async throws {
        try await SessionRelay.withClient { relay, client in
            let alice = Author()
            let bob = Author()
            let protected = alice.event(tags: [["-"]])
            try await client.publish(protected)
            let challenge = try await client.challenge()
            _ = try await client.ok(for: protected.id)
            #expect(try await client.authenticate(as: bob, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await client.refusal(of: protected)?.hasPrefix("restricted:") == true)
        }
    }

    @Test("AUTH with a wrong challenge, relay tag, kind or stale created_at is answered OK false")
    func badAuthEvents() async throws {
        try await SessionRelay.withClient(configure: { $0.access.mode = .privateRelay }) { relay, client in
            let challenge = try await client.challenge()
            let alice = Author()
            let wrongChallenge = alice.authEvent(challenge: "nope", relayURL: relay.url)
            let wrongRelay = alice.authEvent(challenge: challenge, relayURL: "wss://elsewhere.example.com")
            let stale = alice.authEvent(challenge: challenge, relayURL: relay.url, createdAt: now() - 3600)
            let wrongKind = alice.event(kind: 1, tags: [["relay", relay.url], ["challenge", challenge]])
            for event in [wrongChallenge, wrongRelay, stale, wrongKind] {
                try await client.send(#"["AUTH","# + event.jsonString + "]")
                let answer = try await client.ok(for: event.id)
                #expect(!answer.accepted && answer.message.hasPrefix("invalid:"), "\(answer.message)")
            }
        }
    }

    @Test("a private relay sends AUTH on connect and refuses REQ and EVENT until an allowed pubkey authenticates")
    func privateRelay() async throws {
        let member = Author()
        try await SessionRelay.withClient(configure: {
            $0.access.mode = .privateRelay
            $0.access.allowedPubkeys = [member.pubkey]
        }) { relay, client in
            let challenge = try await client.challenge()
            try await client.request("s", "{}")
            #expect(try await client.closedReason("s").hasPrefix("auth-required:"))
            let note = member.event()
            let refused = try await client.publishAndWait(note)
            #expect(!refused.accepted && refused.message.hasPrefix("auth-required:"))
            try await client.send(#"["COUNT","c",{}]"#)
            #expect(try await client.next().string(2)?.hasPrefix("auth-required:") == true)

            // A stranger authenticates: still refused, now with restricted:.
            let stranger = Author()
            #expect(try await client.authenticate(as: stranger, challenge: challenge, relayURL: relay.url).accepted)
            try await client.request("s2", "{}")
            #expect(try await client.next().string(2)?.hasPrefix("restricted:") == true)

            // NIP-42: "Relays MUST treat all pubkeys as authenticated": the member joins in.
            #expect(try await client.authenticate(as: member, challenge: challenge, relayURL: relay.url).accepted)
            #expect(try await client.publishAndWait(note).accepted)
            #expect(try await client.query("s3", "{}").ids == [note.id.hex])
        }
    }

    @Test("allowlist-writes mode: allowlisted authors write, others are refused, everyone reads")
    func allowlistWrites() async throws {
        let member = Author()
        try await SessionRelay.withClient(configure: {
            $0.access.mode = .allowlistWrites
            $0.access.allowedPubkeys = [member.pubkey]
        }) { _, client throws in
            let accepted = member.event()
            #expect(try await client.publishAndWait(accepted).accepted)
            #expect(try await client.refusal(of: Author().event())?.hasPrefix("restricted:") == true)
            #expect(try await client.query("s", "{}").ids == [accepted.id.hex])
        }
    }
}
