/// Thirty-two bytes held inline as four big-endian words.
///
/// The storage behind `EventID` and `PublicKey`: equality and hashing touch four
/// integers instead of an array, and comparing the words in order is the same as
/// comparing the bytes lexically, which is the tie-break order NIP-01 asks for.
///
/// ```swift
/// let value = Bytes32(hex: "00ff" + String(repeating: "0", count: 60))!
/// value.hex // "00ff0000…"
/// ```
public struct Bytes32: Hashable, Comparable, Sendable {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    public static let zero = Bytes32(w0: 0, w1: 0, w2: 0, w3: 0)

    @inlinable
    public init(w0: UInt64, w1: UInt64, w2: UInt64, w3: UInt64) {
        self.w0 = w0
        self.w1 = w1
        self.w2 = w2
        self.w3 = w3
    }

    /// Reads 32 bytes from `bytes`, which must hold exactly 32.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count == 32, "Bytes32 needs exactly 32 bytes")
        w0 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Reads 32 bytes from an array; `nil` unless it holds exactly 32.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { Bytes32($0) }
    }

    /// Parses 64 lowercase hex digits.
    ///
    /// Every id and pubkey a relay reads goes through here (two per stored event a REQ
    /// sends, four per event received), so each digit is one table load and no branch;
    /// a bad digit is noticed once, at the end. Digit by digit with a branch and an
    /// optional each, it was 5% of a REQ's CPU.
    public init?(hexBytes text: UnsafeRawBufferPointer) {
        guard text.count == 64 else { return nil }
        let table = HexDigits.values
        var invalid: UInt8 = 0
        func word(_ offset: Int) -> UInt64 {
            var value: UInt64 = 0
            for index in offset..<offset + 16 {
                let nibble = table[Int(text[index])]
                invalid |= nibble
                value = value << 4 | UInt64(nibble & 0x0F)
            }
            return value
        }
        let w0 = word(0), w1 = word(16), w2 = word(32), w3 = word(48)
        guard invalid & 0xF0 == 0 else { return nil }
        self.init(w0: w0, w1: w1, w2: w2, w3: w3)
    }

    /// Parses 64 lowercase hex digits.
    public init?(hex: String) {
        var text = hex
        guard let value = text.withUTF8({ Bytes32(hexBytes: UnsafeRawBufferPointer($0)) }) else {
            return nil
        }
        self = value
    }

    /// Calls `body` with the 32 bytes in order.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var big = (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
        return try Swift.withUnsafeBytes(of: &big) { try body($0) }
    }

    /// The 32 bytes as an array, for APIs that want one.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// Appends the 64-digit lowercase hex spelling to `output`.
    @inlinable
    public func appendHex(to output: inout [UInt8]) {
        withUnsafeBytes { Hex.append($0, to: &output) }
    }

    /// The 64-digit lowercase hex spelling.
    public var hex: String {
        var out = [UInt8]()
        out.reserveCapacity(64)
        appendHex(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @inlinable
    public static func < (lhs: Bytes32, rhs: Bytes32) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0 < rhs.w0 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        return lhs.w3 < rhs.w3
    }
}

extension Bytes32: CustomStringConvertible {
    public var description: String { hex }
}

/// The value of each byte as a lowercase hex digit, 0xFF for any other byte.
private enum HexDigits {
    /// Filled once, by the lazy initializer of a global, and only read after that.
    nonisolated(unsafe) static let values: UnsafePointer<UInt8> = {
        let table = UnsafeMutablePointer<UInt8>.allocate(capacity: 256)
        table.initialize(repeating: 0xFF, count: 256)
        for (value, digit) in "0123456789abcdef".utf8.enumerated() { table[Int(digit)] = UInt8(value) }
        return UnsafePointer(table)
    }()
}
