/// An event kind, an integer between 0 and 65535 (NIP-01).
///
/// ```swift
/// Kind(30023).category // .addressable
/// ```
public struct Kind: RawRepresentable, Hashable, Comparable, Sendable, ExpressibleByIntegerLiteral,
    CustomStringConvertible
{
    public var rawValue: UInt16

    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ value: UInt16) { self.rawValue = value }
    @inlinable public init(integerLiteral value: UInt16) { self.rawValue = value }

    /// How a relay keeps events of a kind, after NIP-01's kind ranges.
    public enum Category: Sendable, Equatable {
        /// Every event is stored.
        case regular
        /// Only the newest event per (pubkey, kind) is kept.
        case replaceable
        /// Delivered live, never stored.
        case ephemeral
        /// Only the newest event per (pubkey, kind, d tag) is kept.
        case addressable
    }

    /// The NIP-01 category. Kinds NIP-01 leaves unassigned (45..<1000, 40000 and up) are
    /// stored like regular events, which is what a relay operator expects of an unknown kind.
    @inlinable
    public var category: Category {
        let n = rawValue
        if n == 0 || n == 3 || (10000..<20000).contains(n) { return .replaceable }
        if (20000..<30000).contains(n) { return .ephemeral }
        if (30000..<40000).contains(n) { return .addressable }
        return .regular
    }

    @inlinable public var isReplaceable: Bool { category == .replaceable }
    @inlinable public var isEphemeral: Bool { category == .ephemeral }
    @inlinable public var isAddressable: Bool { category == .addressable }

    public var description: String { String(rawValue) }
    @inlinable public static func < (lhs: Kind, rhs: Kind) -> Bool { lhs.rawValue < rhs.rawValue }
}

extension Kind {
    public static let metadata: Kind = 0
    public static let textNote: Kind = 1
    public static let contacts: Kind = 3
    public static let deletion: Kind = 5
    public static let reaction: Kind = 7
    public static let sealedDirectMessage: Kind = 13
    public static let requestToVanish: Kind = 62
    public static let giftWrap: Kind = 1059
    public static let authentication: Kind = 22242
    public static let httpAuth: Kind = 27235
}
