public import Crypto

/// The salt space relays announce themselves in, so that any relay can find others knowing
/// no key but this one: slot `n` is the BEP 44 mutable item under `RelaySlots.key` with salt
/// `nostr:relay:<n>`, at target SHA-1(key + salt).
///
/// The key is the seed's published one (its `HardcodedKey`, "used to make targets
/// predictable"): everyone can sign with it, so a slot's BEP 44 signature proves nothing
/// about who wrote it; each slot's value carries its own relay signature
/// (`RelayAnnouncement`), and a relay takes a slot that is free or holds no valid
/// announcement, and keeps it with compare-and-swap on `seq`.
///
/// ```swift
/// let item = try MutableItem.signed(value: value, sequence: seq, salt: RelaySlots.salt(3), key: RelaySlots.key)
/// RelaySlots.target(3) // SHA-1(6b9f7478... + "nostr:relay:3")
/// ```
public enum RelaySlots {
    /// The ed25519 seed: the first half of the seed's 64-byte `HardcodedKey.PrivKey` (Go's
    /// ed25519 private key is seed followed by public key).
    static let seed: [UInt8] = [
        0x51, 0x8d, 0x31, 0x74, 0x5e, 0x17, 0x14, 0x28, 0xf4, 0xbc, 0x5e, 0x2c, 0x88, 0xae, 0x2f, 0x36,
        0x37, 0x7a, 0xc2, 0xf4, 0xd3, 0xe1, 0x38, 0x68, 0xac, 0xc6, 0x9f, 0x3f, 0x88, 0x99, 0x2b, 0xdb,
    ]

    /// The seed's `HardcodedKey.PubKey`.
    public static let publicKey: [UInt8] = [
        0x6b, 0x9f, 0x74, 0x78, 0x36, 0x89, 0x4f, 0xc2, 0xc6, 0xcd, 0xbe, 0x8d, 0xce, 0x52, 0xc1, 0xaf,
        0xc1, 0xc9, 0x48, 0xb5, 0x72, 0xf0, 0xc6, 0x62, 0x3a, 0x07, 0xcf, 0x77, 0xb5, 0xb8, 0xf8, 0x7f,
    ]

    // The seed is 32 bytes, which is all `rawRepresentation` asks.
    public static let key = try! Curve25519.Signing.PrivateKey(rawRepresentation: seed)

    /// `nostr:relay:<slot>`, the seed's `fmt.Sprintf("nostr:relay:%d", i)`.
    public static func salt(_ slot: Int) -> [UInt8] { Array("nostr:relay:\(slot)".utf8) }
}
