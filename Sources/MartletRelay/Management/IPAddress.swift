#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one spelling of an IP address that the blocklist compares: the system's own
/// (`inet_ntop`), with an IPv4 address seen through a dual-stack socket (`::ffff:a.b.c.d`)
/// spelled as the IPv4 address it is, so that `::0001` blocks a client seen as `::1` and
/// `127.0.0.1` one seen as `::ffff:127.0.0.1`.
///
/// ```swift
/// IPAddress.canonical("2001:DB8::0001") // "2001:db8::1"
/// IPAddress.canonical("::ffff:127.0.0.1") // "127.0.0.1"
/// IPAddress.canonical("relay.example.com") // nil
/// ```
public enum IPAddress {
    public static func canonical(_ text: String) -> String? {
        bytes(text).map(spell)
    }

    /// The address as 4 bytes (IPv4, including IPv4-mapped IPv6) or 16 bytes (IPv6).
    public static func bytes(_ text: String) -> [UInt8]? {
        let trimmed = String(text.filter { !$0.isWhitespace })
        var address = [UInt8](repeating: 0, count: 16)
        if inet_pton(AF_INET, trimmed, &address) == 1 { return Array(address.prefix(4)) }
        guard inet_pton(AF_INET6, trimmed, &address) == 1 else { return nil }
        if address.prefix(10).allSatisfy({ $0 == 0 }), address[10] == 0xff, address[11] == 0xff {
            return Array(address.suffix(4))
        }
        return address
    }

    /// `inet_ntop`'s spelling of 4 or 16 bytes.
    public static func spell(_ address: [UInt8]) -> String {
        let family = address.count == 4 ? AF_INET : AF_INET6
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return "" }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// A block of IP addresses in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`); a single
/// address is a range of one (`/32`, `/128`) and is spelled without the suffix.
///
/// ```swift
/// let range = IPRange("10.0.0.0/8")!
/// range.contains(IPAddress.bytes("10.1.2.3")!) // true
/// IPRange("10.1.2.3/8")!.description // "10.0.0.0/8"
/// ```
public struct IPRange: Sendable, Hashable, CustomStringConvertible {
    /// The network's bytes, host bits cleared: 4 for IPv4, 16 for IPv6.
    public let network: [UInt8]
    public let prefixLength: Int

    /// Parses an address or `address/prefix`; nil for anything else. IPv4-mapped IPv6
    /// ranges (`::ffff:10.0.0.0/104`) become the IPv4 range they cover.
    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress.bytes(String(parts[0])) else { return nil }
        let bits = address.count * 8
        var length = bits
        if parts.count == 2 {
            guard let given = Int(parts[1].filter { !$0.isWhitespace }) else { return nil }
            // A mapped address was shortened to its 4 bytes: its prefix loses the 96 mapped bits.
            let mapped = address.count == 4 && parts[0].contains(":")
            length = mapped ? given - 96 : given
            guard (0...bits).contains(length) else { return nil }
        }
        self.init(network: address, prefixLength: length)
    }

    /// The range of `prefixLength` bits around `address` (4 or 16 bytes), host bits cleared.
    public init(network address: [UInt8], prefixLength: Int) {
        var network = address
        for index in network.indices {
            let kept = max(0, min(8, prefixLength - index * 8))
            network[index] &= kept == 8 ? 0xff : ~(0xff >> kept)
        }
        self.network = network
        self.prefixLength = prefixLength
    }

    /// Whether `address` (as `IPAddress.bytes` gives it) lies in this range.
    public func contains(_ address: [UInt8]) -> Bool {
        guard address.count == network.count else { return false }
        var remaining = prefixLength
        for index in network.indices where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xff : ~(0xff >> remaining)
            if address[index] & mask != network[index] { return false }
            remaining -= 8
        }
        return true
    }

    /// True for a range of one address.
    public var isSingleAddress: Bool { prefixLength == network.count * 8 }

    public var description: String {
        let address = IPAddress.spell(network)
        return isSingleAddress ? address : "\(address)/\(prefixLength)"
    }
}
