/// A sorted, immutable set of items that a reconciler can read by index.
///
/// The reconciler needs four things: the size, an item at an index, the fingerprint
/// of an index range, and where a bound falls. Only the first two are required;
/// the others have defaults (a linear sum and a binary search) that a store with
/// an index of its own can replace. Items must be sorted by timestamp, then id, with
/// no duplicates and no `UInt64.max` timestamp; `SortedItems` guarantees all three.
///
/// ```swift
/// struct Snapshot: NegentropyStorage {
///     let items: [NegentropyItem]   // already sorted
///     var count: Int { items.count }
///     func item(at index: Int) -> NegentropyItem { items[index] }
/// }
/// ```
public protocol NegentropyStorage {
    /// The number of items.
    var count: Int { get }

    /// The item at `index`, for `0 <= index < count`.
    func item(at index: Int) -> NegentropyItem

    /// The fingerprint of the ids of the items at `range`.
    func fingerprint(of range: Range<Int>) -> Fingerprint

    /// The first index in `range` whose item is not below `bound`, or `range.upperBound`.
    func lowerBound(of bound: NegentropyBound, in range: Range<Int>) -> Int
}

extension NegentropyStorage {
    public func fingerprint(of range: Range<Int>) -> Fingerprint {
        var accumulator = Fingerprint.Accumulator()
        for index in range { accumulator.add(item(at: index).id) }
        return accumulator.fingerprint
    }

    public func lowerBound(of bound: NegentropyBound, in range: Range<Int>) -> Int {
        var low = range.lowerBound
        var high = range.upperBound
        while low < high {
            let middle = low + (high - low) / 2
            if bound.isAbove(item(at: middle)) {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }
}
