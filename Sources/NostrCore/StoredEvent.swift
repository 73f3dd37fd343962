/// The fields of an event a relay decides on before sending it: who wrote it, when, what
/// kind, and (when a rule needs them) its tags. An `Event` has them all decoded; a
/// `StoredEvent` reads its tags only when asked.
///
/// ```swift
/// func isGiftWrap(_ event: some EventFields) -> Bool { event.kind == 1059 }
/// ```
public protocol EventFields: Sendable {
    var id: EventID { get }
    var pubkey: PublicKey { get }
    var createdAt: Int64 { get }
    var kind: Kind { get }
    /// The tags. For a stored event they are decoded from its JSON on each use, which can
    /// fail only if the store's bytes are damaged; a rule then keeps the event back.
    var tags: [Tag] { get throws }
    /// The canonical JSON object, as sent in an EVENT message.
    var json: [UInt8] { get }
}

extension Event: EventFields {}

/// An event as a store gives it back: the canonical JSON the relay stored when it accepted
/// the event, and the fields read from that JSON's fixed opening
/// (`{"id":…,"pubkey":…,"created_at":…,"kind":…,"tags":`) without decoding the rest.
///
/// A REQ sends stored events as they are. Decoding each into an `Event` (every tag and the
/// content as Swift strings, the signature), only to send its bytes unchanged, was 38% of
/// the relay's CPU in the query benchmark; `decoded()` does it when the whole event is
/// needed.
///
/// ```swift
/// let stored = try StoredEvent(storedJSON: json)
/// outbox.send(event: stored.json, after: prefix)
/// let event = try stored.decoded()           // when tags and content are needed
/// ```
public struct StoredEvent: EventFields, Equatable {
    public let id: EventID
    public let pubkey: PublicKey
    public let createdAt: Int64
    public let kind: Kind
    public let json: [UInt8]
    /// Where the tags array starts in `json`.
    private let tagsOffset: Int

    /// Reads the opening of JSON the relay stored (`Event.json`). Only for bytes the relay
    /// wrote itself: the rest is trusted to be the canonical event it was. JSON laid out
    /// otherwise is decoded whole, must then be a well-formed event, and is kept in its
    /// canonical form.
    public init(storedJSON json: [UInt8]) throws(WireError) {
        if let opening = json.withUnsafeBytes(CanonicalOpening.init) {
            self.init(opening: opening, json: json)
        } else {
            self.init(try EventDecoder.decode(json: json))
        }
    }

    /// An event already decoded, to be handled as stored ones are (one found elsewhere).
    public init(_ event: Event) {
        id = event.id
        pubkey = event.pubkey
        createdAt = event.createdAt
        kind = event.kind
        json = event.json
        tagsOffset = -1
        decodedTags = event.tags
    }

    private init(opening: CanonicalOpening, json: [UInt8]) {
        self.init(
            id: EventID(opening.id), pubkey: PublicKey(opening.pubkey), createdAt: opening.createdAt,
            kind: Kind(UInt16(opening.kind)), json: json, tagsOffset: opening.tagsOffset)
    }

    init(id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, json: [UInt8], tagsOffset: Int) {
        self.id = id
        self.pubkey = pubkey
        self.createdAt = createdAt
        self.kind = kind
        self.json = json
        self.tagsOffset = tagsOffset
        decodedTags = nil
    }

    /// The tags of an event made from a decoded one; nil for one read from a store.
    private let decodedTags: [Tag]?

    public var tags: [Tag] {
        get throws {
            if let decodedTags { return decodedTags }
            let offset = tagsOffset
            return try json.withWireBytes { raw throws(WireError) in
                var reader = JSONReader(raw)
                reader.position = offset
                return try EventDecoder.readTags(&reader)
            }
        }
    }

    /// The whole event, decoded from `json` (which it keeps as its own `json`).
    public func decoded() throws(WireError) -> Event {
        try EventDecoder.decode(storedJSON: json)
    }

    public static func == (lhs: StoredEvent, rhs: StoredEvent) -> Bool { lhs.id == rhs.id && lhs.json == rhs.json }
}

/// The fixed opening of the canonical JSON `EventSerializer.json` writes, read byte by byte.
private struct CanonicalOpening {
    var id: Bytes32
    var pubkey: Bytes32
    var createdAt: Int64
    var kind: Int64
    var tagsOffset: Int

    /// Nil when `raw` does not open as `EventSerializer.json` writes an event.
    init?(_ raw: UnsafeRawBufferPointer) {
        var cursor = Cursor(raw: raw)
        guard cursor.expect(#"{"id":""#), let id = cursor.hex32(),
            cursor.expect(#"","pubkey":""#), let pubkey = cursor.hex32(),
            cursor.expect(#"","created_at":"#), let createdAt = cursor.integer(upTo: EventDecoder.maxTimestamp),
            cursor.expect(#","kind":"#), let kind = cursor.integer(upTo: 65_535),
            cursor.expect(#","tags":"#)
        else { return nil }
        self.id = id
        self.pubkey = pubkey
        self.createdAt = createdAt
        self.kind = kind
        tagsOffset = cursor.position
    }

    private struct Cursor {
        let raw: UnsafeRawBufferPointer
        var position = 0

        mutating func expect(_ literal: StaticString) -> Bool {
            let count = literal.utf8CodeUnitCount
            guard position + count <= raw.count else { return false }
            for index in 0..<count where raw[position + index] != literal.utf8Start[index] { return false }
            position += count
            return true
        }

        mutating func hex32() -> Bytes32? {
            guard position + 64 <= raw.count,
                let value = Bytes32(hexBytes: UnsafeRawBufferPointer(rebasing: raw[position..<position + 64]))
            else { return nil }
            position += 64
            return value
        }

        /// Decimal digits, as canonical JSON writes an integer: no sign, no leading zero.
        mutating func integer(upTo maximum: Int64) -> Int64? {
            let start = position
            var value: Int64 = 0
            while position < raw.count, (0x30...0x39).contains(raw[position]) {
                value = value &* 10 &+ Int64(raw[position] &- 0x30)
                position += 1
                guard position - start <= 16, value <= maximum else { return nil }
            }
            guard position > start, raw[start] != 0x30 || position == start + 1 else { return nil }
            return value
        }
    }
}
