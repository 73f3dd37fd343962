/// The protocol's variable-length unsigned integer: base-128 digits, most significant
/// first, the high bit set on every byte but the last.
///
/// ```swift
/// Varint.encode(300)                        // [0x82, 0x2c]
/// var offset = 0
/// try Varint.decode([0x82, 0x2c], at: &offset) // 300, offset == 2
/// ```
public enum Varint {
    /// The shortest encoding of `value`.
    public static func encode(_ value: UInt64) -> [UInt8] {
        var out = [UInt8]()
        append(value, to: &out)
        return out
    }

    /// Appends the shortest encoding of `value` to `output`.
    @inlinable
    public static func append(_ value: UInt64, to output: inout [UInt8]) {
        let significantBits = 64 - value.leadingZeroBitCount
        let digits = max(1, (significantBits + 6) / 7)
        for digit in stride(from: digits - 1, through: 0, by: -1) {
            let bits = UInt8(truncatingIfNeeded: value >> UInt64(digit * 7)) & 0x7f
            output.append(digit == 0 ? bits : bits | 0x80)
        }
    }

    /// How many bytes `encode(value)` produces.
    @inlinable
    public static func encodedCount(_ value: UInt64) -> Int {
        max(1, (64 - value.leadingZeroBitCount + 6) / 7)
    }

    /// Reads one varint from `bytes` starting at `offset`, and moves `offset` past it.
    ///
    /// Non-minimal encodings (leading `0x80` digits) are accepted, as the reference
    /// implementation does; values beyond 64 bits and truncated digits are not.
    public static func decode(_ bytes: [UInt8], at offset: inout Int) throws(NegentropyError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        var index = offset
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            guard value >> 57 == 0 else { throw .varintOverflow(offset: start) }
            value = value << 7 | UInt64(byte & 0x7f)
            if byte & 0x80 == 0 {
                offset = index
                return value
            }
        }
        throw .truncated(offset: bytes.count)
    }
}
