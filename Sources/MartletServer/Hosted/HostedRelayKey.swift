public import NostrCore

/// The key a hosted relay is known by (issue 18): the x-only public key of the relay's
/// own key pair, 64 lowercase hex characters, which is also its path (`/<key>`) and its
/// NIP-11 `self`.
///
/// ```swift
/// HostedRelayKey("0f3a…")          // a key, or nil for anything but 64 hex characters
/// HostedRelayKey.inPath("/0f3a…?x") // the key a request path names
/// ```
public struct HostedRelayKey: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let publicKey: PublicKey

    public init(_ publicKey: PublicKey) {
        self.publicKey = publicKey
    }

    /// 64 hex characters (either case); nil for anything else.
    public init?(_ text: some StringProtocol) {
        let lowered = text.lowercased()
        guard lowered.utf8.count == 64, let key = PublicKey(hex: lowered) else { return nil }
        publicKey = key
    }

    public var hex: String { publicKey.hex }
    public var description: String { publicKey.hex }

    public static func < (lhs: HostedRelayKey, rhs: HostedRelayKey) -> Bool { lhs.publicKey < rhs.publicKey }

    /// What a request path says about hosted relays: none (`/`, `/status.json`), a key,
    /// or a segment that could only have meant one and is not (`/xyz` of 64 characters
    /// with a stray letter, `/<key>/more`).
    public enum PathMatch: Equatable, Sendable {
        case root
        case key(HostedRelayKey)
        case malformed(String)
        case other
    }

    /// Reads the first segment of `path` (the query ignored): the root, a relay key, a
    /// 64-character segment that is not hex (malformed), or another route.
    public static func match(path: String) -> PathMatch {
        let bare = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        var segments = bare.split(separator: "/", omittingEmptySubsequences: true)
        guard let first = segments.first else { return .root }
        segments.removeFirst()
        if let key = HostedRelayKey(first) {
            return segments.isEmpty ? .key(key) : .malformed("a relay path is /<relay key>, with nothing after it")
        }
        if first.utf8.count == 64 || first.utf8.allSatisfy(isHex) && first.utf8.count > 32 {
            return .malformed("\"\(first.prefix(80))\" is not a relay key (64 hex characters)")
        }
        return .other
    }

    private static func isHex(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (97...102).contains(byte) || (65...70).contains(byte)
    }
}
