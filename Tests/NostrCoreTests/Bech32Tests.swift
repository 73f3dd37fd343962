import NostrCore
import Testing

/// BIP-173's own test vectors, and NIP-19's key examples.
@Suite("Bech32 and NIP-19 keys")
struct Bech32Tests {
    @Test(
        "BIP-173: valid Bech32 strings decode",
        arguments: [
            "A12UEL5L", "a12uel5l",
            "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
            "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
            "11" + String(repeating: "q", count: 82) + "c8247j",
            "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w", "?1ezyfcl",
        ])
    func validStrings(text: String) throws {
        let (prefix, _) = try Bech32.decodeGroups(text)
        #expect(prefix == String(text[..<text.lastIndex(of: "1")!]).lowercased())
    }

    @Test(
        "BIP-173: invalid Bech32 strings are refused",
        arguments: [
            "\u{20}1nwldj5", "\u{7F}1axkwrx", "\u{80}1eym55h",
            "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",
            "pzry9x0s0muk", "1pzry9x0s0muk", "x1b4n0q5v", "li1dgmt3", "de1lg7wt\u{FF}", "A1G7SGD8", "10a06t8",
            "1qzzfhee",
        ])
    func invalidStrings(text: String) {
        #expect(throws: Bech32.DecodingError.self) { try Bech32.decodeGroups(text) }
    }

    @Test("NIP-19: npub and nsec decode to the hex keys and encode back")
    func nip19Keys() throws {
        let npub = "npub10elfcs4fr0l0r8af98jlmgdh9c8tcxjvz9qkw038js35mp4dma8qzvjptg"
        let pubkey = try #require(PublicKey(hexOrNpub: npub))
        #expect(pubkey.hex == "7e7e9c42a91bfef19fa929e5fda1b72e0ebc1a4c1141673e2794234d86addf4e")
        #expect(pubkey.npub == npub)
        #expect(PublicKey(hexOrNpub: pubkey.hex) == pubkey)
        let nsec = "nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5"
        let secret = try #require(SecretKey(hexOrNsec: nsec))
        let sameSecret = try #require(
            SecretKey(hexOrNsec: "67dea2ed018072d675f5415ecfaed7d2597555e202d85b3d65ea4e58d2d92ffa"))
        #expect(secret.publicKey == sameSecret.publicKey)
        #expect(PublicKey(hexOrNpub: nsec) == nil, "an nsec is not a public key")
        #expect(SecretKey(hexOrNsec: npub) == nil)
    }
}
