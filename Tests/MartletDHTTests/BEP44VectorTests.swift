import Crypto
import MartletDHT
import Testing

/// BEP 44's "Test vectors" section. Its private key is given in the 64-byte expanded
/// (SHA-512, clamped) form that libtorrent's ed25519 uses, from which swift-crypto cannot sign;
/// ed25519 signatures are deterministic, so verifying the BEP's exact signature over our
/// buffer, byte for byte, checks the same thing. Signing is checked against libtorrent in
/// `LibtorrentInteropTests`.
@Suite("BEP 44 test vectors")
struct BEP44VectorTests {
    static let publicKey = DHTHex.decode("77ff84905a91936367c01360803104f92432fcd904a43511876df5cdf3e7e548")!
    static let value = Bencode.string("Hello World!")

    @Test("test 1 (mutable): buffer, target and signature")
    func mutableWithoutSalt() throws {
        let buffer = BEP44.signedBuffer(salt: [], sequence: 1, encodedValue: Self.value.encoded())
        #expect(String(decoding: buffer, as: UTF8.self) == "3:seqi1e1:v12:Hello World!")
        #expect(DHTHex.encode(BEP44.mutableTarget(publicKey: Self.publicKey, salt: []).bytes)
            == "4a533d47ec9c7d95b1ad75f576cffc641853b750")
        let signature = DHTHex.decode(
            "305ac8aeb6c9c151fa120f120ea2cfb923564e11552d06a5d856091e5e853cff"
                + "1260d3f39e4999684aa92eb73ffd136e6f4f3ecbfda0ce53a1608ecd7ae21f01")!
        let item = MutableItem(publicKey: Self.publicKey, salt: [], sequence: 1, value: Self.value, signature: signature)
        #expect(item.isSignatureValid)
        #expect(!MutableItem(publicKey: Self.publicKey, salt: [], sequence: 2, value: Self.value, signature: signature)
            .isSignatureValid)
    }

    @Test("test 2 (mutable with salt \"foobar\"): buffer, target and signature")
    func mutableWithSalt() throws {
        let salt = Array("foobar".utf8)
        let buffer = BEP44.signedBuffer(salt: salt, sequence: 1, encodedValue: Self.value.encoded())
        #expect(String(decoding: buffer, as: UTF8.self) == "4:salt6:foobar3:seqi1e1:v12:Hello World!")
        #expect(DHTHex.encode(BEP44.mutableTarget(publicKey: Self.publicKey, salt: salt).bytes)
            == "411eba73b6f087ca51a3795d9c8c938d365e32c1")
        let signature = DHTHex.decode(
            "6834284b6b24c3204eb2fea824d82f88883a3d95e8b4a21b8c0ded553d17d17d"
                + "df9a8a7104b1258f30bed3787e6cb896fca78c58f8e03b5f18f14951a87d9a08")!
        let item = MutableItem(publicKey: Self.publicKey, salt: salt, sequence: 1, value: Self.value, signature: signature)
        #expect(item.isSignatureValid)
        #expect(!MutableItem(publicKey: Self.publicKey, salt: [], sequence: 1, value: Self.value, signature: signature)
            .isSignatureValid)
    }

    @Test("test 3 (immutable): target is SHA-1 of the bencoded value")
    func immutable() {
        #expect(DHTHex.encode(BEP44.immutableTarget(Self.value).bytes) == "e5f96f6f38320f0f33959cb4d3d656452117aadb")
    }

    @Test("an item Martlet signs verifies, and fails once its value changes")
    func signAndVerify() throws {
        let key = Curve25519.Signing.PrivateKey()
        let item = try MutableItem.signed(value: .string("wss://relay.example"), sequence: 7, salt: [1, 2], key: key)
        #expect(item.isSignatureValid)
        #expect(item.target == BEP44.mutableTarget(publicKey: Array(key.publicKey.rawRepresentation), salt: [1, 2]))
        let forged = MutableItem(
            publicKey: item.publicKey, salt: item.salt, sequence: 7, value: .string("wss://evil.example"),
            signature: item.signature)
        #expect(!forged.isSignatureValid)
    }
}
