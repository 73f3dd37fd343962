public import NostrCore

/// A 32-byte record id (for Nostr, the event id): NostrCore's `Bytes32`.
///
/// The same four big-endian words as an `EventID`, so a million-item set is one flat array,
/// equality and hashing touch four integers, and comparing the words in order is the lexical
/// byte order the protocol sorts ties by. An `EventID` converts with `id.raw`.
///
/// ```swift
/// let id = NegentropyID(hex: String(repeating: "ab", count: 32))!
/// id.bytes.count // 32
/// ```
public typealias NegentropyID = Bytes32

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
