import Crypto
public import NostrCore

/// An ed25519 public key on the axon allowlist: what a connection authenticates as.
///
/// It is not an event author: events are NIP-01 events signed with BIP-340 secp256k1 keys.
/// The ed25519 key admits a connection; the events it publishes may be anyone's.
public struct AxonAuthKey: Hashable, Sendable, CustomStringConvertible {
    public let raw: Bytes32

    public init?(bytes: [UInt8]) {
        guard let raw = Bytes32(bytes: bytes) else { return nil }
        self.raw = raw
    }

    /// 64 hex digits, as the configuration and NIP-86 write them.
    public init?(hex: String) {
        guard let raw = Bytes32(hex: hex.lowercased()) else { return nil }
        self.raw = raw
    }

    public var bytes: [UInt8] { raw.bytes }
    public var hex: String { raw.hex }
    public var description: String { hex }
}

/// The seed's handshake: `sig = ed25519.Sign(privkey, SHA256(nonce || relay_url))`.
public enum AxonAuthentication {
    /// The 32 bytes that are signed: SHA-256 of the nonce followed by the URL's UTF-8.
    public static func signedMessage(nonce: [UInt8], relayURL: String) -> [UInt8] {
        var hasher = SHA256()
        hasher.update(data: nonce)
        hasher.update(data: Array(relayURL.utf8))
        return Array(hasher.finalize())
    }

    /// Whether `signature` is `key`'s over the nonce and one of `relayURLs`.
    public static func verify(
        _ signature: [UInt8], by key: AxonAuthKey, nonce: [UInt8], relayURLs: [String]
    ) -> Bool {
        guard let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: key.bytes) else { return false }
        return relayURLs.contains { url in
            publicKey.isValidSignature(signature, for: signedMessage(nonce: nonce, relayURL: url))
        }
    }

    /// Signs the handshake with a 32-byte ed25519 private key (the bench's client, tests).
    public static func sign(nonce: [UInt8], relayURL: String, privateKey: [UInt8]) throws -> [UInt8] {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)
        return Array(try key.signature(for: signedMessage(nonce: nonce, relayURL: relayURL)))
    }

    /// The public key of a 32-byte ed25519 private key.
    public static func publicKey(of privateKey: [UInt8]) throws -> AxonAuthKey {
        let key = try Curve25519.Signing.PrivateKey(rawRepresentation: privateKey)
        return AxonAuthKey(bytes: Array(key.publicKey.rawRepresentation))!
    }
}
