import NIOCore

/// A token bucket per source IP, so one address cannot make the node spend its time (or its
/// replies) on a flood. The set of tracked addresses is bounded too: when it is full, idle
/// addresses (whose bucket has refilled) are forgotten, and if none are, new ones are refused.
struct SourceRateLimiter: Sendable {
    let packetsPerSecond: Double
    let burst: Double
    let maxSources: Int
    private var buckets: [[UInt8]: (tokens: Double, updated: NIODeadline)] = [:]

    init(packetsPerSecond: Int, burst: Int, maxSources: Int) {
        self.packetsPerSecond = Double(packetsPerSecond)
        self.burst = Double(burst)
        self.maxSources = maxSources
    }

    mutating func allow(_ source: [UInt8], now: NIODeadline) -> Bool {
        if buckets[source] == nil, buckets.count >= maxSources {
            buckets = buckets.filter { refilled($0.value, now: now) < burst }
            guard buckets.count < maxSources else { return false }
        }
        let tokens = buckets[source].map { refilled($0, now: now) } ?? burst
        guard tokens >= 1 else {
            buckets[source] = (tokens, now)
            return false
        }
        buckets[source] = (tokens - 1, now)
        return true
    }

    private func refilled(_ bucket: (tokens: Double, updated: NIODeadline), now: NIODeadline) -> Double {
        let seconds = Double((now - bucket.updated).nanoseconds) / 1e9
        return min(burst, bucket.tokens + seconds * packetsPerSecond)
    }
}
