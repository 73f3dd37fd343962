import NostrCore
import Testing

@Suite("canonical JSON round trips")
struct RoundTripTests {
    static let pubkey = "79be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798"
    static let id = "5c83da77af1dec6d7289834998ad7aafbd9e2191396d75ec3cc27f5a77226f36"
    static let sig = String(repeating: "ab", count: 64)

    static func canonical(content: String, tags: String = "[]", kind: Int = 1) -> String {
        #"{"id":"\#(id)","pubkey":"\#(pubkey)","created_at":1700000000,"kind":\#(kind),"tags":\#(tags),"content":\#(content),"sig":"\#(sig)"}"#
    }

    /// Canonical spellings: the seven NIP-01 escapes, `\u00XX` (lower-case hex) for the other
    /// controls, everything else verbatim.
    static let canonicalContents: [String] = [
        #""""#,
        #""plain""#,
        #""gm 🤙 ☕️ 🏳️‍🌈""#,
        #""𝄞𐍈🀄😀""#,
        #""a\nb\"c\\d\re\tf\bg\fh""#,
        #""\u0000\u0001\u0002\u000b\u000e\u001b\u001f""#,
        #""mixed \u0001 é 😀 \n end""#,
        #""del \#u{7F} and c1 \#u{85} verbatim""#,
        #""line sep \#u{2028} para sep \#u{2029}""#,
        #""</script> / \\u0041""#,
        #""\#u{FFFD} is not special, neither is \#u{FEFF}""#,
    ]

    @Test("serialize(parse(x)) is x, byte for byte, for canonical events", arguments: canonicalContents)
    func byteExact(_ content: String) throws {
        let text = Self.canonical(content: content, tags: #"[["t",\#(content)],["e","\#(Self.id)","wss://r"]]"#)
        let event = try EventDecoder.decode(json: text.bytes)
        #expect(event.jsonString == text)
        #expect(event.json == text.bytes)
    }

    @Test("an event read back from a store keeps the stored bytes and decodes to the same fields", arguments: canonicalContents)
    func storedJSON(_ content: String) throws {
        let text = Self.canonical(content: content, tags: #"[["t",\#(content)],["p","\#(Self.pubkey)"]]"#, kind: 7)
        let parsed = try EventDecoder.decode(json: text.bytes)
        let stored = try EventDecoder.decode(storedJSON: parsed.json)
        #expect(stored.json == parsed.json)
        #expect(stored.id == parsed.id && stored.pubkey == parsed.pubkey && stored.sig == parsed.sig)
        #expect(stored.kind == parsed.kind && stored.createdAt == parsed.createdAt)
        #expect(stored.tags == parsed.tags && stored.content == parsed.content)
        #expect(throws: WireError.self) { try EventDecoder.decode(storedJSON: Array(parsed.json.dropLast())) }
    }

    @Test("other control characters are \\u00XX both in the JSON and in the id preimage, as clients hash them")
    func controlsInJSONAndPreimage() throws {
        let event = try EventDecoder.decode(json: Self.canonical(content: #""a\u0001b\u001fc\nd\#u{7F}""#).bytes)
        #expect(Array(event.content.utf8) == [0x61, 0x01, 0x62, 0x1f, 0x63, 0x0a, 0x64, 0x7f])
        let preimage = EventSerializer.idPreimage(
            pubkey: event.pubkey, createdAt: event.createdAt, kind: event.kind, tags: event.tags, content: event.content)
        let expected = Array(#"[0,"\#(Self.pubkey)",1700000000,1,[],"a\u0001b\u001fc\nd\#u{7F}"]"#.utf8)
        #expect(preimage == expected)
    }

    @Test("escapes NIP-01 does not name decode to the same string and re-encode canonically")
    func nonCanonicalEscapes() throws {
        let pairs: [(String, String)] = [
            (#""\/""#, #""/""#),
            (#""\u0041\u00e9\u20ac""#, #""Aé€""#),
            (#""\uD83D\uDE00""#, #""😀""#),
            (#""\ud83d\ude00""#, #""😀""#),
            (#""\u000A\u0022\u005C\u000D\u0009\u0008\u000C""#, #""\n\"\\\r\t\b\f""#),
            (#""\u001F\u007f""#, "\"\\u001f\u{7F}\""),
        ]
        for (input, canonical) in pairs {
            let event = try EventDecoder.decode(json: Self.canonical(content: input).bytes)
            #expect(event.jsonString == Self.canonical(content: canonical), "\(input)")
        }
    }

    @Test("whitespace, member order and unknown members do not change the canonical JSON")
    func whitespaceAndOrder() throws {
        let text = """
            {
              "sig": "\(Self.sig)", "content": "x", "tags": [ [ "t" , "a" ] ],
              "kind": 1, "created_at": 1700000000, "unknown": {"nested": [1, 2.5e3, true, null]},
              "pubkey": "\(Self.pubkey)", "id": "\(Self.id)"
            }
            """
        let event = try EventDecoder.decode(json: text.bytes)
        #expect(event.jsonString == Self.canonical(content: #""x""#, tags: #"[["t","a"]]"#))
    }

    @Test("an event made from fields encodes to JSON that decodes to the same event")
    func fromFields() throws {
        let secret = try #require(SecretKey(hex: Fixture.plain.secret))
        let content = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self) + "😀𝄞"
        let event = Event.signed(
            by: secret, kind: 30023, createdAt: 42, tags: [["d", "x\u{0}y"], ["title", "\"q\""]], content: content)
        let decoded = try EventDecoder.decode(json: event.json)
        #expect(decoded == event)
        #expect(decoded.content.utf8.elementsEqual(content.utf8))
        #expect(throws: Never.self) { try decoded.validate() }
    }

    @Test("integers are written in plain decimal", arguments: [
        (Int64(0), "0"), (1, "1"), (-1, "-1"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (-100, "-100"),
        (1_700_000_000, "1700000000"), (999_999_999_999_999_999, "999999999999999999"),
        (1_000_000_000_000_000_000, "1000000000000000000"),
        (9_007_199_254_740_991, "9007199254740991"), (Int64.max, "9223372036854775807"),
        (Int64.min, "-9223372036854775808"),
    ])
    func integers(_ value: Int64, _ text: String) {
        var out = [UInt8]()
        EventSerializer.appendInteger(value, to: &out)
        #expect(out == text.bytes)
    }
}

@Suite("hex fields are JSON strings")
struct HexSpellingTests {
    @Test("an id, pubkey or sig spelled with \\u escapes is the same lowercase hex string once decoded")
    func escapedHexDigits() throws {
        let vector = Fixture.plain
        func escapeFirst(_ hex: String) -> String {
            let first = hex.unicodeScalars.first!.value
            return "\"\\u00" + String(first, radix: 16) + hex.dropFirst() + "\""
        }
        let members = EventMembers()
            .replacing("id", with: escapeFirst(vector.id))
            .replacing("pubkey", with: escapeFirst(vector.pubkey))
            .replacing("sig", with: escapeFirst(vector.sig))
        let event = try EventDecoder.decode(json: members.object.bytes)
        #expect(event.json == vector.jsonBytes)
        let filter = try Filter.decode(json: #"{"ids":[\#(escapeFirst(vector.id))],"authors":[\#(escapeFirst(vector.pubkey))]}"#.bytes)
        #expect(filter.matches(event))
        // Escaped or not, upper case is still refused.
        let upper = "\"\\u0041" + vector.id.dropFirst() + "\""
        #expect(throws: WireError(.badHex, #"invalid: "id" must be lowercase hex"#, at: 7)) {
            try EventDecoder.decode(json: EventMembers().replacing("id", with: upper).object.bytes)
        }
    }
}
