#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The one spelling of an IP address that the blocklist compares: the system's own
/// (`inet_ntop`), which is also how a connection's remote address is written, so that
/// `::0001` blocks a client seen as `::1`.
///
/// ```swift
/// IPAddress.canonical("2001:DB8::0001") // "2001:db8::1"
/// IPAddress.canonical("relay.example.com") // nil
/// ```
public enum IPAddress {
    public static func canonical(_ text: String) -> String? {
        let trimmed = String(text.filter { !$0.isWhitespace })
        if let spelled = convert(trimmed, family: AF_INET, size: 4) { return spelled }
        return convert(trimmed, family: AF_INET6, size: 16)
    }

    private static func convert(_ text: String, family: Int32, size: Int) -> String? {
        var address = [UInt8](repeating: 0, count: size)
        guard inet_pton(family, text, &address) == 1 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        guard inet_ntop(family, address, &buffer, socklen_t(buffer.count)) != nil else { return nil }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
