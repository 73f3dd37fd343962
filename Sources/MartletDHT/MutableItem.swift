public import Crypto

/// A stored BEP 44 item: immutable (addressed by the hash of its value) or mutable
/// (addressed by its signer's key and salt).
public enum DHTItem: Sendable, Equatable {
    case immutable(Bencode)
    case mutable(MutableItem)

    /// Where the item lives in the DHT.
    public var target: NodeID {
        switch self {
        case .immutable(let value): BEP44.immutableTarget(value)
        case .mutable(let item): item.target
        }
    }

    public var value: Bencode {
        switch self {
        case .immutable(let value): value
        case .mutable(let item): item.value
        }
    }
}

/// A BEP 44 mutable item: a value signed with an ed25519 key, versioned by `seq`.
///
///     let key = Curve25519.Signing.PrivateKey()
///     let item = try MutableItem.signed(value: .string("wss://relay.example"), sequence: 1, salt: [], key: key)
///     item.isSignatureValid          // true
///     item.target                    // SHA-1(public key + salt)
public struct MutableItem: Sendable, Equatable {
    public let publicKey: [UInt8]
    public let salt: [UInt8]
    public let sequence: Int64
    public let value: Bencode
    public let signature: [UInt8]

    public init(publicKey: [UInt8], salt: [UInt8], sequence: Int64, value: Bencode, signature: [UInt8]) {
        self.publicKey = publicKey
        self.salt = salt
        self.sequence = sequence
        self.value = value
        self.signature = signature
    }

    /// Signs `value` as BEP 44 says: over `4:salt<len>:<salt>3:seqi<seq>e1:v<bencoded v>`.
    public static func signed(
        value: Bencode, sequence: Int64, salt: [UInt8] = [], key: Curve25519.Signing.PrivateKey
    ) throws -> MutableItem {
        let buffer = BEP44.signedBuffer(salt: salt, sequence: sequence, encodedValue: value.encoded())
        let signature = try key.signature(for: buffer)
        return MutableItem(
            publicKey: Array(key.publicKey.rawRepresentation), salt: salt, sequence: sequence, value: value,
            signature: Array(signature))
    }

    public var target: NodeID { BEP44.mutableTarget(publicKey: publicKey, salt: salt) }

    public var isSignatureValid: Bool {
        guard let key = try? Curve25519.Signing.PublicKey(rawRepresentation: publicKey) else { return false }
        let buffer = BEP44.signedBuffer(salt: salt, sequence: sequence, encodedValue: value.encoded())
        return key.isValidSignature(signature, for: buffer)
    }
}

/// BEP 44's derivations and limits.
public enum BEP44 {
    /// "the bencoded form of v must be less than or equal to 1000 bytes".
    public static let maxValueSize = 1000
    /// "The salt ... is limited to 64 bytes".
    public static let maxSaltSize = 64

    /// The bytes an ed25519 signature covers; the salt part only when the salt is not empty.
    public static func signedBuffer(salt: [UInt8], sequence: Int64, encodedValue: [UInt8]) -> [UInt8] {
        var buffer: [UInt8] = []
        if !salt.isEmpty {
            buffer += Array("4:salt".utf8)
            Bencode.appendString(salt, to: &buffer)
        }
        buffer += Array("3:seqi\(sequence)e1:v".utf8)
        buffer += encodedValue
        return buffer
    }

    /// SHA-1(public key + salt).
    public static func mutableTarget(publicKey: [UInt8], salt: [UInt8]) -> NodeID {
        NodeID(Array(Insecure.SHA1.hash(data: publicKey + salt)))!
    }

    /// SHA-1 of the bencoded value.
    public static func immutableTarget(_ value: Bencode) -> NodeID {
        NodeID(Array(Insecure.SHA1.hash(data: value.encoded())))!
    }
}
