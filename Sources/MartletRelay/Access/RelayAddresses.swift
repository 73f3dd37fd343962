import Synchronization

/// The URLs this relay is known by: what NIP-42's `relay` tag and NIP-98's `u` tag must
/// name for an authentication to count here.
///
/// Only the operator decides them, never a header the client chose: a `Host` header is
/// whatever the client (or a hostile relay replaying a victim's AUTH) says it is. They are
/// the configured `relay.url` and `relay.alternate_urls`; a relay configured with neither
/// answers to loopback URLs on the port it listens on, set by the server once it knows the
/// port, which is right for a relay tried on one machine and refuses every AUTH signed for
/// another relay.
///
/// ```swift
/// let addresses = RelayAddresses(configured: [])
/// addresses.listening(host: "127.0.0.1", port: 7777)
/// addresses.names("ws://localhost:7777/") // true
/// addresses.names("wss://evil.example.com") // false
/// ```
public final class RelayAddresses: Sendable {
    private let urls: Mutex<[String]>
    /// Whether the operator named the URLs (then `listening` changes nothing).
    public let isConfigured: Bool

    public init(configured: [String]) {
        urls = Mutex(configured)
        isConfigured = !configured.isEmpty
    }

    /// The URLs as they stand now, configured or derived.
    public var all: [String] { urls.withLock { $0 } }

    /// Whether `url` names this relay, compared as `RelayURL.same` compares (scheme, host
    /// case and a trailing slash do not matter; the port and the path do).
    public func names(_ url: String) -> Bool {
        urls.withLock { urls in urls.contains { RelayURL.same($0, url) } }
    }

    /// Called by the server once it listens: without configured URLs, the relay answers to
    /// `ws://127.0.0.1:<port>`, `ws://localhost:<port>`, `ws://[::1]:<port>` and, when it
    /// listens on one particular address, that address too.
    public func listening(host: String, port: Int) {
        guard !isConfigured else { return }
        var derived = ["ws://127.0.0.1:\(port)", "ws://localhost:\(port)", "ws://[::1]:\(port)"]
        let wildcard = ["", "0.0.0.0", "::", "[::]", "*"].contains(host)
        if !wildcard {
            let spelled = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
            derived.append("ws://\(spelled):\(port)")
        }
        urls.withLock { $0 = derived }
    }
}
