/// How long a mesh peer waits before connecting again: `initial`, multiplied by
/// `multiplier` after every failure in a row, never more than `maximum`, each wait shortened
/// by a random part of up to `jitter` of itself.
///
/// The jitter matters when a relay restarts: every peer of it lost the connection at the
/// same moment, and without it they would all come back in the same instant, every time.
///
/// ```swift
/// let backoff = Backoff() // 0.5 s, 1 s, 2 s, … 30 s, each up to 20% shorter
/// var random = SystemRandomNumberGenerator()
/// try await Task.sleep(for: backoff.delay(afterFailures: 3, using: &random)) // 3.2 s to 4 s
/// ```
public struct Backoff: Sendable, Equatable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// The largest fraction of a wait taken off at random, from 0 (none) to 1.
    public var jitter: Double

    public init(
        initial: Duration = .milliseconds(500), maximum: Duration = .seconds(30), multiplier: Double = 2,
        jitter: Double = 0.2
    ) {
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The wait before the next attempt after `failures` failures in a row (0: the first
    /// retry), before jitter.
    public func ceiling(afterFailures failures: Int) -> Duration {
        let maximum = Self.seconds(maximum)
        var seconds = Self.seconds(initial)
        // Stops multiplying once past the maximum, so that no count of failures overflows.
        for _ in 0..<max(0, failures) where seconds < maximum { seconds *= max(1, multiplier) }
        return .nanoseconds(Int64((min(seconds, maximum) * 1e9).rounded()))
    }

    /// The wait with its jitter: `random` is a number in 0..<1 (0 waits the whole ceiling).
    public func delay(afterFailures failures: Int, random: Double) -> Duration {
        let ceiling = Self.seconds(ceiling(afterFailures: failures))
        let cut = min(1, max(0, jitter)) * min(1, max(0, random))
        return .nanoseconds(Int64((ceiling * (1 - cut) * 1e9).rounded()))
    }

    public func delay(afterFailures failures: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        delay(afterFailures: failures, random: Double.random(in: 0..<1, using: &generator))
    }

    private static func seconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
