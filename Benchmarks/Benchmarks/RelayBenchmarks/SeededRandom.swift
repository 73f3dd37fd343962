import NostrCore

/// SplitMix64: a small seeded generator, so that every run builds the same inputs.
///
/// ```swift
/// var random = SeededRandom(seed: 1)
/// let author = PublicKey(random.bytes32())
/// ```
struct SeededRandom: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    /// 32 random bytes, as an id or a pubkey (not a point on the curve: filters never check).
    mutating func bytes32() -> Bytes32 {
        Bytes32(w0: next(), w1: next(), w2: next(), w3: next())
    }

    /// A valid secret key.
    mutating func secretKey() -> SecretKey {
        while true {
            if let key = SecretKey(bytes: bytes32().bytes) { return key }
        }
    }
}
