/// The exclusive upper end of a range: a timestamp and as many leading id bytes as it
/// takes to separate two neighbouring items (0 to 32; omitted bytes count as zero).
///
/// The lower end of a range is the previous range's upper bound, so a message only
/// carries upper bounds. `infinity` closes the last range.
///
/// ```swift
/// let bound = NegentropyBound(timestamp: 1_700_000_000, idPrefix: [0xab])
/// bound.isAbove(NegentropyItem(timestamp: 1_700_000_000, id: .zero)) // true
/// ```
public struct NegentropyBound: Hashable, Sendable {
    /// The timestamp and the id prefix padded with zero bytes: the point in item order
    /// where the bound sits.
    @usableFromInline
    let position: NegentropyItem

    /// How many bytes of the id the bound carries on the wire.
    public let idPrefixLength: Int

    /// The start of the timestamp/id space: timestamp 0, empty prefix.
    public static let zero = NegentropyBound(position: NegentropyItem(timestamp: 0, id: .zero), idPrefixLength: 0)

    /// The end of the timestamp/id space, the upper bound of every message's last range.
    public static let infinity = NegentropyBound(
        position: NegentropyItem(timestamp: .max, id: .zero), idPrefixLength: 0)

    init(position: NegentropyItem, idPrefixLength: Int) {
        self.position = position
        self.idPrefixLength = idPrefixLength
    }

    /// A bound at `timestamp` carrying `idPrefix`, which must be at most 32 bytes.
    public init(timestamp: UInt64, idPrefix: [UInt8] = []) {
        precondition(idPrefix.count <= 32, "an id prefix has at most 32 bytes")
        self.init(
            position: NegentropyItem(timestamp: timestamp, id: NegentropyID(prefix: idPrefix)),
            idPrefixLength: idPrefix.count)
    }

    /// The bound that sits exactly at `item`, with its full id.
    public init(_ item: NegentropyItem) {
        self.init(position: item, idPrefixLength: 32)
    }

    public var timestamp: UInt64 { position.timestamp }

    /// The id bytes the bound carries on the wire.
    public var idPrefix: [UInt8] {
        var out = [UInt8]()
        position.id.appendPrefix(idPrefixLength, to: &out)
        return out
    }

    public var isInfinity: Bool { position.timestamp == .max }

    /// Whether `item` lies below this bound, that is inside a range this bound ends.
    @inlinable
    public func isAbove(_ item: NegentropyItem) -> Bool {
        item < position
    }

    /// The shortest bound above `previous` and at or below `next`, so that a range
    /// split between two neighbouring items costs as few bytes as possible.
    static func between(_ previous: NegentropyItem, and next: NegentropyItem) -> NegentropyBound {
        if previous.timestamp != next.timestamp {
            return NegentropyBound(position: NegentropyItem(timestamp: next.timestamp, id: .zero), idPrefixLength: 0)
        }
        let length = min(next.id.commonPrefixLength(with: previous.id) + 1, 32)
        return NegentropyBound(
            position: NegentropyItem(timestamp: next.timestamp, id: next.id.keepingPrefix(length)),
            idPrefixLength: length)
    }
}

extension NegentropyBound: CustomStringConvertible {
    public var description: String {
        isInfinity ? "∞" : "\(timestamp)/\(NegentropyHex.encode(idPrefix))"
    }
}
