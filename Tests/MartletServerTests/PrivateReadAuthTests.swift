import Foundation
import MartletRelay
import NostrCore
import MartletTestSupport
import Testing

/// NIP-42's flow for reads a relay serves only to some: "A relay may limit access to
/// `kind: 4` DMs to only the parties involved in the chat exchange, and for that it may
/// require authentication before clients can query for that kind."
@Suite("NIP-42 prompts for private reads")
struct PrivateReadAuthTests {
    @Test("NIP-42's example: a REQ for gift wraps is CLOSED auth-required after a challenge; after AUTH the same REQ returns them")
    func requestAfterAuthentication() async throws {
        try await TestRelay.with { relay in
            let bob = Author()
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", bob.pubkey.hex]])
            let publisher = try await relay.connect()
            #expect(try await publisher.publishAndWait(wrap).accepted)

            let client = try await relay.connect()
            try await client.request("sub_1", #"{"kinds":[1059]}"#)
            // "the client must have a stored challenge associated with that relay so it can
            // act upon that in response to the auth-required CLOSED message": AUTH first.
            let challenge = try await client.next()
            #expect(challenge.type == "AUTH")
            let closed = try await client.next()
            #expect(closed.type == "CLOSED" && closed.string(1) == "sub_1")
            #expect(closed.string(2)?.hasPrefix("auth-required:") == true, "\(closed)")

            let answer = try await client.authenticate(
                as: bob, challenge: try #require(challenge.string(1)), relayURL: relay.url)
            #expect(answer.accepted)
            #expect(try await client.query("sub_1", #"{"kinds":[1059]}"#).ids == [wrap.id.hex])
            await publisher.close()
            await client.close()
        }
    }

    @Test("a COUNT of gift wraps is CLOSED auth-required until the recipient authenticates, then counts them")
    func countAfterAuthentication() async throws {
        try await TestRelay.with { relay in
            let bob = Author()
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", bob.pubkey.hex]])
            _ = try await relay.relay.store.save([wrap])
            let client = try await relay.connect()
            try await client.send(##"["COUNT","c",{"kinds":[1059],"#p":["\##(bob.pubkey.hex)"]}]"##)
            let challenge = try await client.challenge()
            let closed = try await client.next()
            #expect(closed.type == "CLOSED" && closed.string(2)?.hasPrefix("auth-required:") == true, "\(closed)")
            #expect(try await client.authenticate(as: bob, challenge: challenge, relayURL: relay.url).accepted)
            try await client.send(##"["COUNT","c",{"kinds":[1059],"#p":["\##(bob.pubkey.hex)"]}]"##)
            let count = try await client.next()
            #expect(count.type == "COUNT" && count.object(2)?["count"] as? Int == 1, "\(count)")
            await client.close()
        }
    }

    @Test("authenticated, but not as a recipient the REQ names: CLOSED restricted:, NIP-42's prefix for a key not allowed")
    func authenticatedAsSomeoneElse() async throws {
        try await TestRelay.with { relay in
            let bob = Author()
            let carol = Author()
            let client = try await relay.connect()
            try await client.request("x", ##"{"kinds":[1059],"#p":["\##(bob.pubkey.hex)"]}"##)
            let challenge = try await client.challenge()
            _ = try await client.next()
            #expect(try await client.authenticate(as: carol, challenge: challenge, relayURL: relay.url).accepted)
            try await client.request("x", ##"{"kinds":[1059],"#p":["\##(bob.pubkey.hex)"]}"##)
            let closed = try await client.next()
            #expect(closed.type == "CLOSED" && closed.string(2)?.hasPrefix("restricted:") == true, "\(closed)")
            // Her own wraps she may ask for.
            #expect(try await client.query("mine", #"{"kinds":[1059]}"#).isEmpty)
            await client.close()
        }
    }

    @Test("a REQ that can also match public kinds is served without AUTH, the private events left out")
    func mixedRequestIsServed() async throws {
        try await TestRelay.with { relay in
            let wrap = Author().event(kind: 1059, content: "sealed", tags: [["p", Author().pubkey.hex]])
            let note = Author().event(content: "public")
            _ = try await relay.relay.store.save([wrap, note])
            let client = try await relay.connect()
            #expect(try await client.query("both", #"{"kinds":[1,1059]}"#).ids == [note.id.hex])
            #expect(try await client.query("two", #"{"kinds":[1059]}"#, #"{"kinds":[1]}"#).ids == [note.id.hex])
            #expect(try await client.silence() == nil, "no AUTH challenge for a request the relay serves")
            await client.close()
        }
    }

    @Test("a NEG-OPEN that can only match gift wraps is answered NEG-ERR auth-required: after the challenge")
    func negentropyAfterChallenge() async throws {
        try await TestRelay.with { relay in
            let client = try await relay.connect()
            // "61" is NIP-77's version byte alone; the read policies refuse before it is read.
            try await client.send(#"["NEG-OPEN","n",{"kinds":[1059]},"61"]"#)
            #expect(try await client.next().type == "AUTH")
            let refused = try await client.next()
            #expect(refused.type == "NEG-ERR" && refused.string(2)?.hasPrefix("auth-required:") == true, "\(refused)")
            await client.close()
        }
    }

    @Test("a kind listed in access.private_kinds prompts for AUTH as gift wraps do")
    func configuredPrivateKind() async throws {
        try await TestRelay.with(configure: { $0.access.privateKinds = [1059, 4] }) { relay in
            let client = try await relay.connect()
            try await client.request("dm", #"{"kinds":[4]}"#)
            #expect(try await client.next().type == "AUTH")
            let closed = try await client.next()
            #expect(closed.type == "CLOSED" && closed.string(2)?.hasPrefix("auth-required:") == true, "\(closed)")
            await client.close()
        }
    }
}
