import Foundation
import Testing

/// Random inputs for a decoder: mutations of valid messages and noise, from a seed.
///
/// ```swift
/// let mutator = ByteMutator(corpus: validPackets, tokens: ["d", "i0e"].map { Array($0.utf8) },
///                           noiseAlphabet: Array("dlei0123456789:".utf8))
/// var rng = SplitMix64(seed: 1)
/// let input = mutator.mutate(mutator.corpus[0], using: &rng)
/// ```
public struct ByteMutator: Sendable {
    /// Valid inputs, mutated and spliced together.
    public let corpus: [[UInt8]]
    /// Bytes that steer mutations toward the decoder's interesting states.
    public let tokens: [[UInt8]]
    /// Noise drawn from the format's own characters reaches deeper than uniform bytes do.
    public let noiseAlphabet: [UInt8]

    public init(corpus: [[UInt8]], tokens: [[UInt8]], noiseAlphabet: [UInt8]) {
        self.corpus = corpus
        self.tokens = tokens
        self.noiseAlphabet = noiseAlphabet
    }

    /// `input` changed one to four times: bit flips, truncation, splices with the corpus,
    /// repeated or deleted ranges, tokens inserted or written over, random bytes.
    public func mutate(_ input: [UInt8], using rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            let position = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch Int.random(in: 0..<8, using: &rng) {
            case 0 where !bytes.isEmpty:  // bit flip
                bytes[position] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
            case 1:  // truncation
                bytes.removeSubrange(Int.random(in: 0...bytes.count, using: &rng)...)
            case 2:  // splice with another input
                let other = corpus.randomElement(using: &rng)!
                bytes = Array(bytes[..<position]) + other[Int.random(in: 0...other.count, using: &rng)...]
            case 3 where !bytes.isEmpty:  // duplicate a range
                let end = min(bytes.count, position + Int.random(in: 1...16, using: &rng))
                bytes.insert(contentsOf: bytes[position..<end], at: position)
            case 4 where !bytes.isEmpty:  // delete a range
                bytes.removeSubrange(position..<min(bytes.count, position + Int.random(in: 1...8, using: &rng)))
            case 5:  // insert a token
                bytes.insert(contentsOf: tokens.randomElement(using: &rng)!, at: position)
            case 6 where !bytes.isEmpty:  // overwrite with a token
                let token = tokens.randomElement(using: &rng)!
                bytes.replaceSubrange(position..<min(bytes.count, position + token.count), with: token)
            default:  // random byte
                bytes.insert(UInt8.random(in: 0...255, using: &rng), at: position)
            }
        }
        return bytes
    }

    /// Up to 96 bytes: uniform half the time, else drawn from `noiseAlphabet`.
    public func randomBytes(using rng: inout SplitMix64) -> [UInt8] {
        let count = Int.random(in: 0...96, using: &rng)
        if Bool.random(using: &rng) {
            return (0..<count).map { _ in UInt8.random(in: 0...255, using: &rng) }
        }
        return (0..<count).map { _ in noiseAlphabet.randomElement(using: &rng)! }
    }

    /// A corpus entry, mutated.
    public func mutation(using rng: inout SplitMix64) -> [UInt8] {
        mutate(corpus.randomElement(using: &rng)!, using: &rng)
    }

    /// Every fourth input noise, the others mutations of a corpus entry.
    public func input(number: Int, using rng: inout SplitMix64) -> [UInt8] {
        number % 4 == 0 ? randomBytes(using: &rng) : mutation(using: &rng)
    }
}

/// A bounded fuzzing run: how long, from which seed, read from the environment so CI can
/// run longer and a failure can be replayed.
///
/// ```swift
/// let run = FuzzRun(secondsVariable: "MARTLET_FUZZ_SECONDS", defaultSeed: 0x6d61)
/// let summary = await run.loop { rng, number in
///     let input = mutator.input(number: number, using: &rng)
///     return (input, accepted: decode(input) != nil, problem: nil)
/// }
/// ```
public struct FuzzRun: Sendable {
    public let budget: Duration
    public let seed: UInt64

    /// - Parameters:
    ///   - secondsVariable: the variable that sets the budget in seconds (default 3).
    ///   - defaultSeed: the seed when `MARTLET_FUZZ_SEED` is unset.
    public init(secondsVariable: String, defaultSeed: UInt64) {
        let environment = ProcessInfo.processInfo.environment
        let seconds = environment[secondsVariable].flatMap(Double.init) ?? 3
        budget = .milliseconds(Int(seconds * 1000))
        seed = environment["MARTLET_FUZZ_SEED"].flatMap { UInt64($0) } ?? defaultSeed
    }

    /// Runs `check` on numbered inputs until the budget is spent (and at least 4,096 inputs
    /// were tried, whatever the machine's load) or five problems were found; each problem is
    /// recorded as an issue with the seed and the input.
    public func loop(
        _ check: (inout SplitMix64, Int) -> (input: [UInt8], accepted: Bool, problem: String?)
    ) async -> (inputs: Int, accepted: Int) {
        var rng = SplitMix64(seed: seed)
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: budget)
        var inputs = 0
        var accepted = 0
        var failures = 0
        while (clock.now < deadline || inputs < 4_096) && failures < 5 {
            // Tests share the cooperative pool, one thread per core: a loop that never
            // suspends would hold one of this machine's two threads for the whole budget,
            // and the end-to-end tests beside it would starve (a relay's shutdown, waiting
            // for readers only a free thread can hand back, hung a CI run). A pause every
            // 4,096 inputs (milliseconds of work) frees it without queueing behind every
            // other test's job after each small batch.
            if inputs % 4_096 == 0 { await Task.yield() }
            for _ in 0..<64 {
                inputs += 1
                let outcome = check(&rng, inputs)
                if outcome.accepted { accepted += 1 }
                if let problem = outcome.problem {
                    failures += 1
                    Issue.record(
                        "seed \(seed) input #\(inputs): \(problem)\ninput: \(String(decoding: outcome.input, as: UTF8.self).debugDescription)"
                    )
                }
            }
        }
        return (inputs, accepted)
    }
}
