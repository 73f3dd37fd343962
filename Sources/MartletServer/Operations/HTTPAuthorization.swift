internal import Crypto
import Foundation
public import MartletRelay
public import NostrCore

/// NIP-98 HTTP authorization: a signed kind-27235 event, base64-encoded in an
/// `Authorization: Nostr <event>` header, that names the URL, the method and (for NIP-86,
/// where it is required) the SHA-256 of the body.
///
/// ```swift
/// let header = HTTPAuthorization.header(signedBy: secret, url: "https://relay.example.com/", method: "POST", body: body)
/// let event = try HTTPAuthorization.verify(header, urls: ["https://relay.example.com/"], method: "POST", body: body, now: now)
/// ```
public enum HTTPAuthorization {
    /// How far `created_at` may be from the server's clock (NIP-98's suggestion).
    public static let allowedClockSkew: Int64 = 60

    /// Why an authorization was refused; `description` is the text of the 401 answer.
    public enum Failure: Error, Sendable, Equatable, CustomStringConvertible {
        case missing
        case malformed
        case wrongKind
        case invalidEvent(String)
        case outsideTimeWindow
        case wrongURL
        case wrongMethod
        case missingPayload
        case wrongPayload
        case replayed

        public var description: String {
            switch self {
            case .missing: "missing Authorization: Nostr header"
            case .malformed: "the Authorization header is not a base64 Nostr event"
            case .wrongKind: "the authorization event is not of kind 27235"
            case .invalidEvent(let reason): "the authorization event is invalid: \(reason)"
            case .outsideTimeWindow: "the authorization event's created_at is more than \(allowedClockSkew) seconds from now"
            case .wrongURL: "the authorization event's u tag is not this URL"
            case .wrongMethod: "the authorization event's method tag is not this request's method"
            case .missingPayload: "the authorization event has no payload tag"
            case .wrongPayload: "the authorization event's payload tag is not the SHA-256 of the body"
            case .replayed: "the authorization event was used before; sign a new one for each request"
            }
        }
    }

    /// The `Authorization` header value for a request (clients, the CLI and tests).
    public static func header(
        signedBy secret: SecretKey, url: String, method: String, body: [UInt8]? = nil,
        createdAt: Int64 = Duration.secondsSinceEpoch
    ) -> String {
        var tags: [Tag] = [["u", url], ["method", method]]
        if let body { tags.append(["payload", sha256Hex(body)]) }
        let event = Event.signed(by: secret, kind: .httpAuth, createdAt: createdAt, tags: tags, content: "")
        return "Nostr " + Data(event.json).base64EncodedString()
    }

    /// Checks `header` in NIP-98's order and returns the verified authorization event.
    /// `urls` are the relay's own URLs (`RelayAddresses`), compared the way `RelayURL`
    /// compares relay URLs; never the URL the request says it reached, which the client
    /// chose. The path of the `u` tag is compared with `path`, the request's own.
    public static func verify(
        _ header: String?, urls: [String], path: String = "/", method: String, body: [UInt8], now: Int64,
        requirePayload: Bool = true
    ) throws(Failure) -> Event {
        guard let header, !header.isEmpty else { throw .missing }
        let parts = header.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2, parts[0].lowercased() == "nostr" else { throw .missing }
        guard let json = base64Decode(String(parts[1]).trimmingCharacters(in: .whitespaces)) else { throw .malformed }
        let event: Event
        do {
            event = try EventDecoder.decode(json: json)
        } catch {
            throw .malformed
        }
        guard event.kind == .httpAuth else { throw .wrongKind }
        guard abs(event.createdAt - now) <= allowedClockSkew else { throw .outsideTimeWindow }
        guard let url = event.tags.firstValue(named: "u"), urls.contains(where: { names($0, url, path: path) }) else {
            throw .wrongURL
        }
        guard event.tags.firstValue(named: "method")?.uppercased() == method.uppercased() else { throw .wrongMethod }
        if let payload = event.tags.firstValue(named: "payload") {
            guard payload.lowercased() == sha256Hex(body) else { throw .wrongPayload }
        } else if requirePayload {
            throw .missingPayload
        }
        // The signature last: it is the one check that costs real work.
        do {
            try event.validate()
        } catch {
            throw .invalidEvent(error.message)
        }
        return event
    }

    /// Whether the `u` tag names `base` (a relay URL, at its root) with the request's path.
    private static func names(_ base: String, _ url: String, path: String) -> Bool {
        let root = RelayURL.normalize(base)
        let target = path.split(separator: "?", maxSplits: 1).first.map(String.init) ?? "/"
        return RelayURL.normalize(url) == RelayURL.normalize(root + (target.hasPrefix("/") ? target : "/" + target))
    }

    static func sha256Hex(_ bytes: [UInt8]) -> String {
        Hex.encode(SHA256.hash(data: bytes))
    }

    /// Standard base64, with or without its `=` padding.
    private static func base64Decode(_ text: String) -> [UInt8]? {
        var padded = text
        while padded.utf8.count % 4 != 0 { padded += "=" }
        return Data(base64Encoded: padded).map(Array.init)
    }
}
