/// The `ws://` address of the relay under load, restricted to this machine.
///
/// A load generator aimed at someone else's server is an attack, so only loopback
/// addresses are accepted: `127.0.0.0/8`, `localhost` and `[::1]`. There is no TLS either:
/// a benchmark on loopback measures the relay, not a cipher.
///
/// ```swift
/// let url = try LoopbackRelayURL("ws://127.0.0.1:7777")
/// url.port // 7777
/// ```
public struct LoopbackRelayURL: Sendable, CustomStringConvertible {
    public let host: String
    public let port: Int
    /// The request target of the upgrade request, `/` when the URL has no path.
    public let path: String

    public init(_ text: String) throws(BenchError) {
        guard text.hasPrefix("ws://") else {
            throw BenchError("only ws:// URLs are supported (a benchmark runs on loopback, without TLS): \(text)")
        }
        let rest = text.dropFirst("ws://".count)
        let authority = rest.prefix { $0 != "/" }
        let path = rest.dropFirst(authority.count)
        var host = Substring(authority)
        var port = 80
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw BenchError("malformed IPv6 host in \(text)") }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if after.hasPrefix(":") {
                guard let value = Int(after.dropFirst()) else { throw BenchError("malformed port in \(text)") }
                port = value
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard let value = Int(authority[authority.index(after: colon)...]) else {
                throw BenchError("malformed port in \(text)")
            }
            port = value
        }
        guard (1...65535).contains(port) else { throw BenchError("port out of range in \(text)") }
        guard Self.isLoopback(host) else {
            throw BenchError("refusing to load \(host): the benchmark only targets loopback (127.0.0.0/8, localhost, ::1)")
        }
        self.host = host == "localhost" ? "127.0.0.1" : String(host)
        self.port = port
        self.path = path.isEmpty ? "/" : String(path)
    }

    static func isLoopback(_ host: Substring) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, parts[0] == "127" else { return false }
        return parts.allSatisfy { part in UInt8(part) != nil }
    }

    /// The value of the `Host` header.
    var hostHeader: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public var description: String { "ws://\(hostHeader)\(path)" }
}

/// Why a benchmark could not run, in words fit for the terminal.
public struct BenchError: Error, Sendable, CustomStringConvertible {
    public let message: String

    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
