public import NostrCore

/// What a reader may be served, applied inside the query before its `LIMIT`.
///
/// An event of one of `privateKinds` (NIP-59 gift wraps by default) is served only when one
/// of its `p` tags names one of `readers`, the pubkeys the connection authenticated as
/// (NIP-42). Checking this after the store's `LIMIT` instead would let hidden events take
/// the places of visible ones: an anonymous `{"#p":[victim],"limit":3}` would get fewer
/// events than match, which tells that gift wraps to the victim exist, and when.
///
/// ```swift
/// let visibility = ReadVisibility(privateKinds: [Kind(1059)], readers: [reader])
/// let events = try await store.query([filter], maxLimit: 500, now: now, visibility: visibility, timeout: nil)
/// ```
public struct ReadVisibility: Sendable, Hashable {
    public var privateKinds: Set<Kind>
    public var readers: Set<PublicKey>

    public init(privateKinds: Set<Kind>, readers: Set<PublicKey>) {
        self.privateKinds = privateKinds
        self.readers = readers
    }

    /// Every stored event may be served.
    public static let everything = ReadVisibility(privateKinds: [], readers: [])

    /// Both rules at once: a kind private to either is private, and only a reader both
    /// allow is a reader (at worst stricter than each alone, never looser).
    public func intersection(_ other: ReadVisibility) -> ReadVisibility {
        if privateKinds.isEmpty { return other }
        if other.privateKinds.isEmpty { return self }
        return ReadVisibility(
            privateKinds: privateKinds.union(other.privateKinds), readers: readers.intersection(other.readers))
    }

    /// The private kinds `filter` may match, in ascending order; empty when the rule cannot
    /// hide anything from it.
    func privateKinds(in filter: Filter) -> [Kind] {
        guard !privateKinds.isEmpty else { return [] }
        return (filter.kinds.map { $0.intersection(privateKinds) } ?? privateKinds).sorted()
    }
}
