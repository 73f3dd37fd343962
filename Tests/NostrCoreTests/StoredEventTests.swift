import Foundation
import NostrCore
import Testing

@Suite("stored events, read without decoding")
struct StoredEventTests {
    static let secret = SecretKey(hex: "0000000000000000000000000000000000000000000000000000000000000003")!

    static let events: [Event] = [
        Event.signed(by: secret, kind: 1, createdAt: 1_700_000_000, content: "gm"),
        Event.signed(
            by: secret, kind: 30_023, createdAt: 0,
            tags: [Tag(["d", "article"]), Tag(["p", String(repeating: "ab", count: 32), "wss://r"]), Tag(["-"])],
            content: "line\nbreak \"quoted\" 🤙"),
        Event.signed(by: secret, kind: 65_535, createdAt: EventDecoder.maxTimestamp, tags: [Tag(["t", "é"])], content: ""),
    ]

    @Test("the opening gives the fields, the tags and the whole event decode as stored", arguments: events)
    func canonical(_ event: Event) throws {
        let stored = try StoredEvent(storedJSON: event.json)
        #expect(stored.id == event.id)
        #expect(stored.pubkey == event.pubkey)
        #expect(stored.createdAt == event.createdAt)
        #expect(stored.kind == event.kind)
        #expect(stored.json == event.json)
        #expect(try stored.tags == event.tags)
        let decoded = try stored.decoded()
        #expect(decoded == event)
        #expect(decoded.content == event.content)
    }

    @Test("an event just stored is the event its JSON reads as, without reading the JSON's hex", arguments: events)
    func justStored(_ event: Event) throws {
        let stored = try StoredEvent(stored: event)
        let read = try StoredEvent(storedJSON: event.json)
        #expect(stored == read)
        #expect((stored.id, stored.pubkey, stored.createdAt, stored.kind) == (read.id, read.pubkey, read.createdAt, read.kind))
        #expect(try stored.tags == event.tags)
    }

    @Test("JSON laid out otherwise is decoded whole, to the same fields")
    func otherLayout() throws {
        let event = Self.events[1]
        let reordered = """
            { "kind": \(event.kind.rawValue), "id": "\(event.id.hex)", "pubkey": "\(event.pubkey.hex)",
              "created_at": \(event.createdAt), "tags": [["d","article"],["p","\(String(repeating: "ab", count: 32))","wss://r"],["-"]],
              "content": "line\\nbreak \\"quoted\\" 🤙", "sig": "\(event.sig.hex)" }
            """
        let stored = try StoredEvent(storedJSON: Array(reordered.utf8))
        #expect(stored.id == event.id)
        #expect(stored.kind == event.kind)
        #expect(stored.createdAt == event.createdAt)
        #expect(try stored.tags == event.tags)
        // Whatever the stored layout, what is sent is the canonical form.
        #expect(stored.json == event.json)
    }

    @Test("damaged JSON is refused, and damaged tags cannot be read")
    func damaged() throws {
        let json = Self.events[1].json
        #expect(throws: WireError.self) { try StoredEvent(storedJSON: Array(json.prefix(100))) }
        #expect(throws: WireError.self) { try StoredEvent(storedJSON: Array("[]".utf8)) }
        // The opening is intact, the tags after it are not: only reading them fails.
        let tagsAt = String(decoding: json, as: UTF8.self).range(of: #""tags":"#)!.upperBound.utf16Offset(in: String(decoding: json, as: UTF8.self))
        var broken = json
        broken[tagsAt] = UInt8(ascii: "{")
        let stored = try StoredEvent(storedJSON: broken)
        #expect(stored.kind == 30_023)
        #expect(throws: (any Error).self) { try stored.tags }
    }

    @Test("a leading zero or an out-of-range kind is not the canonical opening")
    func notCanonicalNumbers() throws {
        let event = Self.events[0]
        let text = String(decoding: event.json, as: UTF8.self)
        let padded = text.replacingOccurrences(of: #""kind":1,"#, with: #""kind":01,"#)
        // Not canonical, and not valid JSON either: refused rather than read as kind 1.
        #expect(throws: WireError.self) { try StoredEvent(storedJSON: Array(padded.utf8)) }
        let tooLarge = text.replacingOccurrences(of: #""kind":1,"#, with: #""kind":65536,"#)
        #expect(throws: WireError.self) { try StoredEvent(storedJSON: Array(tooLarge.utf8)) }
    }

    /// What the SQLite store keeps of an event besides its columns, and the event it gives back.
    static func joined(_ event: Event, body: [UInt8], sig: [UInt8]? = nil) throws -> StoredEvent {
        try body.withUnsafeBytes { body in
            try (sig ?? event.sig.bytes).withUnsafeBytes { sig in
                try StoredEvent(
                    id: event.id, pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, body: body, sig: sig)
            }
        }
    }

    @Test("the body is {\"tags\",\"content\"} cut from the JSON, and joined again gives the same bytes", arguments: events)
    func bodyRoundTrip(_ event: Event) throws {
        let body = StoredBody.cut(event)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(body)) as? [String: Any])
        #expect(Set(object.keys) == ["tags", "content"])
        #expect(object["content"] as? String == event.content)
        // The 256 hex digits of id, pubkey and signature, and their keys, are the columns'.
        #expect(event.json.count - body.count > 256 + 30)
        let stored = try Self.joined(event, body: body)
        #expect(stored.json == event.json)
        #expect(try stored.tags == event.tags)
        #expect(try stored.decoded() == event)
    }

    @Test("joined again, any id, key, signature and time are spelled as the event's JSON spells them")
    func joinedSpellings() throws {
        // Random words reach every digit in every place of the three hex fields.
        var generator = SystemRandomNumberGenerator()
        func random() -> Bytes32 {
            Bytes32(w0: generator.next(), w1: generator.next(), w2: generator.next(), w3: generator.next())
        }
        let boundaries: [Bytes32] = [.zero, Bytes32(w0: .max, w1: .max, w2: .max, w3: .max)]
        for index in 0..<500 {
            let event = Event(
                id: EventID(index < 2 ? boundaries[index] : random()), pubkey: PublicKey(random()),
                createdAt: Int64.random(in: 0...EventDecoder.maxTimestamp, using: &generator),
                kind: Kind(UInt16.random(in: 0...UInt16.max, using: &generator)), tags: [Tag(["t", "x"])], content: "c",
                sig: Signature(r: random(), s: index < 2 ? boundaries[index] : random()))
            // Spelled here by `hex` and string interpolation, neither of which the join uses.
            let expected = """
                {"id":"\(event.id.hex)","pubkey":"\(event.pubkey.hex)","created_at":\(event.createdAt),\
                "kind":\(event.kind.rawValue),"tags":[["t","x"]],"content":"c","sig":"\(event.sig.hex)"}
                """
            #expect(event.json == Array(expected.utf8))
            let stored = try Self.joined(event, body: StoredBody.cut(event))
            #expect(stored.json == Array(expected.utf8))
        }
    }

    @Test("an event read from JSON laid out otherwise gives the canonical body")
    func bodyOfOtherLayout() throws {
        let event = Self.events[1]
        let reordered = """
            {"sig":"\(event.sig.hex)","content":"line\\nbreak \\"quoted\\" 🤙","kind":\(event.kind.rawValue),
             "tags":[["d","article"],["p","\(String(repeating: "ab", count: 32))","wss://r"],["-"]],
             "created_at":\(event.createdAt),"pubkey":"\(event.pubkey.hex)","id":"\(event.id.hex)"}
            """
        let read = try EventDecoder.decode(storedJSON: Array(reordered.utf8))
        #expect(read.json != event.json)
        #expect(StoredBody.cut(read) == StoredBody.cut(event))
    }

    @Test("a body that is not one, or a signature that is not 64 bytes, is refused")
    func damagedBody() throws {
        let event = Self.events[0]
        let body = StoredBody.cut(event)
        #expect(throws: WireError.self) { try Self.joined(event, body: event.json) }
        #expect(throws: WireError.self) { try Self.joined(event, body: Array(body.dropLast())) }
        #expect(throws: WireError.self) { try Self.joined(event, body: []) }
        #expect(throws: WireError.self) { try Self.joined(event, body: body, sig: Array(event.sig.bytes.prefix(63))) }
        #expect(throws: WireError.self) { try Self.joined(event, body: body, sig: []) }
    }
}
