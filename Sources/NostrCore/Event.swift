internal import Crypto

/// A Nostr event (NIP-01) with its canonical JSON bytes.
///
/// `json` is the event object in one canonical spelling (fixed key order, no whitespace,
/// minimal escaping). It is computed once, stored once and sent verbatim: a relay frame is
/// `["EVENT","<sub>",` + `json` + `]`, so an event is never encoded twice.
///
/// ```swift
/// let event = try EventDecoder.decode(json: bytes)
/// try event.validate() // id and signature
/// ```
public struct Event: Sendable, Identifiable, CustomStringConvertible {
    public let id: EventID
    public let pubkey: PublicKey
    public let createdAt: Int64
    public let kind: Kind
    public let tags: [Tag]
    public let content: String
    public let sig: Signature
    /// The canonical JSON object.
    public let json: [UInt8]

    /// Builds an event from its fields, computing the canonical JSON (not the id: `id` is
    /// the claimed one and is checked by `validate()`).
    public init(
        id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, tags: [Tag], content: String,
        sig: Signature
    ) {
        self.init(
            id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, tags: tags, content: content, sig: sig,
            canonicalJSON: EventSerializer.json(
                id: id, pubkey: pubkey, createdAt: createdAt, kind: kind, tags: tags, content: content, sig: sig))
    }

    /// An event read back from a store, whose `json` is the canonical JSON `init` computed
    /// when it was accepted: kept as it is rather than serialized again, which cost a REQ
    /// as much as parsing the rows did.
    init(
        id: EventID, pubkey: PublicKey, createdAt: Int64, kind: Kind, tags: [Tag], content: String,
        sig: Signature, canonicalJSON: [UInt8]
    ) {
        self.id = id
        self.pubkey = pubkey
        self.createdAt = createdAt
        self.kind = kind
        self.tags = tags
        self.content = content
        self.sig = sig
        self.json = canonicalJSON
    }

    /// Creates and signs an event with `secret` (the CLI, tests and relay-authored events).
    public static func signed(
        by secret: SecretKey, kind: Kind, createdAt: Int64, tags: [Tag] = [], content: String
    ) -> Event {
        let id = computeID(pubkey: secret.publicKey, createdAt: createdAt, kind: kind, tags: tags, content: content)
        let sig = Schnorr.sign(digest: id.raw, with: secret)
        return Event(
            id: id, pubkey: secret.publicKey, createdAt: createdAt, kind: kind, tags: tags, content: content, sig: sig)
    }

    /// SHA-256 of the NIP-01 serialization `[0,pubkey,created_at,kind,tags,content]`.
    public static func computeID(
        pubkey: PublicKey, createdAt: Int64, kind: Kind, tags: [Tag], content: String
    ) -> EventID {
        let preimage = EventSerializer.idPreimage(
            pubkey: pubkey, createdAt: createdAt, kind: kind, tags: tags, content: content)
        let digest = SHA256.hash(data: preimage)
        return EventID(digest.withUnsafeBytes { Bytes32($0) })
    }

    /// The id this event's fields hash to.
    public func computedID() -> EventID {
        Event.computeID(pubkey: pubkey, createdAt: createdAt, kind: kind, tags: tags, content: content)
    }

    /// Checks the id and then the signature; throws the first failure.
    public func validate() throws(EventValidationError) {
        guard computedID() == id else { throw .idMismatch }
        guard let key = XOnlyKey(pubkey) else { throw .invalidPublicKey }
        guard Schnorr.verify(sig, digest: id.raw, key: key) else { throw .badSignature }
    }

    /// The canonical JSON as a `String` (for logs, tests and the CLI, not the hot path).
    public var jsonString: String { String(decoding: json, as: UTF8.self) }
    public var description: String { jsonString }
}

extension Event: Equatable, Hashable {
    public static func == (lhs: Event, rhs: Event) -> Bool { lhs.id == rhs.id && lhs.json == rhs.json }
    public func hash(into hasher: inout Hasher) { hasher.combine(id) }
}

/// Why an event failed its integrity checks. `message` is the NIP-01 `OK` text; `detail`
/// is that text without its `invalid:` prefix, for a caller that adds the prefix itself.
public enum EventValidationError: Error, Equatable, Sendable, CustomStringConvertible {
    case idMismatch
    case invalidPublicKey
    case badSignature

    public var detail: String {
        switch self {
        case .idMismatch: "event id does not match the hash of the event"
        case .invalidPublicKey: "pubkey is not a valid secp256k1 x-only key"
        case .badSignature: "signature verification failed"
        }
    }

    public var message: String { "invalid: " + detail }

    public var description: String { message }
}
