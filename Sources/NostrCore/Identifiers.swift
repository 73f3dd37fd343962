/// An event id: the SHA-256 of the event's NIP-01 serialization.
///
/// ```swift
/// let id = EventID(hex: "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36")
/// ```
public struct EventID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Bytes32

    @inlinable public init(_ raw: Bytes32) { self.raw = raw }
    public init?(hex: String) {
        guard let raw = Bytes32(hex: hex) else { return nil }
        self.raw = raw
    }

    public var hex: String { raw.hex }
    public var description: String { raw.hex }
    @inlinable public static func < (lhs: EventID, rhs: EventID) -> Bool { lhs.raw < rhs.raw }
}

/// An x-only secp256k1 public key (BIP-340), the author of an event.
///
/// ```swift
/// let key = PublicKey(hex: "f7234bd4c1394dda46d09f35bd384dd30cc552ad5541990f98844fb06676e9ca")
/// ```
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var raw: Bytes32

    @inlinable public init(_ raw: Bytes32) { self.raw = raw }
    public init?(hex: String) {
        guard let raw = Bytes32(hex: hex) else { return nil }
        self.raw = raw
    }

    public var hex: String { raw.hex }
    public var description: String { raw.hex }
    @inlinable public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool { lhs.raw < rhs.raw }
}

/// A 64-byte BIP-340 Schnorr signature.
public struct Signature: Hashable, Sendable, CustomStringConvertible {
    public var r: Bytes32
    public var s: Bytes32

    @inlinable public init(r: Bytes32, s: Bytes32) {
        self.r = r
        self.s = s
    }

    /// Reads 64 bytes; `nil` unless exactly 64.
    public init?(bytes: [UInt8]) {
        guard bytes.count == 64,
            let r = Bytes32(bytes: Array(bytes[0..<32])),
            let s = Bytes32(bytes: Array(bytes[32..<64]))
        else { return nil }
        self.init(r: r, s: s)
    }

    /// Parses 128 lowercase hex digits.
    public init?(hex: String) {
        guard let bytes = Hex.decode(hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var bytes: [UInt8] { r.bytes + s.bytes }

    /// Calls `body` with the 64 bytes, `r` then `s`, from the stack: the one spelling the
    /// verifier and the stores read.
    @inlinable
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var big = (
            r.w0.bigEndian, r.w1.bigEndian, r.w2.bigEndian, r.w3.bigEndian,
            s.w0.bigEndian, s.w1.bigEndian, s.w2.bigEndian, s.w3.bigEndian
        )
        return try Swift.withUnsafeBytes(of: &big) { try body($0) }
    }

    @inlinable
    public func appendHex(to output: inout [UInt8]) {
        r.appendHex(to: &output)
        s.appendHex(to: &output)
    }

    public var hex: String { r.hex + s.hex }
    public var description: String { hex }
}

/// A subscription id chosen by a client: a non-empty string of at most 64 characters (NIP-01).
public struct SubscriptionID: Hashable, Sendable, CustomStringConvertible {
    public var value: String

    public init(_ value: String) { self.value = value }
    public var description: String { value }
}
