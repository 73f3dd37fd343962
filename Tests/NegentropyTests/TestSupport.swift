import MartletTestSupport
import Negentropy
import Testing

extension NegentropyID {
    static func random(using generator: inout SplitMix64) -> NegentropyID {
        NegentropyID(w0: generator.next(), w1: generator.next(), w2: generator.next(), w3: generator.next())
    }

    /// An id whose bytes are all `byte`, for hand-made cases.
    static func filled(_ byte: UInt8) -> NegentropyID {
        NegentropyID(bytes: [UInt8](repeating: byte, count: 32))!
    }
}

/// Items with random ids and timestamps drawn from `timestamps`, which a narrow range
/// turns into many equal timestamps.
func randomItems(_ count: Int, timestamps: ClosedRange<UInt64>, using generator: inout SplitMix64) -> [NegentropyItem] {
    (0..<count).map { _ in
        NegentropyItem(
            timestamp: UInt64.random(in: timestamps, using: &generator),
            id: .random(using: &generator))
    }
}

/// Two random item sets that share `common` items and each hold some of their own, with
/// timestamps drawn from one range.
struct DifferingSets {
    let common: [NegentropyItem]
    let onlyInitiator: [NegentropyItem]
    let onlyResponder: [NegentropyItem]

    var initiator: [NegentropyItem] { common + onlyInitiator }
    var responder: [NegentropyItem] { common + onlyResponder }

    init(common: Int, eachOwn: Int, timestamps: ClosedRange<UInt64>, seed: UInt64) {
        var generator = SplitMix64(seed: seed)
        self.common = randomItems(common, timestamps: timestamps, using: &generator)
        onlyInitiator = randomItems(eachOwn, timestamps: timestamps, using: &generator)
        onlyResponder = randomItems(eachOwn, timestamps: timestamps, using: &generator)
    }
}

/// What a whole sync between an initiator and a responder found.
struct SyncOutcome {
    var haveIDs: [NegentropyID] = []
    var needIDs: [NegentropyID] = []
    /// Messages from the initiator, each answered once by the responder.
    var roundTrips = 0
    var largestMessage = 0
}

struct SyncDidNotConverge: Error {}

/// Drives both roles in memory until the initiator has nothing more to send.
func sync(
    initiator initiatorItems: [NegentropyItem],
    responder responderItems: [NegentropyItem],
    frameSizeLimit: Int = 0,
    maxRoundTrips: Int = 500
) throws -> SyncOutcome {
    let initiator = try NegentropyInitiator(storage: try SortedItems(initiatorItems), frameSizeLimit: frameSizeLimit)
    let responder = try NegentropyResponder(storage: try SortedItems(responderItems), frameSizeLimit: frameSizeLimit)
    var outcome = SyncOutcome()
    var message = initiator.initiate()
    while outcome.roundTrips < maxRoundTrips {
        let answer = try responder.reconcile(message)
        outcome.roundTrips += 1
        outcome.largestMessage = max(outcome.largestMessage, message.count, answer.count)
        let round = try initiator.reconcile(answer)
        outcome.haveIDs += round.haveIDs
        outcome.needIDs += round.needIDs
        guard let next = round.nextMessage else { return outcome }
        message = next
    }
    throw SyncDidNotConverge()
}

// MARK: - Slow references, independent of the module's arithmetic

/// The fingerprint as the appendix words it, one byte at a time: add the ids as
/// 32-byte little-endian integers mod 2^256, append the varint count, SHA-256, keep 16.
func referenceFingerprint(_ ids: [[UInt8]]) -> [UInt8] {
    var sum = [UInt8](repeating: 0, count: 32)
    for id in ids {
        var carry = 0
        for index in 0..<32 {
            let total = Int(sum[index]) + Int(id[index]) + carry
            sum[index] = UInt8(total & 0xff)
            carry = total >> 8
        }
    }
    return Array(ReferenceSHA256.hash(sum + referenceVarint(UInt64(ids.count))).prefix(16))
}

/// Base-128 digits, most significant first, by repeated division.
func referenceVarint(_ value: UInt64) -> [UInt8] {
    var digits = [UInt8(value % 128)]
    var rest = value / 128
    while rest > 0 {
        digits.insert(UInt8(rest % 128) | 0x80, at: 0)
        rest /= 128
    }
    return digits
}

/// FIPS 180-4 SHA-256, written plainly so the fingerprint test does not trust the
/// library it checks.
enum ReferenceSHA256 {
    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]

    static func hash(_ message: [UInt8]) -> [UInt8] {
        var state: [UInt32] = [
            0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
        ]
        var padded = message + [0x80]
        while padded.count % 64 != 56 { padded.append(0) }
        let bitLength = UInt64(message.count) * 8
        for shift in stride(from: 56, through: 0, by: -8) { padded.append(UInt8(truncatingIfNeeded: bitLength >> UInt64(shift))) }

        func rotr(_ x: UInt32, _ n: UInt32) -> UInt32 { x >> n | x << (32 - n) }
        for block in stride(from: 0, to: padded.count, by: 64) {
            var w = [UInt32](repeating: 0, count: 64)
            for t in 0..<16 {
                for b in 0..<4 { w[t] = w[t] << 8 | UInt32(padded[block + t * 4 + b]) }
            }
            for t in 16..<64 {
                let s0 = rotr(w[t - 15], 7) ^ rotr(w[t - 15], 18) ^ (w[t - 15] >> 3)
                let s1 = rotr(w[t - 2], 17) ^ rotr(w[t - 2], 19) ^ (w[t - 2] >> 10)
                w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
            }
            var (a, b, c, d, e, f, g, h) = (state[0], state[1], state[2], state[3], state[4], state[5], state[6], state[7])
            for t in 0..<64 {
                let t1 = h &+ (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) &+ ((e & f) ^ (~e & g)) &+ k[t] &+ w[t]
                let t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) &+ ((a & b) ^ (a & c) ^ (b & c))
                (h, g, f, e, d, c, b, a) = (g, f, e, d &+ t1, c, b, a, t1 &+ t2)
            }
            for (index, value) in [a, b, c, d, e, f, g, h].enumerated() { state[index] &+= value }
        }
        return state.flatMap { word in (0..<4).map { UInt8(truncatingIfNeeded: word >> UInt32(24 - $0 * 8)) } }
    }
}
