public import Hummingbird
public import MartletRelay
public import NIOCore

/// The address of the client behind a connection: the TCP peer's, unless the peer is one
/// of `server.trusted_proxies`, in which case the proxy's header names it.
///
/// A proxy appends the address it saw to `X-Forwarded-For` (and RFC 7239's `Forwarded`),
/// after whatever the client itself wrote there. So the list is read from the right: every
/// hop that is a trusted proxy is skipped, and the first that is not is the client. Anything
/// a client put further left is never believed. A header that names no valid address, or
/// names only trusted proxies, leaves the proxy's own address: wrong for one client, but
/// never an address chosen by a stranger.
///
/// ```swift
/// let addresses = ClientAddresses(trusted: [IPRange("127.0.0.1")!], header: .xForwardedFor)
/// addresses.client(peer: "127.0.0.1", headerLines: ["6.6.6.6, 203.0.113.7"]) // "203.0.113.7"
/// addresses.client(peer: "198.51.100.1", headerLines: ["6.6.6.6"])           // "198.51.100.1"
/// ```
public struct ClientAddresses: Sendable {
    public let trusted: [IPRange]
    public let header: RelayConfiguration.RealIPHeader

    public init(trusted: [IPRange], header: RelayConfiguration.RealIPHeader) {
        self.trusted = trusted
        self.header = header
    }

    public init(_ connections: RelayConfiguration.Connections) {
        self.init(trusted: connections.trustedProxies, header: connections.realIPHeader)
    }

    /// Whether `address` (an IP address as text) is one of the trusted proxies.
    public func isTrustedProxy(_ address: String?) -> Bool {
        guard !trusted.isEmpty, let address, let bytes = IPAddress.bytes(address) else { return false }
        return trusted.contains { $0.contains(bytes) }
    }

    /// The client's address for a request that reached us from `peer`.
    public func client(peer: SocketAddress?, headers: HTTPFields) -> String? {
        client(peer: peer?.ipAddress, headers: headers)
    }

    /// The client's address given the peer's and the request's header fields.
    public func client(peer: String?, headers: HTTPFields) -> String? {
        client(peer: peer, headerLines: headers.filter { $0.name.canonicalName == header.rawValue }.map(\.value))
    }

    /// The client's address given the lines of `header` in the order they came.
    public func client(peer: String?, headerLines: [String]) -> String? {
        guard let peer, isTrustedProxy(peer) else { return peer }
        // Repeated header lines are one list, in order (RFC 9110, section 5.3).
        let named = headerLines.flatMap(hops(in:))
        guard !named.isEmpty else { return peer }
        for hop in named.reversed() {
            guard let address = IPAddress.canonical(hop) else { return peer }
            if !isTrustedProxy(address) { return address }
        }
        return peer
    }

    /// The addresses one header line names, nearest client first as written.
    private func hops(in value: String) -> [String] {
        switch header {
        case .xForwardedFor: value.split(separator: ",").map { Self.trimmed($0) }
        case .xRealIP: [Self.trimmed(Substring(value))]
        case .forwarded: value.split(separator: ",").compactMap(Self.forwardedFor)
        }
    }

    /// The `for=` node of one RFC 7239 element, without quotes, brackets or port
    /// (`for="[2001:db8::1]:4711"` is `2001:db8::1`); an obfuscated node (`unknown`,
    /// `_hidden`) stays as written and is no address.
    private static func forwardedFor(_ element: Substring) -> String? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, trimmed(parts[0]).lowercased() == "for" else { continue }
            var node = trimmed(parts[1])
            if node.hasPrefix("\""), node.hasSuffix("\""), node.count >= 2 { node = String(node.dropFirst().dropLast()) }
            if node.hasPrefix("["), let close = node.firstIndex(of: "]") {
                return String(node[node.index(after: node.startIndex)..<close])
            }
            // An IPv4 node may carry a port; a bare IPv6 node is not allowed unbracketed.
            if node.filter({ $0 == ":" }).count == 1, let colon = node.firstIndex(of: ":") {
                return String(node[..<colon])
            }
            return node
        }
        return nil
    }

    private static func trimmed(_ text: Substring) -> String {
        String(text.drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
