/// One record in a reconciled set: a timestamp (for Nostr, `created_at`) and an id.
///
/// Items order by timestamp, then lexically by id, as the protocol requires both
/// sides to sort. `UInt64.max` is reserved for the protocol's infinity and may not be
/// used as a timestamp.
///
/// ```swift
/// let item = NegentropyItem(timestamp: 1_700_000_000, id: eventID)
/// let set = try SortedItems([item])
/// ```
public struct NegentropyItem: Hashable, Comparable, Sendable {
    public var timestamp: UInt64
    public var id: NegentropyID

    @inlinable
    public init(timestamp: UInt64, id: NegentropyID) {
        self.timestamp = timestamp
        self.id = id
    }

    @inlinable
    public static func < (lhs: NegentropyItem, rhs: NegentropyItem) -> Bool {
        if lhs.timestamp != rhs.timestamp { return lhs.timestamp < rhs.timestamp }
        return lhs.id < rhs.id
    }
}
