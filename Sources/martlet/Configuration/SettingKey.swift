import Foundation
import MartletAxon
import MartletRelay
import NostrCore

/// One key of the configuration: its dotted name (`limits.max_subscriptions`), the values
/// it takes, and how to print the value in force.
///
/// The list of keys (`SettingKey.all`) is what `martlet config check` and `serve` hold a
/// file and the environment against, so a key `Settings` reads but this list lacks is
/// refused as unknown: a test keeps the two in step.
///
/// ```swift
/// SettingKey.named("server.port")?.shape.problem(with: .scalar("99999"))
/// // "99999 is out of range; allowed: a whole number from 0 to 65535"
/// ```
struct SettingKey: Sendable {
    let name: String
    let shape: ValueShape
    /// The value in force, as `config show` prints it.
    let show: @Sendable (Settings) -> String

    /// The environment variable that overrides this key.
    var environmentName: String {
        "MARTLET_" + name.uppercased().replacingOccurrences(of: ".", with: "_")
    }

    static func named(_ name: String) -> SettingKey? { all.first { $0.name == name } }

    /// The known key nearest to `name`, for "did you mean".
    static func nearest(to name: String) -> SettingKey? {
        let candidates = all.map { ($0, EditDistance.between($0.name, name)) }
        guard let best = candidates.min(by: { $0.1 < $1.1 }), best.1 <= max(3, name.count / 3) else { return nil }
        return best.0
    }
}

/// A raw configuration value before it is read: one scalar, or a list of them.
enum RawValue: Sendable, CustomStringConvertible {
    case scalar(String)
    case list([String])
    /// A mapping where a value was expected.
    case section

    var description: String {
        switch self {
        case .scalar(let text): text
        case .list(let items): "[" + items.joined(separator: ", ") + "]"
        case .section: "a section"
        }
    }
}

/// What values a key takes, each with the sentence that says so.
enum ValueShape: Sendable {
    case text
    /// ed25519 public keys in hex (axon's allowlist).
    case axonKeys
    /// `3000-3999`, or empty for none.
    case kindRange
    case choice([String])
    case integer(ClosedRange<Int>)
    case number(ClosedRange<Double>)
    /// `ws://` or `wss://`.
    case relayURL
    case relayURLs
    /// `postgres://` or `postgresql://`.
    case databaseURL
    /// A 32-byte key in hex (or npub for public keys).
    case pubkeys
    case secretKey
    case eventIDs
    case kinds
    /// IP addresses and CIDR ranges.
    case addresses
    /// A NIP-01 filter as JSON.
    case filter
    /// One public key, hex or npub.
    case pubkey
    /// An `https://` (or `http://`) link.
    case webURL
    /// A list of words (language tags, community tags).
    case words
    /// A list of ISO 3166-1 alpha-2 country codes, or `*`.
    case countries
    /// NIP-11's `fees` object as JSON.
    case fees
    /// NIP-11's `retention` list as JSON.
    case retention
    /// `host:port` entries (DHT bootstrap nodes).
    case endpoints

    var allowed: String {
        switch self {
        case .text: "text"
        case .axonKeys: "a list of ed25519 public keys (64 hex characters)"
        case .kindRange: "a range of kinds like 3000-3999, or empty for none"
        case .choice(let choices): "one of " + choices.joined(separator: ", ")
        case .integer(let range):
            range.upperBound == .max
                ? "a whole number from \(range.lowerBound) up" : "a whole number from \(range.lowerBound) to \(range.upperBound)"
        case .number(let range):
            range.upperBound == .greatestFiniteMagnitude
                ? "a number from \(range.lowerBound) up" : "a number from \(range.lowerBound) to \(range.upperBound)"
        case .relayURL: "a ws:// or wss:// URL"
        case .relayURLs: "a list of ws:// or wss:// URLs"
        case .databaseURL: "a postgres:// URL"
        case .pubkeys: "a list of public keys (64 hex characters or npub1...)"
        case .secretKey: "a secret key (64 hex characters or nsec1...)"
        case .eventIDs: "a list of event ids (64 hex characters)"
        case .kinds: "a list of kinds from 0 to 65535"
        case .addresses: "a list of IP addresses or CIDR ranges (10.0.0.0/8, 2001:db8::/32)"
        case .filter: "a NIP-01 filter as JSON"
        case .pubkey: "a public key (64 hex characters or npub1...)"
        case .webURL: "an https:// or http:// URL"
        case .words: "a list of words"
        case .countries: "a list of two-letter country codes (ISO 3166-1 alpha-2) or *"
        case .fees: #"NIP-11's fees as JSON: {"admission":[{"amount":1000000,"unit":"msats"}]}"#
        case .retention: #"NIP-11's retention as JSON: [{"kinds":[0,1,[5,7]],"time":3600}]"#
        case .endpoints: "a list of host:port entries"
        }
    }

    private var isList: Bool {
        switch self {
        case .relayURLs, .pubkeys, .eventIDs, .kinds, .addresses, .words, .countries, .endpoints, .axonKeys: true
        default: false
        }
    }

    /// Nil when `value` fits; otherwise what is wrong, with what is allowed.
    func problem(with value: RawValue) -> String? {
        let items: [String]
        switch value {
        case .section:
            return "a section where a value belongs; allowed: \(allowed)"
        case .list(let list):
            guard isList else { return "a list where one value belongs; allowed: \(allowed)" }
            items = list
        case .scalar(let text):
            // The environment spells a list with commas (`MARTLET_MESH_PEERS="ws://a, ws://b"`).
            items = isList ? text.split(separator: ",").map(String.init) : [text]
        }
        for raw in items {
            let item = raw.trimmingCharacters(in: .whitespaces)
            if isList, item.isEmpty { continue }
            guard accepts(item) else {
                let quoted = "\"\(item)\""
                if case .integer(let range) = self, let number = Int(item), !range.contains(number) {
                    return "\(number) is out of range; allowed: \(allowed)"
                }
                if case .number(let range) = self, let number = Double(item), !range.contains(number) {
                    return "\(item) is out of range; allowed: \(allowed)"
                }
                return "\(quoted) is not allowed; allowed: \(allowed)"
            }
        }
        return nil
    }

    private func accepts(_ item: String) -> Bool {
        switch self {
        case .text: true
        case .axonKeys: AxonAuthKey(hex: item) != nil
        case .kindRange: item.isEmpty || Settings.kindRange(item) != nil
        case .choice(let choices): choices.contains(item)
        case .integer(let range): Int(item).map(range.contains) ?? false
        case .number(let range): Double(item).map(range.contains) ?? false
        case .relayURL, .relayURLs: (item.hasPrefix("ws://") || item.hasPrefix("wss://")) && item.count > 6
        case .databaseURL: item.hasPrefix("postgres://") || item.hasPrefix("postgresql://")
        case .pubkeys: PublicKey(hexOrNpub: item) != nil
        case .secretKey: SecretKey(hexOrNsec: item) != nil
        case .eventIDs: EventID(hex: item) != nil
        case .kinds: Int(item).map { (0...65535).contains($0) } ?? false
        case .addresses: IPRange(item) != nil
        case .filter: (try? Filter.decode(json: Array(item.utf8))) != nil
        case .pubkey: item.isEmpty || PublicKey(hexOrNpub: item) != nil
        case .webURL: item.isEmpty || ((item.hasPrefix("https://") || item.hasPrefix("http://")) && item.count > 8)
        case .words: !item.contains(where: \.isWhitespace)
        case .countries: item == "*" || (item.count == 2 && item.allSatisfy { $0.isASCII && $0.isUppercase })
        case .fees: item.isEmpty || (try? Settings.decodeJSON(RelayFees.self, item, "relay.fees")) != nil
        case .retention: item.isEmpty || (try? Settings.decodeJSON([RetentionRule].self, item, "relay.retention")) != nil
        case .endpoints:
            item.lastIndex(of: ":").map { colon in
                colon != item.startIndex && Int(item[item.index(after: colon)...]).map { (1...65535).contains($0) } == true
            } ?? false
        }
    }
}

/// Levenshtein distance, for suggesting the key a typo meant.
enum EditDistance {
    static func between(_ a: String, _ b: String) -> Int {
        let a = Array(a.utf8)
        let b = Array(b.utf8)
        var previous = Array(0...b.count)
        for (i, x) in a.enumerated() {
            var current = [i + 1] + [Int](repeating: 0, count: b.count)
            for (j, y) in b.enumerated() {
                current[j + 1] = min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
