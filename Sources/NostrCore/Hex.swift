/// Lowercase hexadecimal, the only spelling NIP-01 allows for ids, keys and signatures.
///
/// Works on bytes, never on `String` characters, so the hot paths that read hex out of a
/// message buffer pay no `String` round trip.
public enum Hex {
    @usableFromInline
    static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    /// The value of one lowercase hex digit, or `nil` for anything else (upper case included).
    @inlinable
    public static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte &- UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte &- UInt8(ascii: "a") &+ 10
        default: return nil
        }
    }

    /// Decodes exactly `count` bytes from `2 * count` lowercase hex digits.
    public static func decode(_ text: some Collection<UInt8>) -> [UInt8]? {
        guard text.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(text.count / 2)
        var iterator = text.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            guard let h = nibble(high), let l = nibble(low) else { return nil }
            out.append(h << 4 | l)
        }
        return out
    }

    /// Decodes a hex `String`; `nil` unless it is lowercase hex of even length.
    public static func decode(_ text: String) -> [UInt8]? {
        decode(Array(text.utf8))
    }

    /// Appends the lowercase hex spelling of `bytes` to `output`.
    @inlinable
    public static func append(_ bytes: UnsafeRawBufferPointer, to output: inout [UInt8]) {
        // Written 32 bytes at a time into a stack buffer and appended as one copy: appending
        // digit by digit re-checks the array's uniqueness and capacity for each one.
        var buffer: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var offset = 0
        while offset < bytes.count {
            let chunk = min(32, bytes.count &- offset)
            withUnsafeMutableBytes(of: &buffer) { out in
                for index in 0..<chunk {
                    let byte = bytes[offset &+ index]
                    out[index &* 2] = digit(byte >> 4)
                    out[index &* 2 &+ 1] = digit(byte & 0x0f)
                }
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: out[..<(chunk &* 2)]))
            }
            offset &+= chunk
        }
    }

    /// The lowercase hex digit of a value below 16.
    @inlinable
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? nibble &+ UInt8(ascii: "0") : nibble &+ (UInt8(ascii: "a") &- 10)
    }

    /// The lowercase hex spelling of `bytes`.
    public static func encode(_ bytes: some Sequence<UInt8>) -> String {
        var out = [UInt8]()
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
