internal import CSecp256k1

/// BIP-340 Schnorr signatures over secp256k1, through Debian's libsecp256k1.
///
/// Verification uses libsecp256k1's static context, which is immutable and so safe to
/// share across threads with no lock. Signing needs a context of its own, made once.
///
/// ```swift
/// let secret = SecretKey(bytes: someThirtyTwoBytes)!
/// let sig = Schnorr.sign(digest: id.raw, with: secret)
/// Schnorr.verify(sig, digest: id.raw, pubkey: secret.publicKey) // true
/// ```
public enum Schnorr {
    /// Verifies `signature` over the 32-byte `digest` for the x-only `pubkey`.
    public static func verify(_ signature: Signature, digest: Bytes32, pubkey: PublicKey) -> Bool {
        guard let key = XOnlyKey(pubkey) else { return false }
        return verify(signature, digest: digest, key: key)
    }

    /// Verifies with an already lifted key (lifting costs about a fifth of a verify, so
    /// callers that see the same author often keep `XOnlyKey`s around).
    public static func verify(_ signature: Signature, digest: Bytes32, key: XOnlyKey) -> Bool {
        var parsed = key.parsed
        return signature.withUnsafeBytes { sigBytes in
            digest.withUnsafeBytes { messageBytes in
                secp256k1_schnorrsig_verify(
                    martlet_secp256k1_static_context(),
                    sigBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    messageBytes.baseAddress!.assumingMemoryBound(to: UInt8.self),
                    32,
                    &parsed
                ) == 1
            }
        }
    }

    /// Signs the 32-byte `digest` with `secret`, using fresh auxiliary randomness.
    public static func sign(digest: Bytes32, with secret: SecretKey) -> Signature {
        var auxiliary = [UInt8](repeating: 0, count: 32)
        var generator = SystemRandomNumberGenerator()
        for index in auxiliary.indices { auxiliary[index] = UInt8.random(in: 0...255, using: &generator) }
        var message = digest.bytes
        var output = [UInt8](repeating: 0, count: 64)
        var keypair = secret.keypair
        let ok = secp256k1_schnorrsig_sign32(SigningContext.shared.pointer, &output, &message, &keypair, &auxiliary)
        precondition(ok == 1, "libsecp256k1 refused to sign with a valid keypair")
        return Signature(bytes: output)!
    }
}

/// A BIP-340 x-only public key lifted onto the curve, ready for verification.
public struct XOnlyKey: @unchecked Sendable {
    // A plain 64-byte C struct; @unchecked because the importer does not mark it Sendable.
    fileprivate var parsed: secp256k1_xonly_pubkey

    /// Lifts `pubkey`; `nil` when it is not the x coordinate of a curve point.
    public init?(_ pubkey: PublicKey) {
        var key = secp256k1_xonly_pubkey()
        let ok = pubkey.raw.withUnsafeBytes { bytes in
            secp256k1_xonly_pubkey_parse(
                martlet_secp256k1_static_context(), &key, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard ok == 1 else { return nil }
        parsed = key
    }
}

/// A secp256k1 secret key, for tests, the CLI and events the relay signs itself.
public struct SecretKey: @unchecked Sendable {
    fileprivate let keypair: secp256k1_keypair
    /// The x-only public key of this secret.
    public let publicKey: PublicKey

    /// `nil` unless `bytes` is 32 bytes forming a valid secret (non-zero, below the order).
    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        var pair = secp256k1_keypair()
        guard secp256k1_keypair_create(SigningContext.shared.pointer, &pair, bytes) == 1 else { return nil }
        var xonly = secp256k1_xonly_pubkey()
        var parity: Int32 = 0
        guard secp256k1_keypair_xonly_pub(martlet_secp256k1_static_context(), &xonly, &parity, &pair) == 1 else { return nil }
        var serialized = [UInt8](repeating: 0, count: 32)
        guard secp256k1_xonly_pubkey_serialize(martlet_secp256k1_static_context(), &serialized, &xonly) == 1,
            let raw = Bytes32(bytes: serialized)
        else { return nil }
        keypair = pair
        publicKey = PublicKey(raw)
    }

    /// Parses 64 lowercase hex digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    /// A fresh random secret key.
    public static func generate() -> SecretKey {
        var generator = SystemRandomNumberGenerator()
        while true {
            let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if let key = SecretKey(bytes: bytes) { return key }
        }
    }
}

/// The one context used for signing and key creation. Signing with libsecp256k1's
/// static context is not allowed, so one context is created and never destroyed.
private final class SigningContext: @unchecked Sendable {
    // Safe to share: after creation it is only read, and libsecp256k1 documents signing
    // with a const context as thread-safe.
    let pointer: OpaquePointer

    static let shared = SigningContext()

    private init() {
        pointer = secp256k1_context_create(UInt32(SECP256K1_CONTEXT_NONE))!
    }
}
