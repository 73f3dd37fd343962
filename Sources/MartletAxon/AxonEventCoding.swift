public import NostrCore

/// A NIP-01 event as an axon map: the same fields, with the id, pubkey and signature as
/// their raw bytes instead of hex.
///
/// `{id: bin 32, pubkey: bin 32, created_at: int, kind: uint16, tags: [[str]], content: str,
/// sig: bin 64}`. The id is NIP-01's (SHA-256 of the canonical JSON serialization) and the
/// signature BIP-340's, so an event keeps its id whichever protocol carries it.
public enum AxonEventCoding {
    /// The event as a MessagePack map, keys in a fixed order.
    public static func encode(_ event: Event) -> [UInt8] {
        var writer = MessagePackWriter(capacity: event.content.utf8.count + 200)
        encode(event, into: &writer)
        return writer.bytes
    }

    public static func encode(_ event: Event, into writer: inout MessagePackWriter) {
        writer.writeMapHeader(7)
        writer.write(string: "id")
        writer.write(binary: event.id.raw.bytes)
        writer.write(string: "pubkey")
        writer.write(binary: event.pubkey.raw.bytes)
        writer.write(string: "created_at")
        writer.write(signed: event.createdAt)
        writer.write(string: "kind")
        writer.write(unsigned: UInt64(event.kind.rawValue))
        writer.write(string: "tags")
        writer.writeArrayHeader(event.tags.count)
        for tag in event.tags {
            writer.writeArrayHeader(tag.fields.count)
            for field in tag.fields { writer.write(string: field) }
        }
        writer.write(string: "content")
        writer.write(string: event.content)
        writer.write(string: "sig")
        writer.write(binary: event.sig.bytes)
    }

    /// Reads an event map; the id and signature are not checked here (the pipeline does).
    public static func decode(_ value: MessagePackValue) throws(AxonDecodingError) -> Event {
        let fields = try Fields(value, "event")
        let id = try fields.bytes32("id")
        let pubkey = try fields.bytes32("pubkey")
        let createdAt = try fields.integer("created_at")
        let kind = try fields.integer("kind")
        guard let kindValue = UInt16(exactly: kind) else { throw AxonDecodingError("event.kind must be 0...65535") }
        let tagValues = try fields.array("tags")
        var tags: [Tag] = []
        tags.reserveCapacity(tagValues.count)
        for tagValue in tagValues {
            guard case .array(let items) = tagValue else { throw AxonDecodingError("each event tag must be an array") }
            var strings: [String] = []
            strings.reserveCapacity(items.count)
            for item in items {
                guard case .string(let text) = item else { throw AxonDecodingError("tag values must be strings") }
                strings.append(text)
            }
            tags.append(Tag(strings))
        }
        let content = try fields.string("content")
        guard let sig = Signature(bytes: try fields.binary("sig")) else {
            throw AxonDecodingError("event.sig must be 64 bytes")
        }
        try fields.rejectUnknown(["id", "pubkey", "created_at", "kind", "tags", "content", "sig"])
        return Event(
            id: EventID(id), pubkey: PublicKey(pubkey), createdAt: createdAt, kind: Kind(kindValue), tags: tags,
            content: content, sig: sig)
    }
}

/// Why a well-formed MessagePack value is not the axon message it claims to be (answered 400).
public struct AxonDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var detail: String
    public init(_ detail: String) { self.detail = detail }
    public var description: String { detail }
}

/// A payload map read field by field, each with the type the spec gives it.
struct Fields {
    let values: [String: MessagePackValue]
    let name: String

    init(_ value: MessagePackValue, _ name: String) throws(AxonDecodingError) {
        guard case .map(let values) = value else { throw AxonDecodingError("\(name) must be a map") }
        self.values = values
        self.name = name
    }

    private func required(_ key: String) throws(AxonDecodingError) -> MessagePackValue {
        guard let value = values[key] else { throw AxonDecodingError("\(name).\(key) is missing") }
        return value
    }

    private func wrongType(_ key: String, _ expected: String, _ value: MessagePackValue) -> AxonDecodingError {
        AxonDecodingError("\(name).\(key) must be \(expected), not \(value.typeName)")
    }

    func has(_ key: String) -> Bool { values[key] != nil }

    func integer(_ key: String) throws(AxonDecodingError) -> Int64 {
        let value = try required(key)
        guard case .int(let number) = value else { throw wrongType(key, "an integer", value) }
        return number
    }

    func string(_ key: String) throws(AxonDecodingError) -> String {
        let value = try required(key)
        guard case .string(let text) = value else { throw wrongType(key, "a string", value) }
        return text
    }

    func binary(_ key: String) throws(AxonDecodingError) -> [UInt8] {
        let value = try required(key)
        guard case .binary(let data) = value else { throw wrongType(key, "binary", value) }
        return data
    }

    func bytes32(_ key: String) throws(AxonDecodingError) -> Bytes32 {
        guard let raw = Bytes32(bytes: try binary(key)) else { throw AxonDecodingError("\(name).\(key) must be 32 bytes") }
        return raw
    }

    func array(_ key: String) throws(AxonDecodingError) -> [MessagePackValue] {
        let value = try required(key)
        guard case .array(let elements) = value else { throw wrongType(key, "an array", value) }
        return elements
    }

    func value(_ key: String) throws(AxonDecodingError) -> MessagePackValue {
        try required(key)
    }

    /// A field the spec does not define is refused: a misspelt key must not pass silently.
    func rejectUnknown(_ known: Set<String>) throws(AxonDecodingError) {
        if let unknown = values.keys.first(where: { !known.contains($0) }) {
            throw AxonDecodingError("\(name) has an unknown field \"\(unknown.prefix(32))\"")
        }
    }
}
