public import NostrCore
import Synchronization

/// Token buckets keyed by a string (a pubkey, or a client's network via `take(address:)`):
/// each key may spend `burst` at once and earns `rate` tokens a second after that.
///
/// The table holds at most `maxKeys` buckets. When it is full, one sweep drops the buckets
/// that have refilled (they carry no information) and then, if a spray of fresh keys keeps
/// it over half full, the least recently used ones, down to `maxKeys / 2`. A sweep costs
/// O(n log n) and the next one is at least `maxKeys / 2` new keys away, so each call costs
/// O(log n) amortised, never a re-scan of the whole table per call.
///
/// ```swift
/// let limiter = RateLimiter(rate: 10, burst: 20)
/// if !limiter.take(address: "2001:db8::7", now: clock) { /* rate-limited */ }
/// ```
public final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Double
    }

    private struct Table {
        var buckets: [String: Bucket] = [:]
        var sweeps = 0
    }

    public let rate: Double
    public let burst: Double
    /// The most buckets held at once; about 100 bytes each with the key.
    public let maxKeys: Int
    private let table = Mutex(Table())

    public init(rate: Double, burst: Double, maxKeys: Int = 100_000) {
        self.rate = rate
        self.burst = max(1, burst)
        self.maxKeys = max(2, maxKeys)
    }

    /// Spends one token of `key`; `false` when its bucket is empty.
    public func take(_ key: String, now: Double) -> Bool {
        table.withLock { table in
            if table.buckets[key] == nil && table.buckets.count >= maxKeys {
                sweep(&table, now: now)
            }
            var bucket = table.buckets[key] ?? Bucket(tokens: burst, updated: now)
            bucket.tokens = refilled(bucket, now: now)
            bucket.updated = now
            let allowed = bucket.tokens >= 1
            if allowed { bucket.tokens -= 1 }
            table.buckets[key] = bucket
            return allowed
        }
    }

    /// Spends one token of the network `address` belongs to (see `AddressKey`).
    public func take(address: String, now: Double) -> Bool {
        take(AddressKey.of(address), now: now)
    }

    /// Buckets held now.
    public var keyCount: Int { table.withLock { $0.buckets.count } }

    /// Sweeps done so far (each one a pass over the whole table).
    public var sweepCount: Int { table.withLock { $0.sweeps } }

    private func refilled(_ bucket: Bucket, now: Double) -> Double {
        min(burst, bucket.tokens + max(0, now - bucket.updated) * rate)
    }

    private func sweep(_ table: inout Table, now: Double) {
        table.sweeps += 1
        table.buckets = table.buckets.filter { refilled($0.value, now: now) < burst }
        let target = maxKeys / 2
        guard table.buckets.count > target else { return }
        let byAge = table.buckets.map { (key: $0.key, updated: $0.value.updated) }.sorted { $0.updated < $1.updated }
        for entry in byAge.prefix(table.buckets.count - target) { table.buckets[entry.key] = nil }
    }
}

/// The key a client's IP address is limited under: an IPv4 address itself, an IPv6
/// address's /64 prefix, and an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`) as its IPv4.
///
/// A /64 is the smallest prefix an IPv6 site is given (RFC 6177), so one host can take
/// any of its 2^64 addresses: keyed by the whole address, it could spray past any limit.
///
/// ```swift
/// AddressKey.of("2001:db8:1:2:aaaa::1")   // "2001:db8:1:2::/64"
/// AddressKey.of("::ffff:203.0.113.7")     // "203.0.113.7"
/// ```
public enum AddressKey {
    public static func of(_ address: String) -> String {
        guard let bytes = IPAddress.bytes(address) else { return address }
        guard bytes.count == 16 else { return IPAddress.spell(bytes) }
        return IPRange(network: bytes, prefixLength: 64).description
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
        if let perIP, let ip = context.remoteAddress, !perIP.take(address: ip, now: now) {
            return .rateLimited("too many events from your address, slow down")
        }
        if let perPubkey, !perPubkey.take(event.pubkey.hex, now: now) {
            return .rateLimited("too many events from this pubkey, slow down")
        }
        return nil
    }
}
