import Crypto
@testable import MartletDHT
import NIOCore
import Testing

/// The node's internal bounds, driven with explicit clocks instead of waiting.
@Suite("tokens, storage and rate limits are bounded in time and size")
struct BoundsTests {
    let start = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
    let asker = IPv4Endpoint(host: "127.0.0.1", port: 1000)!

    @Test("a token is valid for the asker's IP for five to ten minutes, and for no other IP")
    func tokens() {
        var issuer = TokenIssuer(now: start)
        let token = issuer.token(for: asker, now: start)
        let outcome1 = issuer.isValid(token, for: IPv4Endpoint(host: "127.0.0.1", port: 2000)!, now: start)
        #expect(outcome1)
        let outcome2 = issuer.isValid(token, for: IPv4Endpoint(host: "127.0.0.2", port: 1000)!, now: start)
        #expect(!outcome2)
        let outcome3 = issuer.isValid(token, for: asker, now: start + .minutes(6))
        #expect(outcome3)
        let outcome4 = issuer.isValid(token, for: asker, now: start + .minutes(11))
        #expect(!outcome4)
    }

    @Test("storage refuses items beyond its count and byte bounds, and forgets them after two hours")
    func storage() throws {
        var storage = ItemStorage(maxItems: 2, maxBytes: 10_000)
        let items = try (0..<3).map { _ in
            try MutableItem.signed(value: .string("v"), sequence: 1, key: Curve25519.Signing.PrivateKey())
        }
        let outcome5 = storage.put(.mutable(items[0]), compareAndSwap: nil, now: start)
        #expect(outcome5 == .stored)
        let outcome6 = storage.put(.mutable(items[1]), compareAndSwap: nil, now: start)
        #expect(outcome6 == .stored)
        let outcome7 = storage.put(.mutable(items[2]), compareAndSwap: nil, now: start)
        #expect(outcome7 == .full)
        let outcome8 = storage.item(for: items[0].target, now: start + .minutes(119))
        #expect(outcome8 != nil)
        // Two hours on, the old items make room.
        let outcome9 = storage.put(.mutable(items[2]), compareAndSwap: nil, now: start + .hours(2))
        #expect(outcome9 == .stored)
        let outcome10 = storage.item(for: items[0].target, now: start + .hours(2))
        #expect(outcome10 == nil)

        var small = ItemStorage(maxItems: 100, maxBytes: 500)
        let big = try MutableItem.signed(
            value: .bytes([UInt8](repeating: 0, count: 450)), sequence: 1, key: Curve25519.Signing.PrivateKey())
        let outcome11 = small.put(.mutable(big), compareAndSwap: nil, now: start)
        #expect(outcome11 == .full)
        #expect(small.bytes == 0)
    }

    @Test("the rate limiter tracks a bounded number of IPs and forgets idle ones first")
    func limiterSources() {
        var limiter = SourceRateLimiter(packetsPerSecond: 1, burst: 2, maxSources: 2)
        let outcome12 = limiter.allow([10, 0, 0, 1], now: start)
        #expect(outcome12)
        let outcome13 = limiter.allow([10, 0, 0, 2], now: start)
        #expect(outcome13)
        let outcome14 = limiter.allow([10, 0, 0, 3], now: start)
        #expect(!outcome14)
        let outcome15 = limiter.allow([10, 0, 0, 3], now: start + .seconds(5))
        #expect(outcome15)
        let outcome16 = limiter.allow([10, 0, 0, 1], now: start + .seconds(5))
        #expect(outcome16)
        let outcome17 = limiter.allow([10, 0, 0, 1], now: start + .seconds(5))
        #expect(outcome17)
        let outcome18 = limiter.allow([10, 0, 0, 1], now: start + .seconds(5))
        #expect(!outcome18)
    }

    @Test("a full bucket keeps its older nodes")
    func routingBucket() {
        let own = NodeID([UInt8](repeating: 0, count: 20))!
        var table = RoutingTable(ownID: own)
        for index in 0..<20 {
            // All share no prefix bit with `own`: the same bucket.
            let id = NodeID([0x80] + [UInt8](repeating: UInt8(index), count: 19))!
            table.insert(NodeInfo(id: id, address: IPv4Endpoint(host: "127.0.0.1", port: 2000 + index)!))
        }
        #expect(table.count == RoutingTable.k)
        #expect(table.allNodes.map(\.address.port) == (2000..<2008).map(UInt16.init))
    }
}
