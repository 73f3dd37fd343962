@testable import MartletRelay
import MartletTestSupport
import NostrCore
import Testing

/// The per-address token buckets: one per IPv4 address or IPv6 /64, and a table that stays
/// bounded and cheap however many addresses a client sprays from.
@Suite("Rate limiter keys and table bound")
struct RateLimiterTests {
    static let event = Author().event(content: "rate")

    static func perIPPolicy(burst: Double) -> EventRateLimitPolicy {
        var limits = RelayConfiguration.RateLimits()
        limits.eventsPerSecondPerIP = 0.001
        limits.burst = burst
        return EventRateLimitPolicy(limits: limits, clock: { 0 })
    }

    @Test("200,000 distinct IPv6 addresses in one /64 share one bucket: rate-limited: after the burst")
    func oneSlash64IsOneClient() async {
        let policy = Self.perIPPolicy(burst: 5)
        var accepted = 0
        for index in 0..<200_000 {
            // Other suites share the two cooperative threads of a 2-core machine.
            if index % 2_000 == 0 { await Task.yield() }
            let address = "2001:db8:aa:bb:\(String(index >> 16, radix: 16)):\(String(index & 0xffff, radix: 16)):0:1"
            let refusal = policy.check(Self.event, context: WriteContext(now: 0, remoteAddress: address))
            if let refusal {
                #expect(refusal.message.hasPrefix("rate-limited:"))
            } else {
                accepted += 1
            }
        }
        #expect(accepted == 5)
        #expect(policy.perIP?.keyCount == 1)
    }

    @Test("an IPv4-mapped IPv6 address is its IPv4 address; other /64s and other IPv4 addresses are not")
    func addressKeys() {
        #expect(AddressKey.of("::ffff:203.0.113.7") == AddressKey.of("203.0.113.7"))
        #expect(AddressKey.of("2001:DB8:0:1::1") == AddressKey.of("2001:db8:0:1:ffff:ffff:ffff:ffff"))
        #expect(AddressKey.of("2001:db8:0:1::1") != AddressKey.of("2001:db8:0:2::1"))
        #expect(AddressKey.of("203.0.113.7") != AddressKey.of("203.0.113.8"))
        #expect(AddressKey.of("::1") != AddressKey.of("127.0.0.1"))

        let limiter = RateLimiter(rate: 0.001, burst: 2)
        #expect(limiter.take(address: "203.0.113.7", now: 0))
        #expect(limiter.take(address: "::ffff:203.0.113.7", now: 0))
        #expect(!limiter.take(address: "::ffff:cb00:7107", now: 0))  // 203.0.113.7 in hex
        #expect(limiter.take(address: "203.0.113.8", now: 0))
    }

    @Test("a spray over distinct /64s keeps the table within its bound, with one sweep per maxKeys/2 new keys")
    func sprayIsBounded() async {
        let limiter = RateLimiter(rate: 0.001, burst: 3, maxKeys: 10_000)
        let calls = 100_000
        var largest = 0
        for index in 0..<calls {
            if index % 2_000 == 0 { await Task.yield() }
            let address = "2001:db8:\(String(index >> 16, radix: 16)):\(String(index & 0xffff, radix: 16))::1"
            #expect(limiter.take(address: address, now: Double(index) / 1_000))
            if index % 1_000 == 0 { largest = max(largest, limiter.keyCount) }
        }
        #expect(largest <= 10_000)
        #expect(limiter.keyCount <= 10_000)
        // Amortised: a pass over the table only after another maxKeys / 2 new keys.
        #expect(limiter.sweepCount <= calls / 5_000)
        #expect(limiter.sweepCount >= 1)
    }

    @Test("the most recent clients keep their buckets through a sweep")
    func recentSurviveSweep() {
        let limiter = RateLimiter(rate: 0.001, burst: 1, maxKeys: 100)
        #expect(limiter.take(address: "198.51.100.1", now: 0))
        for index in 0..<99 {
            #expect(limiter.take(address: "10.0.\(index / 256).\(index % 256)", now: 1 + Double(index)))
        }
        #expect(!limiter.take(address: "198.51.100.1", now: 100))  // still empty: it is recent
        #expect(limiter.take(address: "10.1.0.0", now: 200))      // the 101st key: a sweep
        #expect(limiter.sweepCount == 1)
        #expect(limiter.keyCount <= 51)
        #expect(!limiter.take(address: "10.0.0.98", now: 201))    // among the newest half, kept
    }
}
