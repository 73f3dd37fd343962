/// Builds one message, encoding each bound's timestamp as the delta to the previous.
///
/// The reconciler writes a range tentatively and takes it back when the frame would
/// grow past its limit; `Mark` restores the byte count and the delta base together,
/// because a discarded bound must not shift the base of the next one.
struct MessageWriter {
    private(set) var bytes: [UInt8] = [NegentropyMessage.protocolVersion]
    private var lastTimestamp: UInt64 = 0

    var count: Int { bytes.count }

    /// Whether nothing follows the version byte: for the initiator, the end of the sync.
    var isEmpty: Bool { bytes.count == 1 }

    struct Mark {
        fileprivate let count: Int
        fileprivate let lastTimestamp: UInt64
    }

    func mark() -> Mark {
        Mark(count: bytes.count, lastTimestamp: lastTimestamp)
    }

    mutating func rollback(to mark: Mark) {
        bytes.removeLast(bytes.count - mark.count)
        lastTimestamp = mark.lastTimestamp
    }

    mutating func appendVarint(_ value: UInt64) {
        Varint.append(value, to: &bytes)
    }

    /// Bounds must come in ascending order; the wrapping arithmetic only keeps a
    /// caller's mistake from trapping.
    mutating func append(_ bound: NegentropyBound) {
        if bound.isInfinity {
            appendVarint(0)
            lastTimestamp = .max
        } else {
            appendVarint(bound.timestamp &- lastTimestamp &+ 1)
            lastTimestamp = bound.timestamp
        }
        appendVarint(UInt64(bound.idPrefixLength))
        bound.position.id.appendPrefix(bound.idPrefixLength, to: &bytes)
    }

    mutating func append(_ mode: NegentropyRange.Mode) {
        appendVarint(mode.rawValue)
    }

    mutating func append(_ fingerprint: Fingerprint) {
        fingerprint.append(to: &bytes)
    }

    mutating func append(_ id: NegentropyID) {
        id.withUnsafeBytes { bytes.append(contentsOf: $0) }
    }
}
