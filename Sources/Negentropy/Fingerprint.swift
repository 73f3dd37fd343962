import Crypto

/// The 16-byte digest a range is compared by: SHA-256 over the sum of the range's ids
/// (as 256-bit little-endian integers, mod 2^256) followed by the varint of their
/// count, cut to its first 16 bytes.
///
/// Addition makes the digest independent of how a set is split or ordered, so a
/// store can compute it over any index range without sorting ids again.
///
/// ```swift
/// let fingerprint = Fingerprint.of([idA, idB])
/// fingerprint.hex // 32 hex digits
/// ```
public struct Fingerprint: Hashable, Sendable {
    @usableFromInline
    let w0: UInt64
    @usableFromInline
    let w1: UInt64

    /// The number of bytes a fingerprint has on the wire.
    public static let byteCount = 16

    @usableFromInline
    init(w0: UInt64, w1: UInt64) {
        self.w0 = w0
        self.w1 = w1
    }

    /// Reads 16 bytes; `nil` unless `bytes` holds exactly 16.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        var w0: UInt64 = 0
        var w1: UInt64 = 0
        for index in 0..<8 {
            w0 = w0 << 8 | UInt64(bytes[index])
            w1 = w1 << 8 | UInt64(bytes[index + 8])
        }
        self.init(w0: w0, w1: w1)
    }

    /// The 16 bytes in wire order.
    public var bytes: [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(Self.byteCount)
        append(to: &out)
        return out
    }

    public var hex: String { NegentropyHex.encode(bytes) }

    func append(to output: inout [UInt8]) {
        appendBigEndian(w0, to: &output)
        appendBigEndian(w1, to: &output)
    }

    /// The fingerprint of `ids`, in any order.
    public static func of(_ ids: some Sequence<NegentropyID>) -> Fingerprint {
        var accumulator = Accumulator()
        for id in ids { accumulator.add(id) }
        return accumulator.fingerprint
    }
}

extension Fingerprint: CustomStringConvertible {
    public var description: String { hex }
}

extension Fingerprint {
    /// A running fingerprint: add ids one at a time, read the digest at the end.
    ///
    /// The sum lives in four 64-bit limbs, so adding an id allocates nothing and
    /// costs four additions with carry; only `fingerprint` hashes.
    ///
    /// ```swift
    /// var accumulator = Fingerprint.Accumulator()
    /// for item in items { accumulator.add(item.id) }
    /// let fingerprint = accumulator.fingerprint
    /// ```
    public struct Accumulator: Sendable {
        @usableFromInline
        var limbs: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)

        @usableFromInline
        var added: UInt64 = 0

        /// How many ids have been added.
        public var count: UInt64 { added }

        public init() {}

        @inlinable
        public mutating func add(_ id: NegentropyID) {
            let addend = id.littleEndianLimbs
            let (sum0, carry0) = limbs.0.addingReportingOverflow(addend.0)
            let (partial1, carry1a) = limbs.1.addingReportingOverflow(addend.1)
            let (sum1, carry1b) = partial1.addingReportingOverflow(carry0 ? 1 : 0)
            let (partial2, carry2a) = limbs.2.addingReportingOverflow(addend.2)
            let (sum2, carry2b) = partial2.addingReportingOverflow(carry1a || carry1b ? 1 : 0)
            // The top limb wraps: the sum is taken mod 2^256.
            let sum3 = limbs.3 &+ addend.3 &+ (carry2a || carry2b ? 1 : 0)
            limbs = (sum0, sum1, sum2, sum3)
            added &+= 1
        }

        /// The fingerprint of the ids added so far.
        public var fingerprint: Fingerprint {
            var preimage = [UInt8]()
            preimage.reserveCapacity(32 + 10)
            appendLittleEndian(limbs.0, to: &preimage)
            appendLittleEndian(limbs.1, to: &preimage)
            appendLittleEndian(limbs.2, to: &preimage)
            appendLittleEndian(limbs.3, to: &preimage)
            Varint.append(count, to: &preimage)
            var hasher = SHA256()
            preimage.withUnsafeBytes { hasher.update(bufferPointer: $0) }
            var digest = hasher.finalize().makeIterator()
            var w0: UInt64 = 0
            var w1: UInt64 = 0
            for _ in 0..<8 { w0 = w0 << 8 | UInt64(digest.next() ?? 0) }
            for _ in 0..<8 { w1 = w1 << 8 | UInt64(digest.next() ?? 0) }
            return Fingerprint(w0: w0, w1: w1)
        }
    }
}

private func appendBigEndian(_ word: UInt64, to output: inout [UInt8]) {
    for shift in stride(from: 56, through: 0, by: -8) {
        output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
    }
}

private func appendLittleEndian(_ word: UInt64, to output: inout [UInt8]) {
    for shift in stride(from: 0, through: 56, by: 8) {
        output.append(UInt8(truncatingIfNeeded: word >> UInt64(shift)))
    }
}
