/// One tag of an event: an array of one or more strings, the first being its name.
///
/// ```swift
/// let tag: Tag = ["e", "5c83…6f36", "wss://relay.example.com"]
/// tag.name  // "e"
/// tag.value // "5c83…6f36"
/// ```
public struct Tag: Hashable, Sendable, ExpressibleByArrayLiteral, CustomStringConvertible {
    public var fields: [String]

    public init(_ fields: [String]) { self.fields = fields }
    public init(arrayLiteral elements: String...) { self.fields = elements }

    /// The tag name (first element), or "" for an empty tag.
    @inlinable public var name: String { fields.first ?? "" }
    /// The tag value (second element), if any.
    @inlinable public var value: String? { fields.count > 1 ? fields[1] : nil }

    /// The single ASCII letter of an indexable tag name (NIP-01 indexes single-letter
    /// names a-z, A-Z), or `nil`.
    @inlinable
    public var indexLetter: UInt8? {
        var name = fields.first ?? ""
        return name.withUTF8 { bytes in
            guard bytes.count == 1 else { return nil }
            let byte = bytes[0]
            let isLetter = (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
            return isLetter ? byte : nil
        }
    }

    public var description: String { fields.description }
}

extension Array where Element == Tag {
    /// The value of the first tag named `name`.
    public func firstValue(named name: String) -> String? {
        first { $0.name == name }?.value
    }

    /// The values of every tag named `name`.
    public func values(named name: String) -> [String] {
        compactMap { $0.name == name ? $0.value : nil }
    }
}

extension Event {
    /// The `d` tag value that identifies an addressable event; "" when absent (NIP-01).
    public var dTag: String { tags.firstValue(named: "d") ?? "" }

    /// The NIP-40 expiration time, if the event carries a well-formed `expiration` tag.
    public var expiration: Int64? {
        guard let text = tags.firstValue(named: "expiration") else { return nil }
        return Int64(text)
    }

    /// NIP-70: the event carries the `["-"]` tag and may be published only by its author.
    public var isProtected: Bool { tags.contains { $0.fields.count >= 1 && $0.fields[0] == "-" } }

    /// Ids named by `e` tags (malformed values are skipped).
    public var referencedEventIDs: [EventID] { tags.values(named: "e").compactMap(EventID.init(hex:)) }

    /// Public keys named by `p` tags (malformed values are skipped).
    public var referencedPubkeys: [PublicKey] { tags.values(named: "p").compactMap(PublicKey.init(hex:)) }

    /// Addresses named by `a` tags (malformed values are skipped).
    public var referencedAddresses: [EventAddress] { tags.values(named: "a").compactMap(EventAddress.init) }

    /// The address of this event when it is replaceable or addressable.
    public var address: EventAddress? {
        switch kind.category {
        case .replaceable: EventAddress(kind: kind, pubkey: pubkey, identifier: "")
        case .addressable: EventAddress(kind: kind, pubkey: pubkey, identifier: dTag)
        case .regular, .ephemeral: nil
        }
    }
}

/// The coordinate of a replaceable or addressable event, `<kind>:<pubkey>:<d>` (NIP-01 `a` tag).
public struct EventAddress: Hashable, Sendable, CustomStringConvertible {
    public var kind: Kind
    public var pubkey: PublicKey
    public var identifier: String

    public init(kind: Kind, pubkey: PublicKey, identifier: String) {
        self.kind = kind
        self.pubkey = pubkey
        self.identifier = identifier
    }

    /// Parses `"<kind>:<64 hex pubkey>:<d tag>"`; the identifier may contain colons.
    public init?(_ text: String) {
        let parts = text.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        // Digits only: `UInt16("+1")` would take a sign, which no NIP-01 address carries.
        guard parts.count == 3, parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            let kind = UInt16(parts[0]), let pubkey = PublicKey(hex: String(parts[1]))
        else { return nil }
        self.init(kind: Kind(kind), pubkey: pubkey, identifier: String(parts[2]))
    }

    public var description: String { "\(kind.rawValue):\(pubkey.hex):\(identifier)" }
}
