/// A 32-byte record id (for Nostr, the event id), held inline as four big-endian words.
///
/// Fixed-size so that a million-item set is one flat array: equality and hashing touch
/// four integers, and comparing the words in order is the lexical byte order the
/// protocol sorts ties by. The words have the same layout as NostrCore's `Bytes32`,
/// so converting an `EventID` costs four copies.
///
/// ```swift
/// let id = NegentropyID(hex: String(repeating: "ab", count: 32))!
/// id.bytes.count // 32
/// ```
public struct NegentropyID: Hashable, Comparable, Sendable {
    public var w0: UInt64
    public var w1: UInt64
    public var w2: UInt64
    public var w3: UInt64

    public static let zero = NegentropyID(w0: 0, w1: 0, w2: 0, w3: 0)

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
        precondition(bytes.count == 32, "NegentropyID needs exactly 32 bytes")
        w0 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        w1 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        w2 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 16, as: UInt64.self))
        w3 = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: 24, as: UInt64.self))
    }

    /// Reads 32 bytes; `nil` unless `bytes` holds exactly 32.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self = bytes.withUnsafeBytes { NegentropyID($0) }
    }

    /// Parses 64 hex digits; `nil` for any other text.
    public init?(hex: String) {
        guard let bytes = try? NegentropyHex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// Calls `body` with the 32 bytes in order.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var big = (w0.bigEndian, w1.bigEndian, w2.bigEndian, w3.bigEndian)
        return try Swift.withUnsafeBytes(of: &big) { try body($0) }
    }

    /// The 32 bytes as an array, for APIs that want one.
    public var bytes: [UInt8] { withUnsafeBytes { Array($0) } }

    /// The 64-digit lowercase hex spelling.
    public var hex: String { NegentropyHex.encode(bytes) }

    @inlinable
    public static func < (lhs: NegentropyID, rhs: NegentropyID) -> Bool {
        if lhs.w0 != rhs.w0 { return lhs.w0 < rhs.w0 }
        if lhs.w1 != rhs.w1 { return lhs.w1 < rhs.w1 }
        if lhs.w2 != rhs.w2 { return lhs.w2 < rhs.w2 }
        return lhs.w3 < rhs.w3
    }
}

extension NegentropyID: CustomStringConvertible {
    public var description: String { hex }
}

extension NegentropyID {
    /// An id from up to 32 leading bytes, the rest zero: how a bound's prefix compares.
    init(prefix: some Collection<UInt8>) {
        self = .zero
        for (index, byte) in prefix.prefix(32).enumerated() {
            let bits = UInt64(byte) << UInt64(56 - (index % 8) * 8)
            switch index / 8 {
            case 0: w0 |= bits
            case 1: w1 |= bits
            case 2: w2 |= bits
            default: w3 |= bits
            }
        }
    }

    /// The word holding bytes `8 * index ..< 8 * index + 8`.
    @usableFromInline
    func word(_ index: Int) -> UInt64 {
        switch index {
        case 0: w0
        case 1: w1
        case 2: w2
        default: w3
        }
    }

    /// This id with every byte from `length` on set to zero, the form a bound's
    /// shortened prefix compares as.
    func keepingPrefix(_ length: Int) -> NegentropyID {
        func masked(_ word: UInt64, _ wordIndex: Int) -> UInt64 {
            let keptBytes = min(max(length - wordIndex * 8, 0), 8)
            if keptBytes == 8 { return word }
            if keptBytes == 0 { return 0 }
            return word & ~(UInt64.max >> UInt64(keptBytes * 8))
        }
        return NegentropyID(w0: masked(w0, 0), w1: masked(w1, 1), w2: masked(w2, 2), w3: masked(w3, 3))
    }

    /// How many leading bytes this id shares with `other`.
    func commonPrefixLength(with other: NegentropyID) -> Int {
        for index in 0..<4 {
            let difference = word(index) ^ other.word(index)
            if difference != 0 { return index * 8 + difference.leadingZeroBitCount / 8 }
        }
        return 32
    }

    /// Appends the first `length` bytes to `output`.
    func appendPrefix(_ length: Int, to output: inout [UInt8]) {
        for index in 0..<length {
            let word = word(index / 8)
            output.append(UInt8(truncatingIfNeeded: word >> UInt64(56 - (index % 8) * 8)))
        }
    }

    /// The id's words as a 256-bit little-endian integer, least significant limb first,
    /// which is how the fingerprint adds ids.
    @usableFromInline
    var littleEndianLimbs: (UInt64, UInt64, UInt64, UInt64) {
        (w0.byteSwapped, w1.byteSwapped, w2.byteSwapped, w3.byteSwapped)
    }
}
