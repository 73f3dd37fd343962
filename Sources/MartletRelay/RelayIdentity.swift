import Foundation
#if canImport(Glibc)
import Glibc
#endif
public import NostrCore

/// The relay's own Nostr key: NIP-11's `self`, and the signer of what the relay publishes
/// about itself (its DHT announcement; later its NIP-29 group events).
///
/// The operator names it (`relay.secret_key`, hex or nsec), or the relay makes one on its
/// first start and keeps it in `relay.key` in its data folder, readable by its owner only.
///
/// ```swift
/// let identity = try RelayIdentity.load(configured: nil, directory: "./data")
/// configuration.info.selfPubkey = identity.publicKey   // NIP-11 "self"
/// let signature = identity.sign(digest: digest)
/// ```
public struct RelayIdentity: Sendable {
    /// The file the generated key is kept in, inside the data folder.
    public static let fileName = "relay.key"

    public let secretKey: SecretKey
    public var publicKey: PublicKey { secretKey.publicKey }

    public init(secretKey: SecretKey) {
        self.secretKey = secretKey
    }

    /// A BIP-340 signature of `digest` by the relay's key.
    public func sign(digest: Bytes32) -> Signature {
        Schnorr.sign(digest: digest, with: secretKey)
    }

    /// The configured key when there is one; else the key in `directory/relay.key`, made
    /// (mode 0600) when the file does not exist yet.
    public static func load(configured: SecretKey?, directory: String) throws -> RelayIdentity {
        if let configured { return RelayIdentity(secretKey: configured) }
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        if FileManager.default.fileExists(atPath: path) {
            let text = try String(contentsOfFile: path, encoding: .utf8)
            guard let key = SecretKey(hexOrNsec: text) else { throw RelayIdentityError.unreadable(path) }
            return RelayIdentity(secretKey: key)
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var generator = SystemRandomNumberGenerator()
        var bytes: [UInt8]
        var key: SecretKey?
        repeat {
            bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            key = SecretKey(bytes: bytes)
        } while key == nil
        try writeNew(path: path, text: Hex.encode(bytes) + "\n")
        return RelayIdentity(secretKey: key!)
    }

    /// Creates `path` with mode 0600 from the start (O_EXCL: never over an existing file), so
    /// the secret is not readable by others even for a moment.
    private static func writeNew(path: String, text: String) throws {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard descriptor >= 0 else { throw RelayIdentityError.unwritable(path) }
        defer { close(descriptor) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else { throw RelayIdentityError.unwritable(path) }
    }
}

/// Why the relay's key could not be had.
public enum RelayIdentityError: Error, CustomStringConvertible {
    case unreadable(String)
    case unwritable(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "\(path) does not hold a secret key (64 hex characters or nsec1...)"
        case .unwritable(let path): "could not create \(path) for the relay's key"
        }
    }
}
