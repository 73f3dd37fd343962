import Foundation
import NostrCore
import Testing

/// One signed event of a fixture file, with the fields both generators write: the
/// coincurve-signed `vectors.json` (`generate_vectors.py`) and nostr-sdk's
/// `c0_vectors.json` (`generate_c0_vectors.py`).
struct FixtureEvent: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let pubkey: String
    let createdAt: Int64
    let kind: UInt16
    let tags: [[String]]
    let content: String
    /// `[0,pubkey,created_at,kind,tags,content]` as hex, built by the generator and checked to
    /// hash to the signer's id.
    let preimageHex: String
    let id: String
    let sig: String
    /// The canonical event JSON, as the signer wrote it.
    let json: String

    enum CodingKeys: String, CodingKey {
        case name, pubkey, kind, tags, content, id, sig, json
        case createdAt = "created_at"
        case preimageHex = "preimage_hex"
    }

    var testDescription: String { name }
    var jsonBytes: [UInt8] { Array(json.utf8) }
    var eventMessage: [UInt8] { Array(#"["EVENT","#.utf8) + jsonBytes + Array("]".utf8) }
    var preimage: [UInt8] { Hex.decode(preimageHex)! }
}

/// One event of `Fixtures/vectors.json`, signed by coincurve (see `generate_vectors.py`): a
/// `FixtureEvent` with its secret key and a second spelling.
@dynamicMemberLookup
struct Vector: Decodable, Sendable, CustomTestStringConvertible {
    let event: FixtureEvent
    let secret: String
    /// The same event spelled differently: sorted keys, indentation, `\u` escapes only.
    let jsonASCII: String

    private enum CodingKeys: String, CodingKey {
        case secret
        case jsonASCII = "json_ascii"
    }

    init(from decoder: any Decoder) throws {
        event = try FixtureEvent(from: decoder)
        let container = try decoder.container(keyedBy: CodingKeys.self)
        secret = try container.decode(String.self, forKey: .secret)
        jsonASCII = try container.decode(String.self, forKey: .jsonASCII)
    }

    subscript<Value>(dynamicMember keyPath: KeyPath<FixtureEvent, Value>) -> Value { event[keyPath: keyPath] }
    var testDescription: String { event.name }
}

enum Fixture {
    private struct File: Decodable {
        let vectors: [Vector]
    }

    static let vectors: [Vector] = load(File.self, "vectors.json").vectors

    /// Reads `Fixtures/<name>` found next to this source file: `#filePath` works the same under
    /// `swift test` in the package and in any wrapper package that points at this directory.
    static func load<File: Decodable>(_ type: File.Type, _ name: String) -> File {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/\(name)")
        do {
            return try JSONDecoder().decode(type, from: Data(contentsOf: url))
        } catch {
            fatalError("cannot read \(url.path): \(error)")
        }
    }

    static func vector(_ name: String) -> Vector {
        guard let vector = vectors.first(where: { $0.name == name }) else { fatalError("no vector named \(name)") }
        return vector
    }

    /// "plain text note", the event most malformed-input tests start from.
    static var plain: Vector { vector("plain text note") }
}

/// The members of a valid event object, in wire order, for building broken ones.
struct EventMembers {
    var members: [(key: String, value: String)]

    init(_ vector: Vector = Fixture.plain) {
        members = [
            ("id", "\"\(vector.id)\""),
            ("pubkey", "\"\(vector.pubkey)\""),
            ("created_at", String(vector.createdAt)),
            ("kind", String(vector.kind)),
            ("tags", "[]"),
            ("content", "\"hello nostr\""),
            ("sig", "\"\(vector.sig)\""),
        ]
        precondition(vector.tags.isEmpty && vector.content == "hello nostr", "EventMembers expects the plain vector")
    }

    func replacing(_ key: String, with value: String) -> EventMembers {
        var copy = self
        copy.members = members.map { $0.key == key ? ($0.key, value) : $0 }
        return copy
    }

    func removing(_ key: String) -> EventMembers {
        var copy = self
        copy.members.removeAll { $0.key == key }
        return copy
    }

    func adding(_ key: String, _ value: String) -> EventMembers {
        var copy = self
        copy.members.append((key, value))
        return copy
    }

    var object: String { "{" + members.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",") + "}" }
    var eventMessage: String { #"["EVENT","# + object + "]" }
}

/// Expects `input` to be refused by `ClientMessage.decode` with exactly this code and reason.
func expectRefused(
    _ input: [UInt8], _ code: WireError.Code, _ reason: String, maxLength: Int = ClientMessage.defaultMaxLength,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    do {
        let message = try ClientMessage.decode(input, maxLength: maxLength)
        Issue.record("accepted \(message)", sourceLocation: sourceLocation)
    } catch {
        #expect(error.code == code, "\(error)", sourceLocation: sourceLocation)
        #expect(error.reason == reason, sourceLocation: sourceLocation)
    }
}

func expectRefused(
    _ text: String, _ code: WireError.Code, _ reason: String, maxLength: Int = ClientMessage.defaultMaxLength,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectRefused(Array(text.utf8), code, reason, maxLength: maxLength, sourceLocation: sourceLocation)
}

/// Decodes a message the test expects to be valid.
func decode(_ text: String) throws -> ClientMessage {
    try ClientMessage.decode(Array(text.utf8))
}

func hex64(_ seed: String) -> String {
    let digits = Array("0123456789abcdef")
    var state = UInt64(truncatingIfNeeded: seed.utf8.reduce(5381) { ($0 << 5) &+ $0 &+ Int($1) })
    return String((0..<64).map { _ in
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return digits[Int(state >> 60)]
    })
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
