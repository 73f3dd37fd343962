/// Reads the fields of one message in order, undoing the timestamp delta encoding.
///
/// Every read checks the remaining length first: a peer's message is untrusted input
/// and must end in a `NegentropyError`, never a trap.
struct MessageReader {
    private let bytes: [UInt8]
    private(set) var offset: Int
    /// Timestamps are sent as the difference to the previous bound's, from 0 at the
    /// start of each message.
    private var lastTimestamp: UInt64 = 0

    init(_ bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    var isAtEnd: Bool { offset >= bytes.count }

    private var remaining: Int { bytes.count - offset }

    mutating func readVarint() throws(NegentropyError) -> UInt64 {
        try Varint.decode(bytes, at: &offset)
    }

    mutating func readBound() throws(NegentropyError) -> NegentropyBound {
        let encoded = try readVarint()
        let timestamp: UInt64
        if encoded == 0 {
            timestamp = .max
        } else {
            // A delta that runs past the top saturates to infinity, as the reference does.
            let (sum, overflow) = lastTimestamp.addingReportingOverflow(encoded - 1)
            timestamp = overflow ? .max : sum
        }
        lastTimestamp = timestamp

        let lengthOffset = offset
        let length = try readVarint()
        guard length <= 32 else { throw .idPrefixTooLong(length: length, offset: lengthOffset) }
        let prefixLength = Int(length)
        guard remaining >= prefixLength else { throw .truncated(offset: bytes.count) }
        let id = NegentropyID(prefix: bytes[offset..<offset + prefixLength])
        offset += prefixLength
        return NegentropyBound(position: NegentropyItem(timestamp: timestamp, id: id), idPrefixLength: prefixLength)
    }

    mutating func readPayload() throws(NegentropyError) -> NegentropyRange.Payload {
        let modeOffset = offset
        let rawMode = try readVarint()
        guard let mode = NegentropyRange.Mode(rawValue: rawMode) else {
            throw .unknownMode(rawMode, offset: modeOffset)
        }
        switch mode {
        case .skip:
            return .skip
        case .fingerprint:
            guard remaining >= Fingerprint.byteCount else { throw .truncated(offset: bytes.count) }
            let fingerprint = Fingerprint(bytes: Array(bytes[offset..<offset + Fingerprint.byteCount]))!
            offset += Fingerprint.byteCount
            return .fingerprint(fingerprint)
        case .idList:
            let countOffset = offset
            let count = try readVarint()
            // Checked before reserving anything, so a forged count cannot make us allocate.
            guard count <= UInt64(remaining / 32) else { throw .idListTooLong(count: count, offset: countOffset) }
            var ids = [NegentropyID]()
            ids.reserveCapacity(Int(count))
            let start = offset
            bytes.withUnsafeBytes { buffer in
                for index in 0..<Int(count) {
                    let idStart = start + index * 32
                    ids.append(NegentropyID(UnsafeRawBufferPointer(rebasing: buffer[idStart..<idStart + 32])))
                }
            }
            offset = start + Int(count) * 32
            return .idList(ids)
        }
    }
}
