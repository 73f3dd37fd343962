import Crypto
import Foundation
public import NostrCore

/// What a relay says about itself in its DHT slot: its URL, its key (NIP-11's `self`), the
/// NIPs it supports and when it said so, signed with that key (BIP-340).
///
/// The item's `v` is a bencoded byte string holding this JSON object, as the seed stores a
/// NIP-11 document (keys sorted):
///
/// ```json
/// {"created_at":1764700000,"self":"<64 hex>","sig":"<128 hex>","supported_nips":[1,11,77],"url":"wss://relay.example"}
/// ```
///
/// `sig` signs SHA-256 of `signedBytes`: "nostr:relay:announce", 0x00, the URL's UTF-8,
/// 0x00, the 32 key bytes, `created_at` as 8 bytes big-endian, then each NIP (ascending) as 4
/// bytes big-endian. Readers accept an announcement only with a valid signature and a
/// `created_at` neither in the future nor older than `maxAge`, so a slot replayed by
/// anyone holding the shared slot key goes stale on its own.
///
/// ```swift
/// let mine = RelayAnnouncement.signed(url: "wss://relay.example", supportedNIPs: [1, 77], createdAt: now, by: identity)
/// let theirs = try RelayAnnouncement.decode(bytes)
/// theirs.isValid(now: now, maxAge: 3 * 3600)
/// ```
public struct RelayAnnouncement: Sendable, Equatable {
    /// URLs longer than this are refused: a slot's whole value is at most 1,000 bytes.
    public static let maxURLLength = 256
    public static let maxNIPs = 64
    /// Seconds a `created_at` may be ahead of the reader's clock.
    public static let clockSkew: Int64 = 600

    public let url: String
    public let relayKey: PublicKey
    public let supportedNIPs: [Int]
    public let createdAt: Int64
    public let signature: Signature

    public init(url: String, relayKey: PublicKey, supportedNIPs: [Int], createdAt: Int64, signature: Signature) {
        self.url = url
        self.relayKey = relayKey
        self.supportedNIPs = supportedNIPs.sorted()
        self.createdAt = createdAt
        self.signature = signature
    }

    /// An announcement signed by the relay's key.
    public static func signed(url: String, supportedNIPs: [Int], createdAt: Int64, by secret: SecretKey)
        -> RelayAnnouncement
    {
        let nips = Array(Set(supportedNIPs.filter { (0...65_535).contains($0) })).sorted()
        let digest = Self.digest(url: url, relayKey: secret.publicKey, supportedNIPs: nips, createdAt: createdAt)
        return RelayAnnouncement(
            url: url, relayKey: secret.publicKey, supportedNIPs: nips, createdAt: createdAt,
            signature: Schnorr.sign(digest: digest, with: secret))
    }

    /// The bytes the signature covers (see the type's documentation).
    public static func signedBytes(url: String, relayKey: PublicKey, supportedNIPs: [Int], createdAt: Int64) -> [UInt8] {
        var bytes = Array("nostr:relay:announce".utf8)
        bytes.append(0)
        bytes += Array(url.utf8)
        bytes.append(0)
        bytes += relayKey.raw.bytes
        withUnsafeBytes(of: UInt64(bitPattern: createdAt).bigEndian) { bytes += $0 }
        for nip in supportedNIPs.sorted() {
            withUnsafeBytes(of: UInt32(truncatingIfNeeded: nip).bigEndian) { bytes += $0 }
        }
        return bytes
    }

    static func digest(url: String, relayKey: PublicKey, supportedNIPs: [Int], createdAt: Int64) -> Bytes32 {
        let bytes = signedBytes(url: url, relayKey: relayKey, supportedNIPs: supportedNIPs, createdAt: createdAt)
        return Bytes32(bytes: Array(SHA256.hash(data: bytes)))!
    }

    /// Signed by `relayKey`, for a ws(s) URL, and said between `maxAge` seconds ago and now.
    public func isValid(now: Int64, maxAge: Int64) -> Bool {
        guard Self.isRelayURL(url), createdAt <= now + Self.clockSkew, createdAt >= now - maxAge else { return false }
        let digest = Self.digest(url: url, relayKey: relayKey, supportedNIPs: supportedNIPs, createdAt: createdAt)
        return Schnorr.verify(signature, digest: digest, pubkey: relayKey)
    }

    static func isRelayURL(_ url: String) -> Bool {
        (url.hasPrefix("ws://") || url.hasPrefix("wss://")) && url.utf8.count > 6
            && url.utf8.count <= maxURLLength && !url.contains(where: { $0.isWhitespace })
    }

    /// The JSON object stored in the slot.
    public func json() -> [UInt8] {
        let object: [String: Any] = [
            "created_at": createdAt, "self": relayKey.hex, "sig": signature.hex, "supported_nips": supportedNIPs,
            "url": url,
        ]
        let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        return data.map(Array.init) ?? []
    }

    /// Reads a slot's JSON; any missing or ill-typed field is an error. The signature is not
    /// checked here (`isValid` does).
    public static func decode(_ bytes: [UInt8]) throws(AnnouncementError) -> RelayAnnouncement {
        guard bytes.count <= 1000,
            let object = (try? JSONSerialization.jsonObject(with: Data(bytes))) as? [String: Any]
        else { throw AnnouncementError("not a JSON object of at most 1000 bytes") }
        guard let url = object["url"] as? String, isRelayURL(url) else { throw AnnouncementError("no ws:// or wss:// url") }
        guard let key = (object["self"] as? String).flatMap(PublicKey.init(hex:)) else {
            throw AnnouncementError("no 64-hex self")
        }
        guard let signature = (object["sig"] as? String).flatMap(Signature.init(hex:)) else {
            throw AnnouncementError("no 128-hex sig")
        }
        guard let createdAt = (object["created_at"] as? NSNumber).map({ $0.int64Value }) else {
            throw AnnouncementError("no created_at")
        }
        guard let nips = object["supported_nips"] as? [Int], nips.count <= maxNIPs,
            nips.allSatisfy({ (0...65_535).contains($0) })
        else { throw AnnouncementError("supported_nips is not a list of at most \(maxNIPs) NIP numbers") }
        return RelayAnnouncement(
            url: url, relayKey: key, supportedNIPs: nips, createdAt: createdAt, signature: signature)
    }
}

/// Why a slot's value is not an announcement.
public struct AnnouncementError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
