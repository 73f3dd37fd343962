/// Reads an event object (NIP-01) from JSON bytes.
///
/// Checks shape only: field types, hex spelling, ranges. Whether the id and signature are
/// right is `Event.validate()`'s job, kept apart so a relay can look up duplicates before
/// paying for any cryptography.
///
/// ```swift
/// let event = try EventDecoder.decode(json: Array(text.utf8))
/// ```
public enum EventDecoder {
    /// The largest `created_at` accepted: 2^53 - 1, the largest integer every JSON
    /// reader (JavaScript included) can carry exactly.
    public static let maxTimestamp: Int64 = 9_007_199_254_740_991

    /// Decodes one event object that fills `json` entirely.
    public static func decode(json: [UInt8]) throws(WireError) -> Event {
        try json.withWireBytes { raw throws(WireError) in
            var reader = JSONReader(raw)
            let event = try decode(from: &reader)
            try reader.expectEnd()
            return event
        }
    }

    /// Decodes an event a store gives back: the canonical JSON `Event.json` held when it was
    /// stored, which becomes the decoded event's `json` as it is, not serialized again.
    /// Only for bytes the relay wrote itself; anything else goes through `decode(json:)`.
    public static func decode(storedJSON json: [UInt8]) throws(WireError) -> Event {
        try json.withWireBytes { raw throws(WireError) in
            var reader = JSONReader(raw)
            let event = try decode(from: &reader, canonicalJSON: json)
            try reader.expectEnd()
            return event
        }
    }

    /// Decodes one event object from `reader`'s current position.
    public static func decode(from reader: inout JSONReader) throws(WireError) -> Event {
        try decode(from: &reader, canonicalJSON: nil)
    }

    /// Decodes one event object; its `json` is `canonicalJSON` when given, else computed.
    private static func decode(from reader: inout JSONReader, canonicalJSON: [UInt8]?) throws(WireError) -> Event {
        let start = reader.offset
        try reader.beginObject("event")
        var id: Bytes32?
        var pubkey: Bytes32?
        var createdAt: Int64?
        var kind: Int64?
        var tags: [Tag]?
        var content: String?
        var sig: Signature?
        var index = 0
        while let key = try reader.nextKey(&index) {
            let keyOffset = reader.offset
            func once<T>(_ value: T?) throws(WireError) {
                if value != nil {
                    throw WireError(.duplicateField, "invalid: event has \"\(key)\" twice", at: keyOffset)
                }
            }
            switch key {
            case "id":
                try once(id)
                id = try reader.readHex32("id")
            case "pubkey":
                try once(pubkey)
                pubkey = try reader.readHex32("pubkey")
            case "created_at":
                try once(createdAt)
                createdAt = try reader.readInteger("created_at", in: 0...maxTimestamp)
            case "kind":
                try once(kind)
                kind = try reader.readInteger("kind", in: 0...65535)
            case "tags":
                try once(tags)
                tags = try readTags(&reader)
            case "content":
                try once(content)
                content = try reader.readString("content")
            case "sig":
                try once(sig)
                sig = try readSignature(&reader)
            default:
                // Unknown members are not part of the event; they are dropped, not stored.
                try reader.skipValue()
            }
        }
        func missing(_ name: String) -> WireError {
            WireError(.missingField, "invalid: event has no \"\(name)\"", at: start)
        }
        guard let id else { throw missing("id") }
        guard let pubkey else { throw missing("pubkey") }
        guard let createdAt else { throw missing("created_at") }
        guard let kind else { throw missing("kind") }
        guard let tags else { throw missing("tags") }
        guard let content else { throw missing("content") }
        guard let sig else { throw missing("sig") }
        if let canonicalJSON {
            return Event(
                id: EventID(id), pubkey: PublicKey(pubkey), createdAt: createdAt, kind: Kind(UInt16(kind)),
                tags: tags, content: content, sig: sig, canonicalJSON: canonicalJSON)
        }
        return Event(
            id: EventID(id), pubkey: PublicKey(pubkey), createdAt: createdAt, kind: Kind(UInt16(kind)),
            tags: tags, content: content, sig: sig)
    }

    static func readTags(_ reader: inout JSONReader) throws(WireError) -> [Tag] {
        try reader.beginArray("tags")
        var tags = [Tag]()
        var index = 0
        while try reader.nextElement(&index) {
            let tagStart = reader.offset
            try reader.beginArray("tags[\(index - 1)]")
            var fields = [String]()
            var fieldIndex = 0
            while try reader.nextElement(&fieldIndex) {
                fields.append(try reader.readString("tags[\(index - 1)][\(fieldIndex - 1)]"))
            }
            guard !fields.isEmpty else {
                throw WireError(.invalidValue, "invalid: a tag must hold at least one string", at: tagStart)
            }
            tags.append(Tag(fields))
        }
        return tags
    }

    static func readSignature(_ reader: inout JSONReader) throws(WireError) -> Signature {
        let start = reader.offset
        let text = try reader.readString("sig")
        var utf8 = Array(text.utf8)
        guard utf8.count == 128 else {
            throw WireError(.badHex, "invalid: \"sig\" must be 128 lowercase hex characters", at: start)
        }
        return try utf8.withMutableWireBytes { raw throws(WireError) in
            guard let r = Bytes32(hexBytes: UnsafeRawBufferPointer(rebasing: raw[0..<64])),
                let s = Bytes32(hexBytes: UnsafeRawBufferPointer(rebasing: raw[64..<128]))
            else {
                let hasUpper = raw.contains { (0x41...0x46).contains($0) }
                let why = hasUpper ? "must be lowercase hex" : "must be 128 lowercase hex characters"
                throw WireError(.badHex, "invalid: \"sig\" \(why)", at: start)
            }
            return Signature(r: r, s: s)
        }
    }
}
