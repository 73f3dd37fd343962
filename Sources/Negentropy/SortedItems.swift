/// The in-memory `NegentropyStorage`: one flat array of items, sorted and deduplicated
/// once at construction.
///
/// Items are 40-byte values, so a million of them are one 40 MB allocation with no
/// per-item objects; fingerprints sum ids straight out of the array's buffer.
///
/// ```swift
/// let items = try SortedItems(events.map { NegentropyItem(timestamp: $0.createdAt, id: $0.id) })
/// let responder = try NegentropyResponder(storage: items)
/// ```
public struct SortedItems: NegentropyStorage, Sendable {
    private let items: [NegentropyItem]

    /// Sorts `items` by timestamp then id and drops exact duplicates. Throws
    /// `.reservedTimestamp` if an item uses `UInt64.max`, which the protocol keeps for
    /// infinity (a hostile `created_at` could otherwise corrupt a sync).
    public init(_ items: some Sequence<NegentropyItem>) throws(NegentropyError) {
        var sorted = Array(items)
        if let index = sorted.firstIndex(where: { $0.timestamp == .max }) {
            throw .reservedTimestamp(index: index)
        }
        sorted.sort()
        var unique = [NegentropyItem]()
        unique.reserveCapacity(sorted.count)
        for item in sorted where unique.last != item {
            unique.append(item)
        }
        self.items = unique
    }

    public var count: Int { items.count }

    public func item(at index: Int) -> NegentropyItem { items[index] }

    /// The items in order, for callers that want them all (tests, exports).
    public var all: [NegentropyItem] { items }

    public func fingerprint(of range: Range<Int>) -> Fingerprint {
        items.withUnsafeBufferPointer { buffer in
            var accumulator = Fingerprint.Accumulator()
            for item in buffer[range] { accumulator.add(item.id) }
            return accumulator.fingerprint
        }
    }
}
