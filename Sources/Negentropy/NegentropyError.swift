/// Why a negentropy message or setup was refused.
///
/// Every decoding failure carries the byte offset at which the reader gave up, so a
/// relay can put a precise reason into a `NEG-ERR` and a test can assert on the case.
///
/// ```swift
/// do { _ = try NegentropyMessage(decoding: [0x61, 0x85]) }
/// catch { print(error) } // "negentropy message truncated at byte 2"
/// ```
public enum NegentropyError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The message has no bytes at all, not even a protocol version.
    case emptyMessage
    /// The first byte is not a negentropy protocol version (`0x60...0x6f`).
    case invalidProtocolVersion(UInt8)
    /// A well-formed protocol version that this implementation does not speak.
    case unsupportedProtocolVersion(UInt8)
    /// The message ends in the middle of a field.
    case truncated(offset: Int)
    /// A varint encodes a value that does not fit in 64 bits.
    case varintOverflow(offset: Int)
    /// A bound's id prefix is longer than the 32 bytes of an id.
    case idPrefixTooLong(length: UInt64, offset: Int)
    /// A range mode other than skip (0), fingerprint (1) or id list (2).
    case unknownMode(UInt64, offset: Int)
    /// An id list claims more ids than the rest of the message can hold.
    case idListTooLong(count: UInt64, offset: Int)
    /// A range's upper bound lies below the previous range's upper bound.
    case rangesOutOfOrder(offset: Int)
    /// A range follows one that already ended at infinity.
    case rangeAfterEnd(offset: Int)
    /// `frameSizeLimit` is neither 0 (unlimited) nor at least 4096.
    case frameSizeLimitTooSmall(Int)
    /// An item uses `UInt64.max`, which the protocol reserves for infinity.
    case reservedTimestamp(index: Int)
    /// A wire string is not an even number of hex digits.
    case invalidHex

    public var description: String {
        switch self {
        case .emptyMessage:
            "negentropy message is empty"
        case .invalidProtocolVersion(let byte):
            "invalid negentropy protocol version byte 0x\(hexByte(byte))"
        case .unsupportedProtocolVersion(let byte):
            "unsupported negentropy protocol version 0x\(hexByte(byte)) (this side speaks 0x61)"
        case .truncated(let offset):
            "negentropy message truncated at byte \(offset)"
        case .varintOverflow(let offset):
            "varint at byte \(offset) does not fit in 64 bits"
        case .idPrefixTooLong(let length, let offset):
            "bound at byte \(offset) has an id prefix of \(length) bytes (at most 32)"
        case .unknownMode(let mode, let offset):
            "unknown range mode \(mode) at byte \(offset)"
        case .idListTooLong(let count, let offset):
            "id list at byte \(offset) claims \(count) ids, more than the message holds"
        case .rangesOutOfOrder(let offset):
            "range at byte \(offset) ends below the previous range"
        case .rangeAfterEnd(let offset):
            "range at byte \(offset) follows a range that already ended at infinity"
        case .frameSizeLimitTooSmall(let limit):
            "frame size limit \(limit) must be 0 (unlimited) or at least 4096"
        case .reservedTimestamp(let index):
            "item \(index) uses the reserved infinity timestamp 2^64-1"
        case .invalidHex:
            "negentropy message is not an even number of hex digits"
        }
    }
}

private func hexByte(_ byte: UInt8) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: [digits[Int(byte >> 4)], digits[Int(byte & 0x0f)]], as: UTF8.self)
}
