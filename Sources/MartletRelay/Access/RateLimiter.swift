public import NostrCore
import Synchronization

/// Token buckets keyed by a string (an IP address or a pubkey): each key may spend `burst`
/// at once and earns `rate` tokens a second after that.
///
/// ```swift
/// let limiter = RateLimiter(rate: 10, burst: 20)
/// if !limiter.take("203.0.113.7", now: clock) { /* rate-limited */ }
/// ```
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    public let rate: Double
    public let burst: Double
    private let buckets = Mutex([String: Bucket]())

    public init(rate: Double, burst: Double) {
        self.rate = rate
        self.burst = max(1, burst)
    }

    /// Spends one token of `key`; `false` when its bucket is empty.
    public func take(_ key: String, now: Double) -> Bool {
        buckets.withLock { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = min(burst, bucket.tokens + (now - bucket.updated) * rate)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            buckets[key] = bucket
            // Full buckets carry no information; dropping them bounds memory by active keys.
            if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            return allowed
        }
    }
}

/// EVENT rate limits per IP address and per author, answered with `rate-limited:`.
public struct EventRateLimitPolicy: WritePolicy {
    let perIP: RateLimiter?
    let perPubkey: RateLimiter?
    let clock: @Sendable () -> Double

    public init(limits: RelayConfiguration.RateLimits, clock: @escaping @Sendable () -> Double) {
        perIP = limits.eventsPerSecondPerIP > 0 ? RateLimiter(rate: limits.eventsPerSecondPerIP, burst: limits.burst) : nil
        perPubkey =
            limits.eventsPerSecondPerPubkey > 0
            ? RateLimiter(rate: limits.eventsPerSecondPerPubkey, burst: limits.burst) : nil
        self.clock = clock
    }

    public func check(_ event: Event, context: WriteContext) -> RejectReason? {
        let now = clock()
        if let perIP, let ip = context.remoteAddress, !perIP.take(ip, now: now) {
            return .rateLimited("too many events from your address, slow down")
        }
        if let perPubkey, !perPubkey.take(event.pubkey.hex, now: now) {
            return .rateLimited("too many events from this pubkey, slow down")
        }
        return nil
    }
}
