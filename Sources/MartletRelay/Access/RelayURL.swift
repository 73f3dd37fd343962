/// Compares relay URLs the way NIP-42 suggests ("URL normalization techniques can be
/// applied"): scheme (ws or wss), case of the host and a trailing slash do not matter.
///
/// ```swift
/// RelayURL.same("wss://Relay.example.com/", "wss://relay.example.com") // true
/// ```
public enum RelayURL {
    public static func same(_ lhs: String, _ rhs: String) -> Bool {
        normalize(lhs) == normalize(rhs)
    }

    /// `host[:port][/path]` lower-cased, without scheme or trailing slashes.
    public static func normalize(_ url: String) -> String {
        var text = url.trimmingCharacters(in: .whitespaces).lowercased()
        for scheme in ["wss://", "ws://", "https://", "http://"] where text.hasPrefix(scheme) {
            text.removeFirst(scheme.count)
            break
        }
        while text.hasSuffix("/") { text.removeLast() }
        return text
    }
}

extension String {
    fileprivate func trimmingCharacters(in set: WhitespaceSet) -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    fileprivate enum WhitespaceSet { case whitespaces }
}
