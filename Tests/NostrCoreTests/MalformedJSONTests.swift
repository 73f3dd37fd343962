import NostrCore
import Testing

/// Input that is not one well-formed JSON text is refused with a `WireError` whose reason is
/// fit to send back (NIP-01's `invalid:` prefix and a human-readable message).
@Suite("malformed JSON is refused with invalid:")
struct MalformedJSONTests {
    let event = EventMembers()

    @Test("every WireError code is reachable, and its reason carries NIP-01's invalid: prefix")
    func everyCode() {
        let samples: [WireError.Code: [UInt8]] = [
            .notJSON: "x".bytes,
            .truncated: "[".bytes,
            .trailingData: #"["CLOSE","s"]x"#.bytes,
            .wrongArity: "[]".bytes,
            .wrongType: "1".bytes,
            .unknownMessage: #"["X"]"#.bytes,
            .missingField: event.removing("sig").eventMessage.bytes,
            .duplicateField: event.adding("kind", "1").eventMessage.bytes,
            .badHex: event.replacing("id", with: #""00""#).eventMessage.bytes,
            .notInteger: event.replacing("kind", with: "1.0").eventMessage.bytes,
            .outOfRange: event.replacing("kind", with: "65536").eventMessage.bytes,
            .tooDeep: event.adding("x", String(repeating: "[", count: 20)).eventMessage.bytes,
            .invalidUTF8: #"[""#.bytes + [0xff] + #""]"#.bytes,
            .loneSurrogate: #"["CLOSE","\ud800"]"#.bytes,
            .tooLarge: [UInt8](repeating: 0x20, count: ClientMessage.defaultMaxLength + 1),
            .invalidValue: #"["CLOSE",""]"#.bytes,
        ]
        #expect(Set(samples.keys) == Set(WireError.Code.allCases))
        for (code, input) in samples {
            do {
                _ = try ClientMessage.decode(input)
                Issue.record("\(code) sample accepted")
            } catch {
                #expect(error.code == code)
                #expect(error.reason.hasPrefix("invalid: ") && error.reason.count > "invalid: ".count, "\(error)")
            }
        }
    }

    // MARK: Not JSON

    @Test("input that is not JSON is refused as not-json", arguments: [
        ("hello", "invalid: not valid JSON"),
        (#"["EVENT" {}]"#, "invalid: expected ',' or ']' in an array"),
        (#"["CLOSE",'s']"#, "invalid: not valid JSON"),
        (#"["CLOSE",s]"#, "invalid: not valid JSON"),
        (#"["REQ","s",{kinds:[1]}]"#, "invalid: expected a quoted key in an object"),
        (#"["REQ","s",{"kinds" [1]}]"#, "invalid: expected ':' after a key"),
        (#"["REQ","s",{"kinds":[1],}]"#, "invalid: expected a quoted key in an object"),
        (#"["REQ","s",{"kinds":[1,]}]"#, "invalid: trailing comma in an array"),
        (#"["REQ","s",{"kinds":[1 2]}]"#, "invalid: expected ',' or ']' in an array"),
        (#"["REQ","s",{"kinds":[1]} {}]"#, "invalid: expected ',' or ']' in an array"),
        (#"["REQ","s",{"kinds":[1]}"kinds"]"#, "invalid: expected ',' or ']' in an array"),
        (#"["REQ","s",{"x":tru}]"#, "invalid: not valid JSON"),
        (#"["REQ","s",{"x":nul}]"#, "invalid: not valid JSON"),
        (#"["REQ","s",{"x":-}]"#, "invalid: not valid JSON"),
        (#"["REQ","s",{"x":.5}]"#, "invalid: not valid JSON"),
        (#"["REQ","s",{"x":1.}]"#, "invalid: malformed number"),
        (#"["REQ","s",{"x":1e}]"#, "invalid: malformed number"),
        (#"["REQ","s",{"x":01}]"#, "invalid: number with a leading zero"),
        (#"["REQ","s",{"x":NaN}]"#, "invalid: not valid JSON"),
        (#"["CLOSE","a\x"]"#, "invalid: unknown escape in a string"),
        (#"["CLOSE","a\'"]"#, "invalid: unknown escape in a string"),
        (#"["CLOSE","\u12g4"]"#, #"invalid: bad \u escape in a string"#),
        ("[\"CLOSE\",\"a\tb\"]", "invalid: unescaped control character in a string"),
        ("[\"CLOSE\",\"a\\nb\nc\"]", "invalid: unescaped control character in a string"),
        ("[\"CLOSE\",\"a\u{0}b\"]", "invalid: unescaped control character in a string"),
    ])
    func notJSON(_ input: String, _ reason: String) {
        expectRefused(input, .notJSON, reason)
    }

    @Test("a byte that starts no JSON value is refused as not-json")
    func strayBytes() {
        expectRefused([0xff], .notJSON, "invalid: not valid JSON")
        expectRefused([0xef, 0xbb, 0xbf] + #"["CLOSE","s"]"#.bytes, .notJSON, "invalid: not valid JSON")
        expectRefused(#"["CLOSE","s"#.bytes + [0x22, 0x80, 0x5d], .notJSON, "invalid: expected ',' or ']' in an array")
    }

    @Test("a message that is JSON but not an array is refused as wrong-type", arguments: [
        #"{"EVENT":{}}"#, #""EVENT""#, "1", "true", "null",
    ])
    func notAnArray(_ input: String) {
        expectRefused(input, .wrongType, #"invalid: "message" must be an array"#)
    }

    // MARK: Truncated

    @Test("input that stops early is refused as truncated", arguments: [
        ("", "invalid: message ends too early"),
        ("  \n", "invalid: message ends too early"),
        ("[", "invalid: message ends too early"),
        (#"["CLOSE""#, "invalid: message ends too early"),
        (#"["CLOSE","#, "invalid: message ends too early"),
        (#"["REQ","s",{"kinds":[1]"#, "invalid: message ends too early"),
        (#"["REQ","s",{"kinds":[1]}"#, "invalid: message ends too early"),
        (#"["REQ","s",{"x":tr"#, "invalid: message ends too early"),
        (#"["REQ","s",{"kinds""#, "invalid: message ends too early"),
        (#"["CLOSE","s"#, "invalid: string is not terminated"),
        (#"["CLOSE","s\"#, "invalid: string is not terminated"),
        (#"["CLOSE","s\""#, "invalid: string is not terminated"),
        (#"["CLOSE","\u00"#, "invalid: string is not terminated"),
        (#"["EVENT",{"id":"6aee"#, "invalid: string is not terminated"),
    ])
    func truncated(_ input: String, _ reason: String) {
        expectRefused(input, .truncated, reason)
    }

    @Test("every proper prefix of a valid EVENT message is refused as truncated, never misread",
          arguments: Fixture.vectors.filter { $0.json.utf8.count < 1500 })
    func everyPrefix(_ vector: Vector) {
        for message in [vector.eventMessage, #"["EVENT","#.bytes + vector.jsonASCII.bytes + "]".bytes] {
            for length in 0..<message.count {
                do {
                    let decoded = try ClientMessage.decode(Array(message[..<length]))
                    Issue.record("prefix of \(length) bytes accepted: \(decoded)")
                } catch {
                    if error.code != .truncated {
                        Issue.record("prefix of \(length) bytes of \(vector.name): \(error)")
                        return
                    }
                }
            }
        }
    }

    // MARK: Depth

    static func nested(_ levels: Int) -> String {
        String(repeating: "[", count: levels) + String(repeating: "]", count: levels)
    }

    @Test("nesting up to JSONReader.maxDepth is read; one level more is refused as too-deep")
    func depth() throws {
        #expect(JSONReader.maxDepth == 12)
        let reason = "invalid: JSON nested deeper than 12 levels"
        // The message array and the event object are two levels; the rest is an unknown member.
        let fits = JSONReader.maxDepth - 2
        _ = try decode(event.adding("extra", Self.nested(fits)).eventMessage)
        expectRefused(event.adding("extra", Self.nested(fits + 1)).eventMessage, .tooDeep, reason)
        let objects = String(repeating: #"{"a":"#, count: fits + 1) + "1" + String(repeating: "}", count: fits + 1)
        expectRefused(event.adding("extra", objects).eventMessage, .tooDeep, reason)
        _ = try decode(#"["REQ","s",{"x":\#(Self.nested(fits))}]"#)
        expectRefused(#"["REQ","s",{"x":\#(Self.nested(fits + 1))}]"#, .tooDeep, reason)
    }

    @Test("a nesting bomb is refused at the limit without recursing into it")
    func nestingBomb() {
        let bomb = String(repeating: "[", count: 200_000)
        expectRefused(event.adding("extra", bomb).eventMessage, .tooDeep, "invalid: JSON nested deeper than 12 levels")
        expectRefused(bomb, .wrongType, #"invalid: "message type" must be a string"#)
    }

    // MARK: UTF-8

    @Test("strings that are not valid UTF-8 are refused as invalid-utf8", arguments: [
        [0xff], [0xc0, 0xaf], [0xe2, 0x82], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
    ] as [[UInt8]])
    func invalidUTF8(_ bad: [UInt8]) {
        let reason = "invalid: string is not valid UTF-8"
        func message(_ before: String, _ after: String) -> [UInt8] { before.bytes + bad + after.bytes }
        let parts = event.replacing("content", with: "\u{1}").object.split(separator: "\u{1}").map(String.init)
        expectRefused(message(#"["EVENT","# + parts[0] + "\"a", "b\"" + parts[1] + "]"), .invalidUTF8, reason)
        // The same after an escape, where the reader builds the string byte by byte.
        expectRefused(message(#"["EVENT","# + parts[0] + #""\n"#, "\"" + parts[1] + "]"), .invalidUTF8, reason)
        expectRefused(message(#"["CLOSE",""#, #""]"#), .invalidUTF8, reason)
        expectRefused(message(#"[""#, #""]"#), .invalidUTF8, reason)
        expectRefused(message(##"["REQ","s",{"#t":[""##, #""]}]"#), .invalidUTF8, reason)
        expectRefused(message(#"["REQ","s",{""#, #"":1}]"#), .invalidUTF8, reason)
    }

    // MARK: Surrogates

    @Test("\\u escapes that leave a surrogate unpaired are refused as lone-surrogate", arguments: [
        (#"\ud83d"#, #"invalid: \u escape is a lone high surrogate"#),
        (#"\ud83dx"#, #"invalid: \u escape is a lone high surrogate"#),
        (#"\ud83d\n"#, #"invalid: \u escape is a lone high surrogate"#),
        (#"\uDBFF"#, #"invalid: \u escape is a lone high surrogate"#),
        (#"\ude00"#, #"invalid: \u escape is a lone low surrogate"#),
        (#"\uDC00"#, #"invalid: \u escape is a lone low surrogate"#),
        (#"x\ude00\ud83d"#, #"invalid: \u escape is a lone low surrogate"#),
        (#"\ud83d\u0041"#, "invalid: high surrogate not followed by a low one"),
        (#"\ud83d\ud83d"#, "invalid: high surrogate not followed by a low one"),
        (#"\ud800\ue000"#, "invalid: high surrogate not followed by a low one"),
    ])
    func loneSurrogate(_ escape: String, _ reason: String) {
        expectRefused(event.replacing("content", with: "\"\(escape)\"").eventMessage, .loneSurrogate, reason)
        expectRefused(#"["CLOSE","\#(escape)"]"#, .loneSurrogate, reason)
        expectRefused(##"["REQ","s",{"#t":["\##(escape)"]}]"##, .loneSurrogate, reason)
        expectRefused(event.replacing("tags", with: #"[["t","\#(escape)"]]"#).eventMessage, .loneSurrogate, reason)
    }

    @Test("a surrogate pair decodes to the one character outside the BMP")
    func surrogatePair() throws {
        for pair in [#"\ud83d\ude00"#, #"\uD83D\uDE00"#, #"\ud800\udc00"#, #"\udbff\udfff"#] {
            guard case .close(let id) = try decode(#"["CLOSE","\#(pair)"]"#) else {
                Issue.record("not a CLOSE")
                continue
            }
            #expect(id.value.unicodeScalars.count == 1)
            #expect(id.value.unicodeScalars.first!.value >= 0x10000)
        }
    }

    // MARK: Size

    @Test("a message longer than maxLength is refused as too-large before it is read")
    func tooLarge() throws {
        let message = #"["CLOSE","sub"]"#
        _ = try ClientMessage.decode(message.bytes, maxLength: message.utf8.count)
        expectRefused(message, .tooLarge, "invalid: message is larger than 14 bytes", maxLength: 14)
        // Refused by size alone: the bytes are not even looked at.
        expectRefused([UInt8](repeating: 0xff, count: 15), .tooLarge, "invalid: message is larger than 14 bytes",
                      maxLength: 14)
        let big = event.replacing("content", with: "\"" + String(repeating: "a", count: 600_000) + "\"").eventMessage
        expectRefused(big, .tooLarge, "invalid: message is larger than 524288 bytes")
    }

    // MARK: Trailing data

    @Test("anything but whitespace after the message is refused as trailing-data", arguments: [
        #"["CLOSE","s"]x"#, #"["CLOSE","s"]]"#, #"["CLOSE","s"][]"#, #"["CLOSE","s"] ["CLOSE","t"]"#,
        "[\"CLOSE\",\"s\"]\u{0}", #"["CLOSE","s"],"#,
    ])
    func trailingData(_ input: String) {
        expectRefused(input, .trailingData, "invalid: unexpected data after the message")
    }

    @Test("whitespace around and inside a message is allowed")
    func whitespace() throws {
        #expect(try decode(" \t\r\n[ \"CLOSE\" ,\n\t\"s\" ] \r\n") == .close(SubscriptionID("s")))
    }

    @Test("EventDecoder and Filter.decode refuse trailing data too")
    func trailingDataOutsideMessages() {
        #expect(throws: WireError.self) { try EventDecoder.decode(json: (event.object + "}").bytes) }
        #expect(throws: WireError.self) { try Filter.decode(json: #"{"kinds":[1]} {}"#.bytes) }
        do {
            _ = try EventDecoder.decode(json: (event.object + " x").bytes)
            Issue.record("accepted")
        } catch {
            #expect(error.code == .trailingData)
            #expect(error.reason == "invalid: unexpected data after the message")
        }
    }
}
