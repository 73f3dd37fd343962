public import MartletBench

/// The seeded generator of `martlet bench`'s workloads, for tests' reproducible inputs: a
/// failing randomized case runs again from its seed.
///
/// ```swift
/// var rng = SplitMix64(seed: 42)
/// let size = Int.random(in: 0..<100, using: &rng)
/// ```
public typealias SplitMix64 = MartletBench.SplitMix64
