import Crypto
import NIOCore

/// BEP 5 tokens: a keyed hash of the asker's IP under a secret that rotates every five
/// minutes; tokens from the current and the previous secret are accepted ("up to ten minutes").
///
///     let token = issuer.token(for: endpoint, now: .now())
///     issuer.isValid(token, for: endpoint, now: .now())   // true for 5-10 minutes
struct TokenIssuer: Sendable {
    static let rotation = TimeAmount.minutes(5)
    private var current = SymmetricKey(size: .bits128)
    private var previous = SymmetricKey(size: .bits128)
    private var rotatedAt: NIODeadline

    init(now: NIODeadline) { rotatedAt = now }

    mutating func token(for endpoint: IPv4Endpoint, now: NIODeadline) -> [UInt8] {
        rotateIfDue(now: now)
        return Self.token(endpoint, key: current)
    }

    mutating func isValid(_ token: [UInt8], for endpoint: IPv4Endpoint, now: NIODeadline) -> Bool {
        rotateIfDue(now: now)
        return token == Self.token(endpoint, key: current) || token == Self.token(endpoint, key: previous)
    }

    private mutating func rotateIfDue(now: NIODeadline) {
        guard now - rotatedAt >= Self.rotation else { return }
        previous = now - rotatedAt >= Self.rotation * 2 ? SymmetricKey(size: .bits128) : current
        current = SymmetricKey(size: .bits128)
        rotatedAt = now
    }

    /// Bound to the IP only, not the port: BEP 5 ties a token to "the IP address of the requesting node".
    private static func token(_ endpoint: IPv4Endpoint, key: SymmetricKey) -> [UInt8] {
        Array(HMAC<SHA256>.authenticationCode(for: endpoint.octets, using: key).prefix(8))
    }
}
