import Foundation
import NostrCore
import Testing

/// Events with control characters signed by rust-nostr's nostr-sdk (`Fixtures/generate_c0_vectors.py`):
/// the ids real clients compute, which Martlet must compute too or refuse their events as forged.
@Suite("control characters in events signed by nostr-sdk")
struct ClientSignedControlTests {
    @Test("the fixture is nostr-sdk's and has every C0 character 0x00-0x1f and DEL, in content and in tags")
    func fixtureCoverage() {
        #expect(ClientVectors.generator.hasPrefix("nostr-sdk "))
        let contents = ClientVectors.all.map(\.content).joined().unicodeScalars
        let tagFields = ClientVectors.all.flatMap { $0.tags.joined() }.joined().unicodeScalars
        for code in Array(0x00...0x1F) + [0x7F] {
            let scalar = Unicode.Scalar(UInt8(code))
            #expect(contents.contains(scalar), "content lacks \(code)")
            #expect(tagFields.contains(scalar), "tags lack \(code)")
        }
    }

    @Test("event.id is the sha256 of the serialization nostr-sdk hashed, \\u00XX for the other controls",
          arguments: ClientVectors.all)
    func idMatchesClient(_ vector: FixtureEvent) throws {
        let event = try EventDecoder.decode(json: vector.jsonBytes)
        #expect(event.content.utf8.elementsEqual(vector.content.utf8))
        #expect(event.tags.map(\.fields) == vector.tags)
        let preimage = EventSerializer.idPreimage(
            pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags,
            content: event.content)
        #expect(preimage == vector.preimage)
        #expect(event.computedID().hex == vector.id)
    }

    @Test("the event is accepted: id and nostr-sdk's signature verify", arguments: ClientVectors.all)
    func validates(_ vector: FixtureEvent) throws {
        let event = try EventDecoder.decode(json: vector.jsonBytes)
        #expect(throws: Never.self) { try event.validate() }
    }

    @Test("nostr-sdk's JSON is the canonical spelling: decode and encode give the same bytes",
          arguments: ClientVectors.all)
    func byteExact(_ vector: FixtureEvent) throws {
        #expect(try EventDecoder.decode(json: vector.jsonBytes).json == vector.jsonBytes)
    }

    @Test("an event Martlet signs with controls gets the id nostr-sdk computes for the same fields")
    func signingAgrees() throws {
        let secret = try #require(SecretKey(hex: String(repeating: "01", count: 32)))
        let content = "c0: \u{01} \u{02} end"
        let event = Event.signed(by: secret, kind: Kind(1), createdAt: 1, content: content)
        let expected = #"[0,"\#(secret.publicKey.hex)",1,1,[],"c0: \u0001 \u0002 end"]"#
        #expect(EventSerializer.idPreimage(
            pubkey: event.pubkey, createdAt: 1, kind: Kind(1), tags: [], content: content) == Array(expected.utf8))
        #expect(event.jsonString.contains(#""content":"c0: \u0001 \u0002 end""#))
    }
}

/// The events of `Fixtures/c0_vectors.json`, signed by nostr-sdk, whose `json` is its
/// `as_json()`.
enum ClientVectors {
    private struct File: Decodable {
        let generator: String
        let vectors: [FixtureEvent]
    }

    private static let file = Fixture.load(File.self, "c0_vectors.json")

    static var all: [FixtureEvent] { file.vectors }
    static var generator: String { file.generator }
}
