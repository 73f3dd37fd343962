import MartletAxon
import MartletTestSupport
import NostrCore
import Testing

/// The axon messages of docs/axon.md: an event keeps its NIP-01 id across the two encodings,
/// and every malformed payload is a 400 with a reason.
@Suite("axon messages")
struct AxonMessageTests {
    static let author = Author()

    @Test("an event survives the binary form with its NIP-01 id and BIP-340 signature")
    func eventRoundTrip() throws {
        let event = Self.author.event(
            kind: 5001, content: "é\u{0}😀", tags: [["expires_at", "1700000000"], ["e", String(repeating: "a", count: 64), ""]])
        let value = try MessagePackReader.decode(AxonEventCoding.encode(event))
        let decoded = try AxonEventCoding.decode(value)
        #expect(decoded == event)
        #expect(decoded.id == decoded.computedID())
        try decoded.validate()
        // Binary fields: 32 bytes of id and pubkey, 64 of signature, not hex.
        #expect(value.map?["id"]?.binary?.count == 32)
        #expect(value.map?["sig"]?.binary?.count == 64)
    }

    @Test("client messages decode to what they encode")
    func clientRoundTrip() throws {
        let event = Self.author.event()
        let key = try AxonAuthentication.publicKey(of: [UInt8](repeating: 9, count: 32))
        var filter = Filter(kinds: [1, 3000], since: 5, limit: 10)
        filter.tags[UInt8(ascii: "t")] = ["axon"]
        let messages: [AxonClientMessage] = [
            .auth(key, signature: [UInt8](repeating: 1, count: 64)),
            .publish(event),
            .subscribe("s", [AxonFilter(filter: filter), AxonFilter(filter: Filter(), idPrefixes: [[0xab]])]),
            .unsubscribe("s"),
        ]
        for message in messages {
            #expect(try AxonClientMessage.decode(message.encoded()) == message)
        }
    }

    @Test("relay messages decode to what they encode")
    func relayRoundTrip() throws {
        let event = Self.author.event()
        let messages: [AxonRelayMessage] = [
            .challenge(nonce: [UInt8](repeating: 3, count: 32)), .ok(nil), .ok(event.id),
            .error(.duplicate, "duplicate: already have this event", id: event.id), .error(.unauthenticated, "no", sub: "s"),
            .event(sub: "s", encodedEvent: AxonEventCoding.encode(event)), .endOfStored(sub: "s"),
        ]
        for message in messages {
            #expect(try AxonRelayMessage.decode(message.encoded()) == message)
        }
    }

    static func frame(_ type: Int64, _ payload: MessagePackValue) -> [UInt8] {
        var writer = MessagePackWriter()
        writer.write(.array([.int(type), payload]))
        return writer.bytes
    }

    @Test("a wrong type for a field, a missing or unknown field, an unknown message type: each a reason")
    func malformedPayloads() {
        let cases: [([UInt8], String)] = [
            (Self.frame(0x0002, .map(["event": .string("x")])), "event must be a map"),
            (Self.frame(0x0001, .map(["pubkey": .string("k"), "sig": .binary([])])), "auth.pubkey must be binary, not string"),
            (Self.frame(0x0001, .map(["pubkey": .binary([1])])), "auth.pubkey must be 32 bytes"),
            (Self.frame(0x0003, .map(["sub": .string("s"), "filters": .array([.map(["ids": .array([.string("ab")])])])])),
                "binary values of 1 to 32 bytes"),
            (Self.frame(0x0003, .map(["sub": .string("s"), "filters": .array([.map(["bogus": .int(1)])])])), "unknown field"),
            (Self.frame(0x0004, .map([:])), "unsubscribe.sub is missing"),
            (Self.frame(0x7777, .map([:])), "unknown client message type 30583"),
            (Self.frame(0x0104, .map([:])), "unknown client message type 260"),
            (Self.frame(70_000, .map([:])), "msg_type must be an unsigned 16-bit integer"),
            ([0x92, 0x01], "malformed MessagePack"),
            ([0x91, 0x01], "[msg_type, payload]"),
        ]
        for (frame, reason) in cases {
            #expect {
                try AxonClientMessage.decode(frame)
            } throws: { error in
                (error as? AxonDecodingError)?.detail.contains(reason) == true
            }
        }
    }

    @Test("a prefix filter matches ids and authors by their first bytes")
    func prefixes() throws {
        let event = Self.author.event()
        let idBytes = event.id.raw.bytes
        let matching = AxonFilter(filter: Filter(), idPrefixes: [Array(idBytes.prefix(2))])
        let other = AxonFilter(filter: Filter(), idPrefixes: [[idBytes[0] ^ 0xff]])
        let author = AxonFilter(filter: Filter(), authorPrefixes: [Array(event.pubkey.raw.bytes.prefix(5))])
        #expect(matching.matches(event))
        #expect(!other.matches(event))
        #expect(author.matches(event))
        // Full-length values are a plain filter, for the stores' indexes.
        var writer = MessagePackWriter()
        writer.write(.map(["ids": .array([.binary(idBytes)])]))
        let full = try AxonFilter.decode(try MessagePackReader.decode(writer.bytes))
        #expect(full.filter.ids == [event.id])
        #expect(!full.hasPrefixes)
    }

    @Test("the auth signature is over SHA256(nonce || relay_url) and nothing else verifies")
    func authSignature() throws {
        let secret = [UInt8](repeating: 42, count: 32)
        let key = try AxonAuthentication.publicKey(of: secret)
        let nonce = [UInt8](repeating: 5, count: 32)
        let signature = try AxonAuthentication.sign(nonce: nonce, relayURL: "ws://127.0.0.1:7777", privateKey: secret)
        #expect(AxonAuthentication.verify(signature, by: key, nonce: nonce, relayURLs: ["ws://x", "ws://127.0.0.1:7777"]))
        #expect(!AxonAuthentication.verify(signature, by: key, nonce: [UInt8](repeating: 6, count: 32), relayURLs: ["ws://127.0.0.1:7777"]))
        #expect(!AxonAuthentication.verify(signature, by: key, nonce: nonce, relayURLs: ["ws://127.0.0.1:7778"]))
        let other = try AxonAuthentication.publicKey(of: [UInt8](repeating: 43, count: 32))
        #expect(!AxonAuthentication.verify(signature, by: other, nonce: nonce, relayURLs: ["ws://127.0.0.1:7777"]))
    }
}
