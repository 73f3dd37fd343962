/// One negentropy protocol message: the version byte `0x61` and an ordered list of
/// adjacent ranges covering the timestamp/id space from zero upwards.
///
/// A message that stops short of infinity ends with an implicit skip. Decoding checks
/// everything a peer could get wrong (version, truncation, bound order, id list size),
/// so the reconciler only ever sees well-formed ranges.
///
/// ```swift
/// let message = try NegentropyMessage(decoding: bytes)
/// for range in message.ranges { print(range.upperBound, range.mode) }
/// let again = message.encoded() // == bytes for any canonical message
/// ```
public struct NegentropyMessage: Equatable, Sendable {
    /// Protocol version 1, the only one this implementation speaks.
    public static let protocolVersion: UInt8 = 0x61

    /// The version bytes the protocol reserves (`0x60` is version 0, `0x6f` version 15).
    static let versionBytes: ClosedRange<UInt8> = 0x60...0x6f

    /// The ranges in ascending order of their upper bounds.
    public var ranges: [NegentropyRange]

    public init(ranges: [NegentropyRange] = []) {
        self.ranges = ranges
    }

    /// Parses a whole message.
    ///
    /// Throws `.unsupportedProtocolVersion` for a version byte of a later (or earlier)
    /// protocol; a responder answers that with `[0x61]` alone, as the protocol asks.
    public init(decoding bytes: [UInt8]) throws(NegentropyError) {
        guard let version = bytes.first else { throw .emptyMessage }
        guard Self.versionBytes.contains(version) else { throw .invalidProtocolVersion(version) }
        guard version == Self.protocolVersion else { throw .unsupportedProtocolVersion(version) }

        var reader = MessageReader(bytes, offset: 1)
        var ranges = [NegentropyRange]()
        var previous = NegentropyBound.zero
        while !reader.isAtEnd {
            let start = reader.offset
            guard !previous.isInfinity else { throw .rangeAfterEnd(offset: start) }
            let bound = try reader.readBound()
            guard !(bound.position < previous.position) else { throw .rangesOutOfOrder(offset: start) }
            let payload = try reader.readPayload()
            ranges.append(NegentropyRange(upperBound: bound, payload: payload))
            previous = bound
        }
        self.ranges = ranges
    }

    /// The wire form. Ranges must be in ascending order, as decoding guarantees.
    public func encoded() -> [UInt8] {
        var writer = MessageWriter()
        for range in ranges {
            writer.append(range.upperBound)
            writer.append(range.mode)
            switch range.payload {
            case .skip:
                break
            case .fingerprint(let fingerprint):
                writer.append(fingerprint)
            case .idList(let ids):
                writer.appendVarint(UInt64(ids.count))
                for id in ids { writer.append(id) }
            }
        }
        return writer.bytes
    }
}

/// One range of a message: where it ends and what the sender says about the ids in it.
///
/// ```swift
/// let range = NegentropyRange(upperBound: .infinity, payload: .fingerprint(Fingerprint.of(ids)))
/// range.mode // .fingerprint
/// ```
public struct NegentropyRange: Equatable, Sendable {
    /// The mode number that precedes a range's payload on the wire.
    ///
    /// ```swift
    /// NegentropyRange.Mode(rawValue: 2) // .idList
    /// ```
    public enum Mode: UInt64, Sendable {
        case skip = 0
        case fingerprint = 1
        case idList = 2
    }

    /// What the sender says about the range.
    ///
    /// ```swift
    /// if case .idList(let ids) = range.payload { print(ids.count) }
    /// ```
    public enum Payload: Equatable, Sendable {
        /// The sender does not wish to process this range further.
        case skip
        /// A digest of all the ids the sender has in the range.
        case fingerprint(Fingerprint)
        /// Every id the sender has in the range.
        case idList([NegentropyID])
    }

    /// The exclusive upper end; the lower end is the previous range's upper bound.
    public var upperBound: NegentropyBound
    public var payload: Payload

    public init(upperBound: NegentropyBound, payload: Payload) {
        self.upperBound = upperBound
        self.payload = payload
    }

    public var mode: Mode {
        switch payload {
        case .skip: .skip
        case .fingerprint: .fingerprint
        case .idList: .idList
        }
    }
}
